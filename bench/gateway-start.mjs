/**
 * How long the OpenClaw gateway takes to start (start script -> /readyz answers 200), as the
 * container starts it, optionally under a CPU quota that stands for standard-1's half vCPU.
 *
 *   node bench/gateway-start.mjs [--runs 2] [--cpu-quota 0.5]
 *
 * `--cpu-quota` puts this process (and so the gateway it starts) in a cgroup v1 `cpu` group with
 * that share of one CPU (needs write access to /sys/fs/cgroup/cpu). Results print as JSON.
 */
import fs from "node:fs";
import os from "node:os";
import { startGateway } from "../test/support/gateway-process.mjs";
import { startModelServer } from "../test/support/model-server.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const runs = Number(option("--runs", 2));
const quota = option("--cpu-quota", undefined);

if (quota) {
  const group = `/sys/fs/cgroup/cpu/molt-bench-${process.pid}`;
  fs.mkdirSync(group);
  fs.writeFileSync(`${group}/cpu.cfs_period_us`, "100000");
  fs.writeFileSync(`${group}/cpu.cfs_quota_us`, String(Math.round(Number(quota) * 100000)));
  fs.writeFileSync(`${group}/cgroup.procs`, String(process.pid));
  process.on("exit", () => {
    try {
      fs.writeFileSync("/sys/fs/cgroup/cpu/cgroup.procs", String(process.pid));
      fs.rmdirSync(group);
    } catch {
      // left for the system to clean
    }
  });
}

const model = await startModelServer({ port: 0 });
const results = [];
for (let i = 0; i < runs; i++) {
  const load = os.loadavg()[0];
  const gateway = await startGateway({ token: "bench-token-0123456789", modelUrl: model.url, timeoutMs: 900_000 });
  results.push({ startupMs: gateway.startupMs, loadAverageBefore: Number(load.toFixed(1)) });
  await gateway.stop();
}
await model.close();
console.log(JSON.stringify({ cpuQuota: quota ? Number(quota) : null, cores: os.cpus().length, runs: results }, null, 2));
process.exit(0);
