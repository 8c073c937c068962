// Serves the BUILT Worker (wrangler's dry-run output) in workerd through Miniflare's programmatic
// API: no wrangler dev, no Node proxy in the request path. Miniflare only writes workerd's config
// and supplies what plain workerd lacks (R2, SQLite Durable Object storage on disk); requests go
// straight to workerd's socket. See README.md ("Why Miniflare and not a hand-written capnp file").
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const REPO = path.resolve(import.meta.dirname, "..");

/** The Miniflare (and so the workerd) that this project's wrangler ships with. */
export async function loadMiniflare() {
  const fromWrangler = createRequire(path.join(REPO, "node_modules/wrangler/package.json"));
  const entry = fromWrangler.resolve("miniflare");
  const version = JSON.parse(fs.readFileSync(fromWrangler.resolve("workerd/package.json"), "utf8")).version;
  const { Miniflare, convertV4MiniflareOptions } = await import(pathToFileURL(entry).href);
  return { Miniflare, convertV4MiniflareOptions, workerdVersion: version };
}

/**
 * Compatibility settings, Durable Objects and R2 buckets read from wrangler.toml, so the bench runs
 * what would be deployed (a small reader for the few keys used: no TOML dependency).
 */
export function deploymentConfig() {
  const toml = fs.readFileSync(path.join(REPO, "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  const tables = (header) =>
    toml.split(/^(?=\[)/m).filter((block) => block.startsWith(`[[${header}]]`)).map((block) => Object.fromEntries(
      [...block.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]),
    ));
  const durableObjects = Object.fromEntries(
    tables("durable_objects.bindings").map((b) => [b.name, { className: b.class_name, useSQLite: true }]),
  );
  return {
    compatibilityDate: date,
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]),
    durableObjects,
    r2Buckets: tables("r2_buckets").map((b) => b.binding),
  };
}

/**
 * @param {object} o
 * @param {string} o.scriptPath   the bundled index.js
 * @param {Record<string,string>} o.bindings  vars and secrets
 * @returns {Promise<{url: string, dispose(): Promise<void>, storage: string}>}
 */
export async function startWorker({ scriptPath, bindings, storageRoot = os.tmpdir(), onLog, inspectorPort }) {
  const { Miniflare, convertV4MiniflareOptions } = await loadMiniflare();
  const storage = fs.mkdtempSync(path.join(storageRoot, "molt-bench-do-"));
  // This Miniflare (5.x) takes a new options shape; the classic (v4) one converts to it.
  const mf = new Miniflare(convertV4MiniflareOptions({
    name: "molt-relay",
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath),
    ...deploymentConfig(),
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    bindings,
    // On disk, like a deployed Durable Object (not workerd's in-memory storage).
    resourcePersistencePath: storage,
    handleRuntimeStdio(stdout, stderr) {
      // workerd's console output: keep it out of the bench's, but drain it.
      if (onLog) {
        stdout.on("data", (d) => onLog(String(d)));
        stderr.on("data", (d) => onLog(String(d)));
      } else {
        stdout.resume();
        stderr.resume();
      }
    },
  }));
  const url = (await mf.ready).href.replace(/\/$/, "");
  return {
    url,
    storage,
    async dispose() {
      await mf.dispose();
      fs.rmSync(storage, { recursive: true, force: true });
    },
  };
}
