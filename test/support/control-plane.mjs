/**
 * The Sandbox container's control plane on port 3000, emulated with real processes, as the
 * Sandbox SDK's client calls it (cloudflare/sandbox-sdk, packages/sandbox-container: handlers/,
 * services/process-service.ts, managers/process-manager.ts). Kept semantics:
 * - a process id that is already in use is overwritten, never refused (the store's Map.set);
 * - a process starts as `running`; exit 0 -> `completed`, 137/143 -> `killed`, else `failed`;
 *   DELETE marks it `killed` at once;
 * - errors are `{ code, message, context, httpStatus, timestamp }` with the real codes;
 * - sessions are made once per container (`SESSION_ALREADY_EXISTS`, 409, otherwise);
 * - an unknown route answers 404 and is recorded as unmatched.
 *
 * Paths: the container's disk is `container.dir`; the image's `/opt/molt-relay/` is the repo's
 * `container/` directory (read-only content of the image, not the disk that a stop wipes).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const IMAGE_DIR = "/opt/molt-relay/";
const SANDBOX_VERSION = "0.12.10";

export const CONTROL_PLANE_PORT = 3000;

/** Serve the control plane for `container` on its own address, port 3000. */
export async function startControlPlane(container) {
  const server = http.createServer((req, res) => handle(container, req, res).catch((error) => sendError(res, 500, "INTERNAL_ERROR", error.message)));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(CONTROL_PLANE_PORT, container.ip, resolve);
  });
  return server;
}

async function handle(container, req, res) {
  const url = new URL(req.url, "http://localhost");
  const body = req.method === "POST" ? await readJson(req) : {};
  const route = `${req.method} ${url.pathname}`;
  container.calls.push(route);
  if (route === "GET /") return sendText(res, 200, "Hello from Bun server! 🚀");
  if (route === "GET /api/ping") return send(res, 200, { success: true, message: "pong", timestamp: now() });
  if (route === "GET /api/version") return send(res, 200, { success: true, version: SANDBOX_VERSION, timestamp: now() });
  if (route === "POST /api/session/create") return createSession(container, body, res);
  if (route === "POST /api/execute") return execute(container, body, res);
  if (route === "POST /api/process/start") return startProcess(container, body, res);
  if (route === "GET /api/process/list") return send(res, 200, { success: true, processes: [...container.processes.values()].map(describe), timestamp: now() });
  if (route === "DELETE /api/process/kill-all") {
    const running = [...container.processes.values()].filter((p) => p.status === "running");
    for (const record of running) kill(record);
    return send(res, 200, { success: true, cleanedCount: running.length, timestamp: now() });
  }
  const processRoute = url.pathname.match(/^\/api\/process\/([^/]+)(?:\/(logs))?$/);
  if (processRoute) {
    const record = container.processes.get(processRoute[1]);
    if (!record) return sendError(res, 404, "PROCESS_NOT_FOUND", `Process ${processRoute[1]} not found`, { processId: processRoute[1] });
    if (req.method === "GET" && !processRoute[2]) return send(res, 200, { success: true, process: describe(record), timestamp: now() });
    if (req.method === "GET") return send(res, 200, { success: true, processId: record.id, stdout: record.stdout, stderr: record.stderr, timestamp: now() });
    if (req.method === "DELETE") {
      kill(record);
      return send(res, 200, { success: true, processId: record.id, timestamp: now() });
    }
  }
  if (route === "POST /api/write") {
    const file = container.resolve(body.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body.content ?? "", body.encoding === "base64" ? "base64" : "utf8");
    return send(res, 200, { success: true, path: body.path, exitCode: 0, timestamp: now() });
  }
  if (route === "POST /api/read") {
    const file = container.resolve(body.path);
    if (!fs.existsSync(file)) return sendError(res, 404, "FILE_NOT_FOUND", `File not found: ${body.path}`, { path: body.path });
    return send(res, 200, { success: true, path: body.path, content: fs.readFileSync(file, "utf8"), encoding: "utf-8", exitCode: 0, timestamp: now() });
  }
  if (route === "POST /api/exists") return send(res, 200, { success: true, exists: fs.existsSync(container.resolve(body.path)), timestamp: now() });
  if (route === "POST /api/mkdir") {
    fs.mkdirSync(container.resolve(body.path), { recursive: Boolean(body.recursive) });
    return send(res, 200, { success: true, path: body.path, recursive: Boolean(body.recursive), exitCode: 0, timestamp: now() });
  }
  container.unmatched.push(route);
  return sendError(res, 404, "UNKNOWN_ERROR", "The requested endpoint was not found", { path: url.pathname });
}

function createSession(container, body, res) {
  const id = body.id ?? `session_${Date.now()}`;
  if (container.sessions.has(id)) {
    return send(res, 409, { ...errorBody(409, "SESSION_ALREADY_EXISTS", `Session '${id}' already exists`, { sessionId: id }), containerPlacementId: null });
  }
  container.sessions.set(id, { id, env: body.env ?? {}, cwd: body.cwd ?? "/workspace" });
  return send(res, 200, { success: true, data: { id }, containerPlacementId: null, timestamp: now() });
}

/** Environment of a command: the container's, the session's, then the request's. */
function commandEnv(container, body) {
  const session = container.sessions.get(body.sessionId);
  return { ...container.env(), ...(session?.env ?? {}), ...(body.env ?? {}), ...container.networkEnv() };
}

function commandCwd(container, body) {
  const session = container.sessions.get(body.sessionId);
  const cwd = container.resolve(body.cwd ?? session?.cwd ?? "/workspace");
  fs.mkdirSync(cwd, { recursive: true });
  return cwd;
}

/** The image's files are the repo's `container/`; everything else lives on the container's disk. */
function translate(command) {
  return command.split(IMAGE_DIR).join(`${path.join(ROOT, "container")}/`);
}

function spawnCommand(container, body) {
  const env = commandEnv(container, body);
  container.environments.push(env);
  return spawn("bash", ["-c", translate(body.command)], {
    env,
    cwd: commandCwd(container, body),
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a kill reaches the whole tree (the gateway's workers too).
    detached: true,
  });
}

function execute(container, body, res) {
  container.execs.push(body.command);
  const child = spawnCommand(container, body);
  container.children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = body.timeoutMs ? setTimeout(() => killGroup(child, "SIGKILL"), body.timeoutMs) : undefined;
  child.on("close", (code, signal) => {
    clearTimeout(timer);
    container.children.delete(child);
    const exitCode = code ?? 128 + signalNumber(signal);
    send(res, 200, { success: exitCode === 0, exitCode, stdout, stderr, command: body.command, duration: 0, timestamp: now(), sessionId: body.sessionId });
  });
}

function startProcess(container, body, res) {
  if (!body.command?.trim()) return sendError(res, 400, "INVALID_COMMAND", "Invalid command: empty command provided");
  const id = body.processId || `proc_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  // The real store overwrites a record with the same id; count every attempt.
  container.startAttempts.set(id, (container.startAttempts.get(id) ?? 0) + 1);
  const child = spawnCommand(container, body);
  const record = { id, pid: child.pid, command: body.command, status: "running", startTime: new Date(), exitCode: undefined, stdout: "", stderr: "", child, env: body.env ?? {} };
  container.children.add(child);
  child.stdout.on("data", (d) => (record.stdout += d));
  child.stderr.on("data", (d) => (record.stderr += d));
  child.on("close", (code, signal) => {
    container.children.delete(child);
    record.exitCode = code ?? 128 + signalNumber(signal);
    record.endTime = new Date();
    if (record.status === "running") record.status = record.exitCode === 0 ? "completed" : [137, 143].includes(record.exitCode) ? "killed" : "failed";
  });
  container.processes.set(id, record);
  return send(res, 200, { success: true, processId: id, pid: child.pid, command: body.command, timestamp: now() });
}

function kill(record) {
  if (record.status !== "running") return;
  killGroup(record.child, "SIGTERM");
  record.status = "killed";
  record.endTime = new Date();
}

export function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function signalNumber(signal) {
  return { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 }[signal] ?? 0;
}

function describe(record) {
  return { id: record.id, pid: record.pid, command: record.command, status: record.status, startTime: record.startTime.toISOString(), endTime: record.endTime?.toISOString(), exitCode: record.exitCode };
}

const now = () => new Date().toISOString();

function errorBody(httpStatus, code, message, context = {}) {
  return { code, message, context, httpStatus, timestamp: now() };
}

function sendError(res, status, code, message, context) {
  send(res, status, errorBody(status, code, message, context));
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      try {
        resolve(data ? JSON.parse(data) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on("error", reject);
  });
}

function send(res, status, payload) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

function sendText(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}
