#!/usr/bin/env node
// Starts the OpenClaw gateway: writes its config from the environment, then runs
// `openclaw gateway run` as a child process, forwarding signals and the exit code.
// Plain Node ESM, built-ins only; runs the same in the Sandbox container and on a dev/test host.
//
//   node start-gateway.mjs                         start the gateway (foreground)
//   node start-gateway.mjs approve-device <id>     approve a pending device pairing request against
//                                                  the running local gateway (`openclaw devices
//                                                  approve <id> --json`, same HOME + token env)
//
// If started by a Node older than 24.16 it re-executes itself with a Node 24 found at $NODE24_BIN,
// /opt/node24/bin/node or the repo's node_modules/.bin/node.
//
// Environment:
//   GATEWAY_TOKEN            required. Shared gateway secret (WS `connect.params.auth.token`,
//                            HTTP `Authorization: Bearer`). Never written to disk or printed: the
//                            config references it as ${OPENCLAW_GATEWAY_TOKEN}, set for the child.
//   OPENCLAW_HOME | HOME     home for OpenClaw state; config goes to <home>/.openclaw/openclaw.json.
//   GATEWAY_PORT             default 18789.
//   GATEWAY_BIND             "loopback" (default) or "lan" (the Dockerfile sets GATEWAY_BIND=lan so
//                            the Sandbox control plane can reach the gateway on the container IP).
//   GATEWAY_BIND_HOST        the IPv4 address for GATEWAY_BIND=custom.
//   GATEWAY_TRUSTED_PROXIES  optional comma list -> gateway.trustedProxies.
//   MODEL_PROVIDERS          comma list of providers the Worker holds keys for (anthropic, openai,
//                            molt): each is reached at LLM_BASE_URL/<provider>/... (default
//                            http://llm.internal), where the Worker adds the key. The config gets
//                            a placeholder key only. When set, the variables below are ignored.
//   LLM_BASE_URL             where those providers are reached (default http://llm.internal).
//   OPENAI_COMPATIBLE_MODEL  the model id of the `molt` provider (default "stand-in").
//   Without MODEL_PROVIDERS (a gateway run by hand, outside the relay's container):
//   ANTHROPIC_API_KEY        real provider (primary defaults to anthropic/claude-opus-5).
//   OPENAI_API_KEY           real provider (primary defaults to openai/gpt-6-astra if no Anthropic key).
//   AI_GATEWAY_BASE_URL      optional Cloudflare AI Gateway base URL
//                            (https://gateway.ai.cloudflare.com/v1/<account>/<gateway>); the
//                            anthropic/openai providers are routed through <base>/anthropic, <base>/openai.
//   MOLT_MODEL_BASE_URL      custom OpenAI-compatible provider "molt" (offline stand-in model);
//   MOLT_MODEL_NAME          its model id (default "stand-in"). Base URL may end with or without /v1.
//   MODEL                    primary model override, "<provider>/<model>".
//   OPENCLAW_BIN             optional path to openclaw.mjs.
//   OPENCLAW_LOG_LEVEL       optional logging.level (default "info").
//   GATEWAY_STOP_GRACE_MS    how long a stop signal waits for the gateway before killing it (10000).

import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MIN_NODE = [24, 16];

const list = (v) => String(v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const blank = (v) => v == null || String(v).trim() === "";

/** Home directory OpenClaw will use (OPENCLAW_HOME wins over HOME). */
export function resolveHome(env = process.env) {
  return !blank(env.OPENCLAW_HOME) ? env.OPENCLAW_HOME : !blank(env.HOME) ? env.HOME : os.homedir();
}

export function configPath(env = process.env) {
  return !blank(env.OPENCLAW_CONFIG_PATH) ? env.OPENCLAW_CONFIG_PATH : path.join(resolveHome(env), ".openclaw", "openclaw.json");
}

/** What the config holds where OpenClaw insists on a provider key. Never a real key. */
export const PLACEHOLDER_KEY = "molt-relay-placeholder";

/** An OpenAI-compatible provider with one text model. */
function compatibleProvider(baseUrl, id, apiKey) {
  return {
    baseUrl,
    api: "openai-completions",
    apiKey,
    models: [{
      id, name: `molt ${id}`, reasoning: false, input: ["text"],
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      contextWindow: 200000, maxTokens: 8192,
    }],
  };
}

/**
 * Builds the OpenClaw config object from env. Pure: no I/O. Secrets appear only as ${VAR}
 * references that OpenClaw substitutes at load time from the child's environment.
 * Validation in OpenClaw is strict, so only keys known to 2026.9.x are emitted.
 */
export function buildConfig(env = process.env) {
  if (blank(env.GATEWAY_TOKEN)) throw new Error("GATEWAY_TOKEN is required");
  const port = blank(env.GATEWAY_PORT) ? 18789 : Number(env.GATEWAY_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid GATEWAY_PORT: ${env.GATEWAY_PORT}`);
  const bind = blank(env.GATEWAY_BIND) ? "loopback" : env.GATEWAY_BIND.trim();
  if (!["loopback", "lan", "auto", "tailnet", "custom"].includes(bind)) throw new Error(`invalid GATEWAY_BIND: ${bind}`);

  const gateway = { mode: "local", port, bind, auth: { mode: "token", token: "${OPENCLAW_GATEWAY_TOKEN}" } };
  if (bind === "custom") {
    if (blank(env.GATEWAY_BIND_HOST)) throw new Error("GATEWAY_BIND=custom needs GATEWAY_BIND_HOST (an IPv4 address)");
    gateway.customBindHost = env.GATEWAY_BIND_HOST.trim();
  }
  const proxies = list(env.GATEWAY_TRUSTED_PROXIES);
  if (proxies.length) gateway.trustedProxies = proxies;

  const providers = {};
  let primary;
  const offered = list(env.MODEL_PROVIDERS);
  if (offered.length) {
    // Keys stay in the Worker: every provider is reached through the Worker's llm.internal host,
    // which adds the key. The config holds a placeholder where OpenClaw insists on a key.
    const llm = (blank(env.LLM_BASE_URL) ? "http://llm.internal" : env.LLM_BASE_URL.trim()).replace(/\/+$/, "");
    if (offered.includes("openai")) {
      primary = "openai/gpt-6-astra";
      providers.openai = { baseUrl: `${llm}/openai/v1`, apiKey: PLACEHOLDER_KEY, models: [] };
    }
    if (offered.includes("anthropic")) {
      primary = "anthropic/claude-opus-5";
      providers.anthropic = { baseUrl: `${llm}/anthropic`, apiKey: PLACEHOLDER_KEY, models: [] };
    }
    if (offered.includes("molt")) {
      const id = blank(env.OPENAI_COMPATIBLE_MODEL) ? "stand-in" : env.OPENAI_COMPATIBLE_MODEL.trim();
      providers.molt = compatibleProvider(`${llm}/molt/v1`, id, PLACEHOLDER_KEY);
      primary = `molt/${id}`;
    }
  } else {
    const aig = blank(env.AI_GATEWAY_BASE_URL) ? null : env.AI_GATEWAY_BASE_URL.trim().replace(/\/+$/, "");
    if (!blank(env.OPENAI_API_KEY)) {
      primary = "openai/gpt-6-astra";
      if (aig) providers.openai = { baseUrl: `${aig}/openai` };
    }
    if (!blank(env.ANTHROPIC_API_KEY)) {
      primary = "anthropic/claude-opus-5";
      if (aig) providers.anthropic = { baseUrl: `${aig}/anthropic` };
    }
    if (!blank(env.MOLT_MODEL_BASE_URL)) {
      const id = blank(env.MOLT_MODEL_NAME) ? "stand-in" : env.MOLT_MODEL_NAME.trim();
      let baseUrl = env.MOLT_MODEL_BASE_URL.trim().replace(/\/+$/, "");
      if (!/\/v1$/.test(baseUrl)) baseUrl += "/v1";
      // The stand-in ignores the key; a non-empty one keeps auth resolution happy.
      providers.molt = compatibleProvider(baseUrl, id, "molt-stand-in");
      primary = `molt/${id}`;
    }
  }
  if (!blank(env.MODEL)) primary = env.MODEL.trim();

  const config = {
    gateway,
    logging: { level: blank(env.OPENCLAW_LOG_LEVEL) ? "info" : env.OPENCLAW_LOG_LEVEL.trim() },
  };
  if (Object.keys(providers).length) config.models = { mode: "merge", providers };
  if (primary) config.agents = { defaults: { model: { primary } } };
  return config;
}

/**
 * Environment for OpenClaw children: the token travels as OPENCLAW_GATEWAY_TOKEN only (the config
 * references it), and this Node goes first on PATH for anything OpenClaw spawns.
 */
export function childEnv(env = process.env, nodeBin = process.execPath) {
  const out = { ...env, OPENCLAW_GATEWAY_TOKEN: env.GATEWAY_TOKEN };
  delete out.GATEWAY_TOKEN;
  out.PATH = [path.dirname(nodeBin), env.PATH].filter(Boolean).join(path.delimiter);
  return out;
}

/** Finds openclaw.mjs: $OPENCLAW_BIN, next to this script, repo container/, or a global install. */
export function findOpenclaw(env = process.env) {
  const candidates = [
    env.OPENCLAW_BIN,
    path.join(HERE, "node_modules", "openclaw", "openclaw.mjs"),
    path.join(HERE, "..", "container", "node_modules", "openclaw", "openclaw.mjs"),
    "/opt/molt-relay/node_modules/openclaw/openclaw.mjs",
    "/usr/local/lib/node_modules/openclaw/openclaw.mjs",
    "/usr/lib/node_modules/openclaw/openclaw.mjs",
  ].filter((p) => !blank(p));
  return candidates.find((p) => fs.existsSync(p));
}

function nodeOk(version = process.versions.node) {
  const [maj, min] = version.split(".").map(Number);
  return maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
}

function log(msg) { process.stderr.write(`[start-gateway] ${msg}\n`); }

/** Runs a child to completion with inherited stdio, forwarding signals; exits with its code. */
function runForwarding(cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: "inherit" });
  // Forward termination signals; exit with the child's code (128+signal when killed). OpenClaw
  // drains running turns for up to ~5 minutes on SIGTERM and ignores a second one; a restart can't
  // wait that long (the relay retries interrupted turns), so the child is killed after a grace.
  const graceMs = Number(env.GATEWAY_STOP_GRACE_MS ?? 10_000);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]) {
    process.on(sig, () => {
      if (child.exitCode !== null) return;
      child.kill(sig);
      setTimeout(() => { if (child.exitCode === null) child.kill("SIGKILL"); }, graceMs).unref();
    });
  }
  child.on("error", (err) => { log(`spawn failed: ${err.message}`); process.exit(1); });
  child.on("exit", (code, signal) => {
    if (signal) log(`child exited on ${signal}`);
    process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0));
  });
}

/** With an old Node, re-exec this script under Node 24 if one is installed; else fail clearly. */
function ensureNode24() {
  if (nodeOk()) return true;
  const candidates = [process.env.NODE24_BIN, "/opt/node24/bin/node", path.join(HERE, "..", "node_modules", ".bin", "node")];
  for (const bin of candidates.filter((p) => !blank(p) && fs.existsSync(p))) {
    const v = spawnSync(bin, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout?.trim();
    if (v && nodeOk(v)) { runForwarding(bin, process.argv.slice(1), process.env); return false; }
  }
  log(`Node >= ${MIN_NODE.join(".")} required, running ${process.versions.node} (${process.execPath})`);
  process.exit(2);
}

/** `approve-device <requestId>`: approve over the CLI; it reads HOME's config + the token env. */
function approveDevice(env, requestId) {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(requestId ?? "")) { log("usage: start-gateway.mjs approve-device <requestId>"); process.exit(2); }
  if (blank(env.GATEWAY_TOKEN)) { log("GATEWAY_TOKEN is required"); process.exit(2); }
  const bin = findOpenclaw(env);
  if (!bin) { log("openclaw.mjs not found"); process.exit(2); }
  if (!fs.existsSync(configPath(env))) { log(`no config at ${configPath(env)}: is the gateway running with this HOME?`); process.exit(2); }
  runForwarding(process.execPath, [bin, "devices", "approve", requestId, "--json"], childEnv(env));
}

async function main() {
  const env = process.env;
  if (!ensureNode24()) return; // re-executed under Node 24
  if (process.argv[2] === "approve-device") return approveDevice(env, process.argv[3]);
  if (process.argv[2]) { log(`unknown command: ${process.argv[2]}`); process.exit(2); }
  if (blank(env.GATEWAY_TOKEN)) { log("GATEWAY_TOKEN is required; refusing to start"); process.exit(2); }
  const bin = findOpenclaw(env);
  if (!bin) { log("openclaw.mjs not found (set OPENCLAW_BIN or npm install in container/)"); process.exit(2); }

  let config;
  try { config = buildConfig(env); } catch (err) { log(err.message); process.exit(2); }
  const file = configPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });

  const { port, bind } = config.gateway;
  log(`config ${file}; port ${port} bind ${bind}; model ${config.agents?.defaults?.model?.primary ?? "(openclaw default)"}; openclaw ${bin}`);

  runForwarding(process.execPath, [bin, "gateway", "run", "--port", String(port), "--bind", bind], childEnv(env));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
