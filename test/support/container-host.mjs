/**
 * A stand-in for the Sandbox container, on this host: what the real container's control plane does
 * for the Worker (start processes, run commands, route a port), done with real processes. The
 * fake Sandbox Durable Object (fake-sandbox.mjs) forwards the SDK calls here, so the relay's
 * Sandbox code path runs the real start script and meets the real OpenClaw gateway.
 *
 * The gateway sees the relay through a proxy that adds `X-Forwarded-For` from a trusted proxy, so
 * it treats the relay as a remote peer (as in the real container): pairing is required and must
 * be approved from inside, exactly as in production.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = path.join(ROOT, "node_modules/.bin/node");
const START_SCRIPT = path.join(ROOT, "container/start-gateway.mjs");
/** Where the Dockerfile puts the start script in the image; commands naming it run the repo's copy. */
const IMAGE_START_SCRIPT = "/opt/molt-relay/start-gateway.mjs";
const REMOTE_PEER = "203.0.113.7";

export async function startContainerHost({ modelUrl, env: extraEnv = {} } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "molt-container-"));
  const gatewayPort = await freePort();
  const state = { starts: 0, execs: [], processes: new Map(), configs: [] };

  /** What the container adds to a process's environment: its home, the port and bind, the model. */
  // A container has no VITEST in its environment (under it OpenClaw writes no log file).
  const hostEnv = (env) => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST"))),
    ...env,
    ...extraEnv,
    HOME: home,
    OPENCLAW_HOME: home,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_BIND: "loopback",
    GATEWAY_TRUSTED_PROXIES: "127.0.0.1",
    ...(modelUrl ? { MOLT_MODEL_BASE_URL: modelUrl } : {}),
    PATH: `${path.dirname(NODE)}:${process.env.PATH}`,
  });

  const translate = (command) => {
    const words = command.trim().split(/\s+/);
    if (words[0] !== "node" || words[1] !== IMAGE_START_SCRIPT) throw new Error(`the container has no command: ${command}`);
    return [NODE, [START_SCRIPT, ...words.slice(2)]];
  };

  const running = () => [...state.processes.values()].filter((p) => p.status === "running");

  const routes = {
    "POST /process/start": ({ command, processId, env }) => {
      const existing = state.processes.get(processId);
      if (existing?.status === "running") return [409, { error: `process ${processId} is already running` }];
      const [bin, args] = translate(command);
      // Its own process group, so a kill reaches the gateway's worker processes too.
      const child = spawn(bin, args, { env: hostEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true });
      const record = { id: processId, pid: child.pid, command, status: "running", exitCode: null, logs: "", child };
      child.stdout.on("data", (d) => (record.logs += d));
      child.stderr.on("data", (d) => (record.logs += d));
      child.on("exit", (code, signal) => {
        record.status = signal ? "killed" : code === 0 ? "completed" : "failed";
        record.exitCode = code;
      });
      state.processes.set(processId, record);
      state.starts += 1;
      state.lastModel = env?.MODEL ?? null;
      return [200, describe(record)];
    },
    "GET /process/list": () => [200, [...state.processes.values()].map(describe)],
    "POST /process/kill": ({ id }) => {
      const record = state.processes.get(id);
      if (record?.status === "running") {
        killGroup(record, "SIGTERM");
        setTimeout(() => killGroup(record, "SIGKILL"), 3_000).unref();
      }
      return [200, { ok: true }];
    },
    "POST /exec": async ({ command, env, timeout }) => {
      const [bin, args] = translate(command);
      state.execs.push(command);
      return [200, await run(bin, args, hostEnv(env), timeout ?? 60_000)];
    },
    "GET /_host/stats": () => [200, { starts: state.starts, running: running().length, execs: state.execs, lastModel: state.lastModel, gatewayPort }],
    "POST /_host/crash": () => {
      for (const record of running()) killGroup(record, "SIGKILL");
      return [200, { ok: true }];
    },
    "GET /_host/logs": () => [200, { logs: [...state.processes.values()].map((p) => p.logs).join("\n") }],
  };

  // Port routing: everything under /port/<n>/ goes to that container port, with a remote peer's address.
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://host");
    if (url.pathname.startsWith("/port/")) return proxyHttp(req, res, url, gatewayPort);
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    try {
      const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
      const [status, payload] = await route(body);
      send(res, status, payload);
    } catch (error) {
      send(res, 500, { error: error.message });
    }
  });
  server.on("upgrade", (req, socket, head) => proxyUpgrade(req, socket, head, gatewayPort));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;

  return {
    url: `http://127.0.0.1:${port}`,
    home,
    gatewayPort,
    stats: () => ({ starts: state.starts, running: running().length }),
    async close() {
      for (const record of state.processes.values()) killGroup(record, "SIGKILL");
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

function killGroup(record, signal) {
  try {
    process.kill(-record.pid, signal);
  } catch {
    // already gone
  }
}

function describe(record) {
  return { id: record.id, pid: record.pid, command: record.command, status: record.status, exitCode: record.exitCode };
}

function forwardedHeaders(req, port) {
  const headers = { ...req.headers, host: `127.0.0.1:${port}`, "x-forwarded-for": REMOTE_PEER };
  delete headers["cf-container-target-port"];
  return headers;
}

function targetPath(req) {
  return req.url.replace(/^\/port\/\d+/, "") || "/";
}

function proxyHttp(req, res, url, port) {
  const upstream = http.request(
    { host: "127.0.0.1", port, method: req.method, path: targetPath(req), headers: forwardedHeaders(req, port) },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => send(res, 502, { error: `container port ${port}: ${error.code ?? error.message}` }));
  req.pipe(upstream);
}

function proxyUpgrade(req, socket, head, port) {
  const upstream = net.connect(port, "127.0.0.1", () => {
    const lines = [`${req.method} ${targetPath(req)} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwardedHeaders(req, port))) lines.push(`${name}: ${value}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const end = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", () => {
    socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
  });
  upstream.on("close", end);
  socket.on("error", end);
  socket.on("close", end);
}

function run(bin, args, env, timeout) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ exitCode: code ?? 1, stdout, stderr, success: code === 0 }));
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

function send(res, status, payload) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}
