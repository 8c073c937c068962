// Serves a built Worker in plain workerd: this module writes workerd's capnp config and spawns the
// binary that this project's wrangler ships with. Requests go straight from the load generator to
// the Worker: no Miniflare entry worker and no Node proxy in front of it.
//
// What the ack bench needs from wrangler.toml is declared: compatibility settings, every Durable
// Object class (SQLite storage on local disk), and the R2 buckets as bindings that fail when used
// (plain workerd has no R2; the ack path doesn't touch it). Containers and [browser] are left out.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { deploymentConfig } from "../worker-host.mjs";

const REPO = path.resolve(import.meta.dirname, "../..");
const READY_TIMEOUT_MS = 30_000;

/** The workerd binary of this project's wrangler (the one `wrangler dev` would run). */
export function workerdBinary() {
  return createRequire(path.join(REPO, "node_modules/wrangler/package.json"))("workerd").default;
}

/** A Cap'n Proto text literal: only `\`, `"` and control characters need escaping. */
function str(value) {
  return `"${String(value).replace(/[\\"\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;
}

// R2 stand-in: an r2Bucket binding turns every call into an HTTP request to this service, which
// answers 501, so the call throws in the Worker with this message (R2 reads its error from the
// cf-r2-error header). Nothing on the ack path uses R2.
const R2_UNAVAILABLE = `const error = { version: 0, v4code: 10001, message: "R2 is not available in the bench's plain workerd host" };
export default {
  fetch: () => new Response(error.message, { status: 501, headers: { "cf-r2-error": JSON.stringify(error) } }),
};`;

function capnpConfig({ name, modules, config, bindings, diskPath }) {
  const classes = [...new Set(Object.values(config.durableObjects).map((d) => d.className))];
  const workerBindings = [
    ...Object.entries(bindings).map(([key, value]) => `(name = ${str(key)}, text = ${str(value)})`),
    ...Object.entries(config.durableObjects).map(([key, d]) => `(name = ${str(key)}, durableObjectNamespace = ${str(d.className)})`),
    ...config.r2Buckets.map((key) => `(name = ${str(key)}, r2Bucket = "r2-unavailable")`),
  ];
  const services = [
    `(name = ${str(name)}, worker = .worker)`,
    // The Worker calls loopback (the Slack sink, the gateway): workerd's default "internet"
    // service would only allow public addresses.
    `(name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true)))`,
  ];
  if (classes.length) services.push(`(name = "do-disk", disk = (path = ${str(diskPath)}, writable = true))`);
  if (config.r2Buckets.length) {
    services.push(`(name = "r2-unavailable", worker = (modules = [(name = "r2-unavailable.js", esModule = embed "r2-unavailable.js")], compatibilityDate = ${str(config.compatibilityDate)}))`);
  }
  const list = (items, indent) => items.map((item) => `${indent}${item},`).join("\n");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${list(services, "    ")}
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = ${str(name)})],
);

const worker :Workerd.Worker = (
  modules = [
${list(modules.map((m) => `(name = ${str(m.name)}, esModule = embed ${str(m.embed)})`), "    ")}
  ],
  compatibilityDate = ${str(config.compatibilityDate)},
  compatibilityFlags = [${config.compatibilityFlags.map(str).join(", ")}],
  bindings = [
${list(workerBindings, "    ")}
  ],
  durableObjectNamespaces = [
${list(classes.map((c) => `(className = ${str(c)}, uniqueKey = ${str(`${name}-${c}`)}, enableSql = true)`), "    ")}
  ],
${classes.length ? `  durableObjectStorage = (localDisk = "do-disk"),\n` : ""});
`;
}

/** Answers at all (any status): the Worker is loaded and the socket serves. */
function answers(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.setTimeout(2_000, () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/**
 * @param {object} o
 * @param {string} o.scriptPath   the bundled entry module (its directory's other .js files are modules too)
 * @param {Record<string,string>} [o.bindings]  vars and secrets, as text bindings
 * @param {string} [o.storageRoot]  where the Durable Object storage directory goes (/dev/shm for tmpfs)
 * @param {(text: string) => void} [o.onLog]  workerd's stdout and stderr
 * @param {number} [o.inspectorPort]  V8 inspector (lib/profile.mjs); its target is `name`
 * @param {object} [o.config]  compatibility settings, Durable Objects and R2 buckets (default: wrangler.toml)
 * @param {string} [o.name]  the Worker's service name
 * @returns {Promise<{url: string, storage: string, pid: number, dispose(): Promise<void>}>}
 */
export async function startWorkerd({ scriptPath, bindings = {}, storageRoot = os.tmpdir(), onLog, inspectorPort, config = deploymentConfig(), name = "molt-relay" }) {
  const storage = fs.mkdtempSync(path.join(storageRoot, "molt-bench-workerd-"));
  const diskPath = path.join(storage, "do");
  fs.mkdirSync(diskPath);
  // The entry module first (workerd's main module), then any other module wrangler emitted
  // (chunks of dynamic imports); the .map and README.md beside them are not modules.
  const dir = path.dirname(path.resolve(scriptPath));
  const others = fs.readdirSync(dir).filter((f) => f.endsWith(".js") && f !== path.basename(scriptPath)).sort();
  // `embed` paths are relative to the config file (absolute ones are looked up as imports).
  const modules = [path.basename(scriptPath), ...others].map((f) => ({ name: f, embed: path.relative(storage, path.join(dir, f)) }));
  fs.writeFileSync(path.join(storage, "r2-unavailable.js"), R2_UNAVAILABLE);
  const configPath = path.join(storage, "config.capnp");
  fs.writeFileSync(configPath, capnpConfig({ name, modules, config, bindings, diskPath }));

  // fd 3 is workerd's control channel: it reports the port it bound for socket "http" (port 0).
  const args = ["serve", configPath, "--control-fd=3"];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const child = spawn(workerdBinary(), args, { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let tail = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (d) => {
      tail = (tail + d).slice(-4000);
      onLog?.(String(d));
    });
  }
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));

  async function dispose() {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(storage, { recursive: true, force: true });
  }

  try {
    const port = await new Promise((resolve, reject) => {
      let lines = "";
      child.stdio[3].on("data", (d) => {
        lines += d;
        for (const line of lines.split("\n").slice(0, -1)) {
          const msg = JSON.parse(line);
          if (msg.event === "listen" && msg.socket === "http") resolve(msg.port);
        }
        lines = lines.slice(lines.lastIndexOf("\n") + 1);
      });
      exited.then((status) => reject(new Error(`workerd exited (${status}) before listening:\n${tail}`)));
      setTimeout(() => reject(new Error(`workerd did not listen within ${READY_TIMEOUT_MS} ms:\n${tail}`)), READY_TIMEOUT_MS).unref();
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await answers(url))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`workerd does not answer on ${url}:\n${tail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { url, storage, pid: child.pid, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
