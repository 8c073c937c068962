// `npm run bench`: the bundle size, Slack ack latency/throughput against @slack/bolt, and the
// delta-to-post overhead, one after another; prints a summary and writes results/latest.json and
// results/latest.md (the tables README.md is written from). Only loopback is used.
//
//   npm run bench                 all three
//   npm run bench -- bundle ack   a subset (delta needs the bundle step's build too)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runAck } from "./ack.mjs";
import { runBundle } from "./bundle.mjs";
import { runDelta } from "./delta.mjs";
import { loadMiniflare } from "./worker-host.mjs";
import { renderMarkdown } from "./lib/report.mjs";

const HERE = import.meta.dirname;
const only = process.argv.slice(2);
const wants = (name) => only.length === 0 || only.includes(name);
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "molt-bench-build-"));
const log = (message) => console.log(message);
const started = Date.now();

const machine = {
  cpu: os.cpus()[0]?.model,
  cores: os.availableParallelism(),
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  workerd: (await loadMiniflare()).workerdVersion,
  loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  date: new Date().toISOString(),
};
log(`molt-relay bench on ${machine.cores} × ${machine.cpu}, Node ${machine.node}, workerd ${machine.workerd}; load average ${machine.loadAverageAtStart.join(" ")}`);

const results = { machine };
try {
  log("\n[1/3] bundle (wrangler deploy --dry-run)");
  const bundle = runBundle(outRoot);
  results.bundle = { ...bundle, ackOnlyScript: undefined };
  log(`  Worker: ${bundle.worker.rawKiB.toFixed(1)} KiB raw, ${bundle.worker.gzipKiB.toFixed(1)} KiB gzip (minified: ${bundle.minified.rawKiB.toFixed(1)} / ${bundle.minified.gzipKiB.toFixed(1)} KiB)`);
  log(`  largest parts (minified): ${bundle.packages.slice(0, 5).map((p) => `${p.name} ${p.KiB.toFixed(0)} KiB`).join(", ")}`);

  if (wants("ack")) {
    log("\n[2/3] Slack ack latency and throughput (workerd vs @slack/bolt)");
    results.ack = await runAck({ workerScript: bundle.worker.script, ackOnlyScript: bundle.ackOnlyScript, log });
  }
  if (wants("delta")) {
    log("\n[3/3] gateway first delta → first Slack post");
    results.delta = await runDelta({ workerScript: bundle.worker.script, log });
  }
} finally {
  fs.rmSync(outRoot, { recursive: true, force: true });
  machine.loadAverageAtEnd = os.loadavg().map((v) => Number(v.toFixed(2)));
  machine.minutes = Number(((Date.now() - started) / 60_000).toFixed(1));
  fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
  fs.writeFileSync(path.join(HERE, "results/latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(HERE, "results/latest.md"), renderMarkdown(results));
}

log("\n== summary ==");
const b = results.bundle;
if (b) log(`bundle: ${b.worker.rawKiB.toFixed(0)} KiB raw / ${b.worker.gzipKiB.toFixed(0)} KiB gzip (notes: moltworker 1,145 / 228; + @slack/bolt would add ~520 gzip)`);
for (const r of results.ack?.results ?? []) {
  log(`${r.name}: @200 req/s p50 ${r.fixed.latency.p50.toFixed(1)} ms p99 ${r.fixed.latency.p99.toFixed(1)} ms; max sustained ${r.maxSustainedRate} req/s; closed loop ${r.closed.throughput.toFixed(0)} req/s`);
}
for (const floor of results.ack?.floors ?? []) {
  log(`${floor.label}: closed loop ${floor.closed.throughput.toFixed(0)} req/s, p99 ${floor.closed.latency.p99.toFixed(1)} ms`);
}
const bolt = results.ack?.results.find((r) => r.name === "bolt");
const floorStore = results.ack?.floors?.find((r) => r.name === "floor-store");
for (const name of ["ack-only-tmpfs", "worker-tmpfs"]) {
  const worker = results.ack?.results.find((r) => r.name === name);
  if (!bolt || !worker) continue;
  const p99 = worker.fixed.latency.p99;
  log(
    `targets (${name}): p99 ≤ 20 ms at 200 req/s: ${p99 <= 20 ? "MET" : "NOT MET"} (${p99.toFixed(1)} ms); ` +
      `throughput ≥ Bolt: ${worker.closed.throughput >= bolt.closed.throughput ? "MET" : "NOT MET"} ` +
      `(${worker.closed.throughput.toFixed(0)} vs ${bolt.closed.throughput.toFixed(0)} req/s` +
      `${floorStore ? `; one durable write alone: ${floorStore.closed.throughput.toFixed(0)}` : ""})`,
  );
}
