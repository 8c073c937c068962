// Benchmark 1: the Worker bundle as `wrangler deploy` would upload it (dry run, no Docker:
// --containers-rollout=none), raw and gzip, plus a minified build with a per-package breakdown.
// Leaves the builds in `outRoot` for the other benchmarks (the ack bench serves `worker`).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const REPO = path.resolve(import.meta.dirname, "..");
const WRANGLER = path.join(REPO, "node_modules/.bin/wrangler");
const KiB = 1024;

function dryRun(outdir, { entry, minify = false, metafile } = {}) {
  fs.rmSync(outdir, { recursive: true, force: true });
  const args = ["deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outdir, "--containers-rollout=none"];
  if (minify) args.push("--minify");
  if (metafile) args.push("--metafile", metafile);
  const log = execFileSync(WRANGLER, args, {
    cwd: REPO,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
  });
  const reported = /Total Upload: ([\d.,]+) KiB \/ gzip: ([\d.,]+) KiB/.exec(log);
  const script = fs.readdirSync(outdir).find((f) => f.endsWith(".js"));
  const bytes = fs.readFileSync(path.join(outdir, script));
  return {
    script: path.join(outdir, script),
    rawKiB: bytes.length / KiB,
    gzipKiB: zlib.gzipSync(bytes, { level: 9 }).length / KiB,
    wrangler: reported ? { rawKiB: Number(reported[1].replace(",", "")), gzipKiB: Number(reported[2].replace(",", "")) } : null,
  };
}

/** Bytes in the minified output per npm package (or `src`), from esbuild's metafile. */
function breakdown(metafile) {
  const meta = JSON.parse(fs.readFileSync(metafile, "utf8"));
  const output = Object.values(meta.outputs).find((o) => o.inputs && Object.keys(o.inputs).length > 0);
  const by = {};
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    let key = "other";
    if (input.includes("node_modules/")) {
      const parts = input.split("node_modules/").pop().split("/");
      key = parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    } else if (input.startsWith("src/")) key = "src (molt-relay)";
    by[key] = (by[key] ?? 0) + bytesInOutput;
  }
  return Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => ({ name, KiB: bytes / KiB }));
}

export function runBundle(outRoot) {
  const worker = dryRun(path.join(outRoot, "worker"));
  const metafile = path.join(outRoot, "meta.json");
  const minified = dryRun(path.join(outRoot, "worker-min"), { minify: true, metafile });
  // The profiling variant (bridge alarm switched off), for the ack bench only.
  const ackOnly = dryRun(path.join(outRoot, "ack-only"), { entry: "bench/ack-only-worker.ts" });
  return { worker, minified, packages: breakdown(metafile).slice(0, 8), ackOnlyScript: ackOnly.script };
}
