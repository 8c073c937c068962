// Runs the REAL OpenClaw gateway on loopback for tests and local dev, through the same start
// script the container uses (container/start-gateway.mjs), with Node >= 24 from node_modules.
//
//   const gw = await startGateway({ token, modelUrl });   // gw.url = ws://127.0.0.1:<port>
//   ...; await gw.stop();
//
// Each gateway gets an isolated temp HOME (config, state, workspace, log file). Startup takes
// ~15-25 s on 2 cores; we wait (bounded) for GET /readyz to answer 200 ({"ready":true}).
// SIGTERM makes OpenClaw drain active runs for up to ~315 s and ignore further SIGTERMs, so
// stop() escalates to SIGKILL of the whole process group after a short grace period.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const START_SCRIPT = path.join(REPO, "container", "start-gateway.mjs");

/** Absolute path of a Node >= 24 binary: node_modules/.bin/node (the `node` devDependency). */
export function resolveNode24() {
  for (const p of [path.join(REPO, "node_modules", ".bin", "node"), path.join(REPO, "node_modules", "node", "bin", "node")]) {
    if (fs.existsSync(p)) return fs.realpathSync(p);
  }
  const [major] = process.versions.node.split(".").map(Number);
  if (major >= 24) return process.execPath;
  throw new Error("Node >= 24 not found: run `npm install` at the repo root (devDependency `node@24`)");
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} o
 * @param {string} o.token            gateway shared token (required)
 * @param {string} [o.modelUrl]       stand-in model base URL (MOLT_MODEL_BASE_URL); omit to use real providers from o.env
 * @param {number} [o.port]           default: a free loopback port
 * @param {string} [o.home]           default: a fresh temp dir (removed by stop() unless keepHome)
 * @param {string[]|string} [o.trustedProxies]
 * @param {object} [o.env]            extra env for the start script (e.g. MODEL, ANTHROPIC_API_KEY)
 * @param {number} [o.timeoutMs=240000] readiness budget (a start takes 15-25 s alone, minutes on a busy 2-core machine)
 * @param {boolean} [o.keepHome=false]
 */
export async function startGateway({ port, token, modelUrl, home, trustedProxies, env = {}, timeoutMs = 240_000, keepHome = false } = {}) {
  if (!token) throw new Error("startGateway: token is required");
  port ??= await freePort();
  const ownHome = !home;
  home ??= fs.mkdtempSync(path.join(os.tmpdir(), "molt-gw-"));
  const node = resolveNode24();

  const childEnv = {
    ...cleanEnv(process.env),
    ...env,
    HOME: home,
    OPENCLAW_HOME: home,
    GATEWAY_TOKEN: token,
    GATEWAY_PORT: String(port),
    GATEWAY_BIND: env.GATEWAY_BIND ?? "loopback",
    // Node 24 first on PATH for anything OpenClaw spawns.
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ""}`,
  };
  if (modelUrl) childEnv.MOLT_MODEL_BASE_URL = modelUrl;
  if (trustedProxies) childEnv.GATEWAY_TRUSTED_PROXIES = [].concat(trustedProxies).join(",");

  const started = Date.now();
  // detached: own process group, so stop() can kill the gateway's worker children too.
  const child = spawn(node, [START_SCRIPT], { env: childEnv, cwd: home, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let buf = "";
  const MAX = 2_000_000;
  const onData = (d) => { buf += d.toString("utf8"); if (buf.length > MAX) buf = buf.slice(-MAX / 2); };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  // Logs are from OpenClaw itself, which does not print the token; strip ANSI colours.
  const logs = () => buf.replace(/\x1b\[[0-9;]*m/g, "");
  let exited = null;
  const exitP = new Promise((resolve) => child.on("exit", (code, signal) => { exited = { code, signal }; resolve(exited); }));

  const httpUrl = `http://127.0.0.1:${port}`;
  const handle = {
    url: `ws://127.0.0.1:${port}`,
    httpUrl,
    port,
    home,
    token,
    pid: child.pid,
    startupMs: 0,
    logs,
    exited: () => exited,
    kill(signal = "SIGKILL") { try { process.kill(-child.pid, signal); } catch {} },
    async stop({ graceMs = 5000 } = {}) {
      if (!exited) {
        handle.kill("SIGTERM");
        await Promise.race([exitP, sleep(graceMs)]);
      }
      handle.kill("SIGKILL"); // the group: also reaps workers that outlive the main process
      await Promise.race([exitP, sleep(2000)]);
      if (ownHome && !keepHome) fs.rmSync(home, { recursive: true, force: true });
    },
  };

  // Wait until /readyz says ready (/healthz answers 200 slightly earlier, while sidecars still start).
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`gateway exited during startup (${JSON.stringify(exited)}):\n${logs().slice(-4000)}`);
    try {
      const res = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) { handle.startupMs = Date.now() - started; return handle; }
    } catch {}
    await sleep(250);
  }
  await handle.stop();
  throw new Error(`gateway not ready after ${timeoutMs} ms:\n${logs().slice(-4000)}`);
}

/**
 * Approves a pending device pairing request against a running gateway, the way production does it:
 * `node start-gateway.mjs approve-device <requestId>` with the gateway's HOME and token env (the
 * OpenClaw CLI reads the port from HOME's config; a loopback CLI has the authority to approve).
 * @param {{home: string, token: string}|string} gw  startGateway() handle, or a HOME dir (then pass opts.token)
 * @returns {object} the CLI's JSON: { requestId, device: { deviceId, scopes, approvedAtMs, ... } }
 */
export function approveDevice(gw, requestId, { token, timeoutMs = 60_000 } = {}) {
  const home = typeof gw === "string" ? gw : gw.home;
  token ??= typeof gw === "string" ? undefined : gw.token;
  if (!token) throw new Error("approveDevice: token is required");
  const node = resolveNode24();
  const out = spawnSync(node, [START_SCRIPT, "approve-device", requestId], {
    env: { ...cleanEnv(process.env), HOME: home, OPENCLAW_HOME: home, GATEWAY_TOKEN: token },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  if (out.status !== 0) throw new Error(`approve-device failed (${out.status}): ${(out.stderr || out.stdout).split(token).join("<token>").slice(-1500)}`);
  try { return JSON.parse(out.stdout); } catch { return { raw: out.stdout }; }
}

/**
 * Drops variables that would leak a developer's real OpenClaw state or keys into test gateways,
 * and vitest's own: under VITEST=true OpenClaw writes no log file, so `logs.tail` would be empty.
 */
function cleanEnv(env) {
  const out = { ...env };
  for (const k of Object.keys(out)) {
    if (/^(OPENCLAW_|GATEWAY_|MOLT_MODEL_|VITEST)/.test(k) || ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "AI_GATEWAY_BASE_URL", "MODEL"].includes(k)) delete out[k];
  }
  return out;
}
