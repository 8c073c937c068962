// Persistence benchmark: snapshot and restore time and bytes for a generated agent state of about
// 50 MB, the cost of a snapshot when nothing changed and after one more turn, and the restore set
// against the gateway's own start. The container's script (container/agent-state.mjs) runs as it
// does in the container, against a stand-in for the Worker's state.internal host (bench/lib/
// state-host.mjs: same routes, same write-new-only rule, objects on disk instead of R2).
//
//   node_modules/.bin/node bench/state.mjs [--no-gateway]
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { startStateHost } from "./lib/state-host.mjs";

const HERE = import.meta.dirname;
const SCRIPT = path.join(HERE, "..", "container", "agent-state.mjs");
const run = promisify(execFile);
const MB = 1024 * 1024;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "molt-bench-state-"));
const home = path.join(root, "home");
const state = path.join(home, ".openclaw");

/** A state of about 50 MB: an agent database of transcripts, the global database, a workspace. */
function generate() {
  fs.mkdirSync(path.join(state, "state"), { recursive: true });
  fs.mkdirSync(path.join(state, "agents/main/agent"), { recursive: true });
  fs.mkdirSync(path.join(state, "workspace/memory"), { recursive: true });
  fs.mkdirSync(path.join(state, "credentials"), { recursive: true });
  const agent = new DatabaseSync(path.join(state, "agents/main/agent/openclaw-agent.sqlite"));
  agent.exec("PRAGMA journal_mode=WAL; CREATE TABLE transcript_events (id INTEGER PRIMARY KEY, session TEXT, at INTEGER, event_json TEXT)");
  const insert = agent.prepare("INSERT INTO transcript_events (session, at, event_json) VALUES (?, ?, ?)");
  agent.exec("BEGIN");
  for (let i = 0; i < 20_000; i += 1) insert.run(`slack:T1:C${i % 50}`, Date.now(), JSON.stringify({ role: i % 2 ? "assistant" : "user", text: crypto.randomBytes(1400).toString("base64") }));
  agent.exec("COMMIT");
  agent.close();
  const global = new DatabaseSync(path.join(state, "state/openclaw.sqlite"));
  global.exec("PRAGMA journal_mode=WAL; CREATE TABLE device_identities (id TEXT PRIMARY KEY, json TEXT); CREATE TABLE paired_devices (id TEXT PRIMARY KEY, json TEXT)");
  const device = global.prepare("INSERT INTO paired_devices VALUES (?, ?)");
  for (let i = 0; i < 2_000; i += 1) device.run(`d${i}`, crypto.randomBytes(700).toString("base64"));
  global.close();
  for (let i = 0; i < 40; i += 1) fs.writeFileSync(path.join(state, `workspace/memory/2026-10-${String(i).padStart(2, "0")}.md`), crypto.randomBytes(150_000).toString("base64"));
  for (const name of ["MEMORY.md", "USER.md", "IDENTITY.md", "SOUL.md", "AGENTS.md"]) fs.writeFileSync(path.join(state, "workspace", name), `# ${name}\n${"notes ".repeat(2000)}\n`);
  fs.writeFileSync(path.join(state, "credentials/oauth.json"), JSON.stringify({ token: crypto.randomBytes(64).toString("hex") }));
  // Logs and caches are not kept.
  fs.mkdirSync(path.join(state, "logs"), { recursive: true });
  fs.writeFileSync(path.join(state, "logs/gateway.log"), crypto.randomBytes(5 * MB));
  fs.writeFileSync(path.join(state, ".molt-state.json"), "{}\n");
}

function sizeOf(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

async function agentState(args, env) {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * MB });
  return { ms: performance.now() - started, result: JSON.parse(stdout.trim().split("\n").at(-1)) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  generate();
  const host = await startStateHost(path.join(root, "store"));
  const env = { HOME: home, OPENCLAW_HOME: home, MOLT_STATE_URL: host.url };
  const results = { machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))) } };
  results.stateOnDisk = sizeOf(state);

  host.reset();
  const first = await agentState(["snapshot"], env);
  results.firstSnapshot = { ms: first.ms, files: first.result.files.length, bytes: first.result.files.reduce((s, f) => s + f.size, 0), uploaded: host.counters.bytesIn, puts: host.counters.put };
  host.publish(1, first.result);

  const unchanged = [];
  for (let i = 0; i < 5; i += 1) {
    host.reset();
    const again = await agentState(["snapshot"], env);
    unchanged.push({ ms: again.ms, uploaded: host.counters.bytesIn, heads: host.counters.head });
  }
  results.unchangedSnapshot = { medianMs: median(unchanged.map((u) => u.ms)), uploaded: Math.max(...unchanged.map((u) => u.uploaded)), heads: unchanged[0].heads };

  // One more turn: a few rows in the agent database, a line in MEMORY.md.
  const agent = new DatabaseSync(path.join(state, "agents/main/agent/openclaw-agent.sqlite"));
  agent.prepare("INSERT INTO transcript_events (session, at, event_json) VALUES (?, ?, ?)").run("slack:T1:C1", Date.now(), JSON.stringify({ role: "user", text: "one more turn" }));
  agent.close();
  fs.appendFileSync(path.join(state, "workspace/MEMORY.md"), "- likes tea\n");
  host.reset();
  const turn = await agentState(["snapshot"], env);
  results.afterOneTurn = { ms: turn.ms, uploaded: host.counters.bytesIn, puts: host.counters.put };
  host.publish(2, turn.result);

  const restores = [];
  for (let i = 0; i < 3; i += 1) {
    const fresh = path.join(root, `fresh-${i}`);
    fs.mkdirSync(fresh);
    host.reset();
    const restored = await agentState(["restore", "2"], { HOME: fresh, OPENCLAW_HOME: fresh, MOLT_STATE_URL: host.url });
    restores.push({ ms: restored.ms, bytes: restored.result.bytes, downloaded: host.counters.bytesOut, files: restored.result.files });
  }
  results.restore = { medianMs: median(restores.map((r) => r.ms)), runsMs: restores.map((r) => Math.round(r.ms)), bytes: restores[0].bytes, downloaded: restores[0].downloaded, files: restores[0].files };

  if (!process.argv.includes("--no-gateway")) {
    // The gateway's own start on an empty home, for comparison (the restore runs before it).
    const { startGateway } = await import("../test/support/gateway-process.mjs");
    const started = performance.now();
    const gateway = await startGateway({ token: "bench-token-0123456789", timeoutMs: 240_000 });
    results.gatewayStartMs = performance.now() - started;
    await gateway.stop();
  }
  await host.close();
  fs.rmSync(root, { recursive: true, force: true });
  console.log(JSON.stringify(results, null, 2));
}

await main();
