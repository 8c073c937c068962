// Benchmark 2: Slack ack latency and throughput. The built Worker (in plain workerd,
// lib/workerd-host.mjs) against @slack/bolt's HTTPReceiver (Node), with the same signed
// app_mention deliveries. A trivial Worker in the same host gives the runtime's own floor.
//
// Per target: a warm-up, a fixed 200 req/s phase (the issue's latency target), a step-up of
// open-loop rates to find the highest rate sustained (no errors, p99 <= 100 ms), and a closed
// loop (16 senders) for the most it can answer. Every Worker phase gets a fresh runtime with
// fresh storage, so background turns left over from one phase don't load the next.
import { execFile, spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { cpuMs } from "./lib/cpu.mjs";
import { startProfile } from "./lib/profile.mjs";
import { BENCH_BOT_TOKEN, BENCH_SIGNING_SECRET } from "./lib/slack-events.mjs";
import { startSlackSink } from "./lib/slack-sink.mjs";
import { startWorkerd } from "./lib/workerd-host.mjs";
import { deploymentConfig } from "./worker-host.mjs";

const NODE = process.execPath;
const LOADGEN = path.join(import.meta.dirname, "lib/loadgen.mjs");
const run = promisify(execFile);

export const FIXED_RATE = 200;
const FIXED_SECONDS = 10;
const STEP_RATES = [25, 50, 100, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200, 4800];
const STEP_SECONDS = 4;
const SUSTAINED_P99_MS = 100;
const CLOSED = { concurrency: 16, seconds: 8 };

let runCounter = 0;
async function load(url, options) {
  const { stdout } = await run(NODE, [LOADGEN, JSON.stringify({ url, run: `R${++runCounter}`, ...options })], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop());
}

const sustained = (r) => Object.keys(r.errors).length === 0 && r.latency.p99 <= SUSTAINED_P99_MS;

/** A server under test: `start()` gives {url, cpu(), stats(), stop()}. */
function boltTarget(sinkUrl) {
  return {
    name: "bolt",
    label: "@slack/bolt 5.1.0 HTTPReceiver (Node)",
    async start() {
      const child = spawn(NODE, [path.join(import.meta.dirname, "lib/bolt-server.mjs"), sinkUrl], { stdio: ["ignore", "pipe", "pipe"] });
      const port = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /ready (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on("exit", (code) => reject(new Error(`bolt exited ${code}`)));
      });
      child.stderr.resume();
      return {
        url: `http://127.0.0.1:${port}/slack/events`,
        cpu: () => cpuMs(child.pid),
        stats: () => ({}),
        async stop() {
          child.kill("SIGTERM");
          await new Promise((resolve) => child.once("exit", resolve));
        },
      };
    },
  };
}

function workerTarget({ name, label, scriptPath, storageRoot, sink, closedGateway }) {
  return {
    name,
    label,
    async start({ inspectorPort } = {}) {
      sink.reset();
      const worker = await startWorkerd({
        scriptPath,
        storageRoot,
        inspectorPort,
        bindings: {
          GATEWAY_TOKEN: "bench-gateway-token",
          // Nothing listens there: turns find the gateway unreachable and retry with backoff.
          GATEWAY_URL: closedGateway,
          SLACK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
          SLACK_BOT_TOKEN: BENCH_BOT_TOKEN,
          SLACK_API_URL: sink.url,
        },
      });
      return {
        url: `${worker.url}/slack/events`,
        base: worker.url,
        cpu: () => cpuMs(worker.pid),
        stats: () => ({ backgroundSlackCalls: { ...sink.counts } }),
        stop: () => worker.dispose(),
      };
    },
  };
}

/**
 * What plain workerd itself can do here, in the same host as the real Worker, with the
 * deployment's compatibility settings: a Worker that answers 200 to everything, and one that
 * also stores each request in a warm SQLite Durable Object first (the least a store-then-ack
 * Worker does).
 */
const FLOORS = [
  { name: "floor", label: "trivial Worker → 200 (plain workerd's floor)", script: "floor-worker.mjs", durableObjects: {} },
  {
    name: "floor-store",
    label: "trivial Worker + one SQLite write in a warm Durable Object → 200",
    script: "floor-store-worker.mjs",
    durableObjects: { FLOOR: { className: "FloorStore", useSQLite: true } },
  },
];

function floorTarget({ name, label, script, durableObjects }) {
  return {
    name,
    label,
    async start() {
      const worker = await startWorkerd({
        scriptPath: path.join(import.meta.dirname, script),
        storageRoot: "/dev/shm",
        config: { ...deploymentConfig(), durableObjects, r2Buckets: [] },
      });
      return {
        url: `${worker.url}/slack/events`,
        cpu: () => cpuMs(worker.pid),
        stats: () => ({}),
        stop: () => worker.dispose(),
      };
    },
  };
}

/** One measured phase on a started server: load + the server's CPU over it. */
async function measure(server, options) {
  const before = server.cpu();
  const result = await load(server.url, options);
  const cpu = server.cpu() - before;
  return { ...result, serverCpuMsPerOk: result.ok ? cpu / result.ok : null, serverCores: cpu / 1000 / result.seconds, loadAverage1m: os.loadavg()[0], ...server.stats() };
}

async function phase(target, fresh, options, log) {
  const server = await fresh();
  try {
    await load(server.url, { mode: "open", rate: 50, seconds: 1 }); // warm-up (JIT, connections)
    const result = await measure(server, options);
    log(`  ${target.name} ${describe(options)}: ${line(result)}`);
    return result;
  } finally {
    await server.stop();
  }
}

async function benchTarget(target, log) {
  log(`- ${target.label}`);
  // Bolt keeps one process for all phases (it has no background work); the Worker starts afresh.
  const shared = target.name === "bolt" ? await target.start() : undefined;
  const fresh = shared ? async () => ({ ...shared, stop: async () => {} }) : () => target.start();
  try {
    const fixed = await phase(target, fresh, { mode: "open", rate: FIXED_RATE, seconds: FIXED_SECONDS }, log);
    const steps = [];
    for (const rate of STEP_RATES) {
      const result = await phase(target, fresh, { mode: "open", rate, seconds: STEP_SECONDS }, log);
      steps.push(result);
      if (!sustained(result)) break;
    }
    const closed = await phase(target, fresh, { mode: "closed", ...CLOSED }, log);
    const passed = steps.filter(sustained);
    return { name: target.name, label: target.label, fixed, steps, closed, maxSustainedRate: passed.at(-1)?.offered ?? 0 };
  } finally {
    await shared?.stop();
  }
}

/** Where the Worker's time goes: a CPU profile at a modest rate, and the cost of its stages. */
async function profileWorker(target, log) {
  const server = await target.start({ inspectorPort: 9239 });
  let profile;
  let result;
  try {
    await load(server.url, { mode: "open", rate: 50, seconds: 1 });
    const profiler = await startProfile(9239);
    result = await load(server.url, { mode: "open", rate: 100, seconds: 5 });
    profile = await profiler.stop();
  } finally {
    await server.stop();
  }
  log(`  profile (100 req/s, profiler on): ${line(result)}`);
  const stages = {};
  for (const [stage, options] of [
    ["bad signature → 401 (no Durable Object)", { kind: "unsigned", expect: 401 }],
    ["url_verification (verify + parse, no Durable Object)", { kind: "challenge" }],
  ]) {
    const s = await target.start();
    try {
      await load(s.url, { mode: "open", rate: 50, seconds: 1, ...options });
      stages[stage] = await measure(s, { mode: "closed", ...CLOSED, ...options });
      log(`  ${stage}: ${line(stages[stage])}`);
    } finally {
      await s.stop();
    }
  }
  return { profile, profiledRun: result, stages };
}

export async function runAck({ workerScript, ackOnlyScript, log = console.log }) {
  const sink = await startSlackSink();
  const closedGateway = "ws://127.0.0.1:9"; // discard port: connection refused
  const worker = (name, label, scriptPath, storageRoot) => workerTarget({ name, label, scriptPath, storageRoot, sink, closedGateway });
  try {
    const results = [await benchTarget(boltTarget(sink.url), log)];
    // Beside Bolt, the runtime's floors: the closed loop only, the most plain workerd answers here.
    const floors = [];
    for (const spec of FLOORS) {
      const target = floorTarget(spec);
      log(`- ${target.label}`);
      floors.push({ name: target.name, label: target.label, closed: await phase(target, () => target.start(), { mode: "closed", ...CLOSED }, log) });
    }
    const wholeRelay = worker("worker-tmpfs", "molt-relay Worker, Durable Object storage on tmpfs", workerScript, "/dev/shm");
    const ackOnly = worker("ack-only-tmpfs", "ack path only: intake and bridge alarms off (on Cloudflare that work runs in other isolates), tmpfs", ackOnlyScript, "/dev/shm");
    for (const target of [ackOnly, wholeRelay]) results.push(await benchTarget(target, log));
    log("- where the Worker's time goes");
    const profile = await profileWorker(wholeRelay, log);
    // The disk target goes last: the writeback of its SQLite files would load whatever ran after it.
    results.push(await benchTarget(worker("worker-disk", "molt-relay Worker, Durable Object storage on disk", workerScript, os.tmpdir()), log));
    return { results, floors, profile };
  } finally {
    await sink.close();
  }
}

function describe(o) {
  return o.mode === "open" ? `${o.rate} req/s × ${o.seconds} s` : `closed, ${o.concurrency} senders × ${o.seconds} s`;
}

export function line(r) {
  const errors = Object.entries(r.errors).map(([k, v]) => `${k}×${v}`).join(" ");
  return `${r.ok}/${r.sent} ok, ${r.throughput.toFixed(0)} req/s, p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms, max ${r.latency.max.toFixed(1)} ms${errors ? `, errors ${errors}` : ""}`;
}
