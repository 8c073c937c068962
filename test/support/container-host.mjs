/**
 * The machine under the Sandbox container runtime, for tests. The `Sandbox` Durable Object in the
 * `sandbox` test project runs the SDK's own code over a stand-in `ctx.container`
 * (test/support/emulated-runtime.ts), which drives this host over HTTP and one WebSocket per
 * running container. A container here is:
 * - its own loopback address (127.<n>.x.y), standing for its network namespace: every port is its
 *   own, and a port nothing listens on is refused, as in a real container;
 * - a fresh, empty directory as its disk, removed when the container stops (a stop or a sleep
 *   loses the disk, as on Cloudflare until persistence restores it);
 * - the control plane's HTTP API on port 3000 (control-plane.mjs) with real processes;
 * - an outbound HTTP proxy (the processes get HTTP_PROXY): requests for a host the Durable Object
 *   intercepted (`interceptOutboundHttp`) go over the container's WebSocket to the Durable Object,
 *   which calls the Worker's handler and streams the answer back; other hosts go out directly.
 *   Intercepted names also resolve in the container (container-dns.mjs, preloaded into its Node
 *   processes), to its own address, where the proxy takes plain connections on port 80: programs
 *   that ignore HTTP_PROXY reach the handler too, as on Cloudflare.
 *
 * Emulation detail: OpenClaw treats any 127.x peer as local, while in a real container the relay is
 * a remote peer. The port forwarder therefore adds `X-Forwarded-For` from a trusted proxy to what
 * it forwards to the gateway, after recording whether the request already carried forwarded
 * headers (tests assert that nothing on the relay's path adds them).
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { WebSocketServer } from "ws";
import { CONTROL_PLANE_PORT, killGroup, startControlPlane } from "./control-plane.mjs";
import { startEgressProxy } from "./egress-proxy.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE_BIN_DIR = path.join(ROOT, "node_modules/.bin");
/** The image's ffmpeg (container/Dockerfile) is, here, the one shipped in an npm package. */
const FFMPEG_DIR = path.join(ROOT, "node_modules/@ffmpeg-installer/linux-x64");
const CONTAINER_DNS = pathToFileURL(path.join(ROOT, "test/support/container-dns.mjs")).href;
const REMOTE_PEER = "203.0.113.7";
const FORWARDED = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"];

export async function startContainerHost({ env: extraEnv = {} } = {}) {
  const binDir = nodeWithContainerDns();
  /** Containers by Durable Object id; a stopped one keeps its counters but loses disk and processes. */
  const containers = new Map();
  let addresses = 0;
  // Each host its own 127.<n>/16, so that hosts of test runs in parallel never share an address.
  const network = 20 + (process.pid % 200);
  const unmatched = [];
  const gates = new Map();

  const containerFor = (id) => {
    let c = containers.get(id);
    if (!c) {
      c = { id, running: false, starts: 0, history: [], channel: undefined, pendingExit: undefined };
      containers.set(id, c);
    }
    return c;
  };

  async function start(c, { env = {}, intercepts = [], interceptAll = false }) {
    if (c.running) return [409, { error: "start() cannot be called on a container that is already running." }];
    addresses += 1;
    const ip = `127.${network}.${(addresses >> 8) & 255}.${(addresses & 255) || 1}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "molt-container-"));
    imageFiles(dir, binDir);
    Object.assign(c, {
      running: true,
      ip,
      dir,
      starts: c.starts + 1,
      processes: new Map(),
      sessions: new Map(),
      startAttempts: new Map(),
      children: new Set(),
      execs: [],
      environments: [],
      portMap: new Map(),
      calls: [],
      unmatched: [],
      forwardedSeen: [],
      intercepts: new Set(intercepts),
      interceptAll,
      outbound: [],
      pendingExit: undefined,
      containerEnv: env,
      resolve: (p) => path.join(dir, path.resolve("/", p ?? "/")),
      env: () => containerProcessEnv(c, extraEnv, binDir),
      networkEnv: () => networkEnv(c),
    });
    c.controlPlane = await startControlPlane(c);
    c.proxy = await startEgressProxy(c);
    return [200, { ip }];
  }

  /** The container exits: its processes die, its disk goes, the Durable Object's monitor settles. */
  function exit(c, exitCode) {
    if (!c.running) return;
    c.running = false;
    for (const child of c.children) killGroup(child, "SIGKILL");
    c.controlPlane.close();
    c.controlPlane.closeAllConnections?.();
    c.proxy.close();
    fs.rmSync(c.dir, { recursive: true, force: true });
    c.history.push({ ip: c.ip, dir: c.dir, exitCode, startAttempts: Object.fromEntries(c.startAttempts) });
    const event = JSON.stringify({ t: "exit", exitCode });
    if (c.channel) c.channel.send(event);
    else c.pendingExit = event;
    c.channel?.close();
    c.channel = undefined;
  }

  const routes = [
    ["GET", /^\/runtime\/([^/]+)$/, (c) => [200, { running: c.running, ip: c.ip ?? null }]],
    ["POST", /^\/runtime\/([^/]+)\/start$/, (c, body) => start(c, body)],
    // SIGTERM: the control plane shuts down cleanly (exit 0); anything else ends it by that signal.
    ["POST", /^\/runtime\/([^/]+)\/signal$/, (c, body) => (exit(c, body.signal === 15 ? 0 : 128 + body.signal), [200, {}])],
    ["POST", /^\/runtime\/([^/]+)\/destroy$/, (c) => (exit(c, 137), [200, {}])],
    ["POST", /^\/runtime\/([^/]+)\/intercept$/, (c, body) => {
      if (body.all) c.interceptAll = true;
      if (body.host) c.intercepts?.add(body.host);
      return [200, {}];
    }],
    ["GET", /^\/_host\/([^/]+)\/stats$/, (c) => [200, stats(c)]],
    ["POST", /^\/_host\/([^/]+)\/crash$/, (c) => {
      // Every process in the container dies; the container itself keeps running.
      for (const child of c.children ?? []) killGroup(child, "SIGKILL");
      return [200, {}];
    }],
    ["POST", /^\/_host\/([^/]+)\/exit$/, (c, body) => (exit(c, body.exitCode ?? 0), [200, {}])],
    ["GET", /^\/_host\/([^/]+)\/logs$/, (c) => [200, { logs: [...(c.processes?.values() ?? [])].map((p) => p.stdout + p.stderr).join("\n") }]],
    ["GET", /^\/_host\/([^/]+)\/outbound$/, (c) => [200, { outbound: c.outbound ?? [] }]],
    // Where a string occurs in the container: its disk (every file) and its processes' environments.
    ["POST", /^\/_host\/([^/]+)\/scan$/, (c, body) => [200, scan(c, body.needle)]],
  ];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://host");
    const portRoute = url.pathname.match(/^\/runtime\/([^/]+)\/port\/(\d+)(\/.*)?$/);
    if (portRoute) return forwardHttp(containerFor(decodeURIComponent(portRoute[1])), Number(portRoute[2]), req, res, (portRoute[3] ?? "/") + url.search);
    // A gate for tests: GET waits until the gate is opened by a POST (or returns at once if it was).
    const gate = url.pathname.match(/^\/_host\/gate\/([\w-]+)$/);
    if (gate) {
      const state = gates.get(gate[1]) ?? { open: false, waiting: [] };
      gates.set(gate[1], state);
      if (req.method === "GET") {
        if (state.open) return send(res, 200, { opened: true });
        return void state.waiting.push(() => send(res, 200, { opened: true }));
      }
      state.open = true;
      for (const open of state.waiting.splice(0)) open();
      return send(res, 200, { opened: true });
    }
    if (url.pathname === "/_host/unmatched") {
      // GET reads, DELETE reads and forgets (after a test that made such calls on purpose).
      const all = [...unmatched, ...[...containers.values()].flatMap((c) => c.unmatched ?? [])];
      if (req.method === "DELETE") {
        unmatched.length = 0;
        for (const c of containers.values()) if (c.unmatched) c.unmatched.length = 0;
      }
      return send(res, 200, { unmatched: all });
    }
    for (const [method, pattern, handler] of routes) {
      const match = req.method === method && url.pathname.match(pattern);
      if (!match) continue;
      try {
        const body = method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
        const [status, payload] = await handler(containerFor(decodeURIComponent(match[1])), body);
        return send(res, status, payload);
      } catch (error) {
        return send(res, 500, { error: error.message });
      }
    }
    unmatched.push(`${req.method} ${url.pathname}`);
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  });

  // Upgrades: a container port (WebSocket to a process), or the runtime channel of a container.
  const channels = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url, "http://host");
    const portRoute = url.pathname.match(/^\/runtime\/([^/]+)\/port\/(\d+)(\/.*)?$/);
    if (portRoute) return forwardUpgrade(containerFor(decodeURIComponent(portRoute[1])), Number(portRoute[2]), req, socket, head, (portRoute[3] ?? "/") + url.search);
    const channelRoute = url.pathname.match(/^\/runtime\/([^/]+)\/channel$/);
    if (!channelRoute) return socket.destroy();
    const c = containerFor(decodeURIComponent(channelRoute[1]));
    channels.handleUpgrade(req, socket, head, (ws) => {
      if (!c.running) {
        ws.send(c.pendingExit ?? JSON.stringify({ t: "exit", exitCode: 0 }));
        c.pendingExit = undefined;
        return ws.close();
      }
      c.channel?.close();
      c.channel = ws;
      c.onChannel?.(ws);
    });
  });

  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    async close() {
      for (const c of containers.values()) exit(c, 137);
      channels.close();
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
      fs.rmSync(binDir, { recursive: true, force: true });
    },
  };
}

/**
 * The `node` that the container's PATH finds first: Node 24 with the container's name resolution
 * preloaded. NODE_OPTIONS carries it too, but OpenClaw's exec tool starts its commands without
 * NODE_OPTIONS (and without HTTP_PROXY), while on Cloudflare the container's own DNS serves every
 * process; a command such as `node record.mjs` must still reach browser.internal.
 */
function nodeWithContainerDns() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "molt-container-bin-"));
  fs.writeFileSync(path.join(dir, "node"), `#!/bin/sh\nexec "${path.join(NODE_BIN_DIR, "node")}" --import="${CONTAINER_DNS}" "$@"\n`, { mode: 0o755 });
  return dir;
}

/**
 * The image's files that live where the container's disk is emulated: root's `.profile` (Debian's
 * images ship one). A login shell reads it after this machine's /etc/profile, whose PATH would
 * otherwise put this machine's own `node` first, where the image has Node 24 and ffmpeg. OpenClaw's
 * exec tool puts the login shell's PATH first (`sh -l`).
 */
function imageFiles(dir, binDir) {
  fs.mkdirSync(path.join(dir, "root"), { recursive: true });
  fs.writeFileSync(path.join(dir, "root", ".profile"), `export PATH="${binDir}:${NODE_BIN_DIR}:${FFMPEG_DIR}:$PATH"\n`);
}

/** What the image and the runtime give every process: a HOME on the container's disk, Node 24, ffmpeg. */
function containerProcessEnv(c, extraEnv, binDir) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST") && !/proxy/i.test(key)));
  return {
    ...base,
    ...c.containerEnv,
    ...extraEnv,
    HOME: c.resolve("/root"),
    PATH: `${binDir}:${NODE_BIN_DIR}:${FFMPEG_DIR}:${process.env.PATH}`,
  };
}

/**
 * The container's network, as its processes see it. "All interfaces" of the container is its
 * own address here (the relay asks the gateway to bind `lan`), and outbound HTTP goes through the
 * runtime's proxy.
 */
function networkEnv(c) {
  const proxy = `http://${c.ip}:${c.proxy.address().port}`;
  return {
    // Not in a real container: test programs that must bind "all interfaces" bind this address.
    CONTAINER_IP: c.ip,
    GATEWAY_BIND: "custom",
    GATEWAY_BIND_HOST: c.ip,
    GATEWAY_TRUSTED_PROXIES: "127.0.0.1",
    HTTP_PROXY: proxy,
    http_proxy: proxy,
    NODE_USE_ENV_PROXY: "1",
    NO_PROXY: `localhost,${c.ip}`,
    no_proxy: `localhost,${c.ip}`,
    // Intercepted names resolve in the container, as on Cloudflare (container-dns.mjs).
    MOLT_TEST_EGRESS_RESOLVER: proxy,
    NODE_OPTIONS: `--import=${CONTAINER_DNS}`,
  };
}

function scan(c, needle) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && fs.readFileSync(full).includes(needle)) files.push(path.relative(c.dir, full));
    }
  };
  if (c.running) walk(c.dir);
  const environments = (c.environments ?? []).filter((env) => Object.values(env).some((value) => String(value).includes(needle))).length;
  return { files, environments, scannedEnvironments: c.environments?.length ?? 0 };
}

function stats(c) {
  return {
    running: c.running,
    starts: c.starts,
    ip: c.ip ?? null,
    dir: c.running ? c.dir : null,
    startAttempts: Object.fromEntries(c.startAttempts ?? []),
    processes: [...(c.processes?.values() ?? [])].map((p) => ({ id: p.id, status: p.status, exitCode: p.exitCode ?? null, model: p.env.MODEL ?? null })),
    execs: c.execs ?? [],
    calls: c.calls ?? [],
    unmatched: c.unmatched ?? [],
    forwardedSeen: c.forwardedSeen ?? [],
    outbound: c.outbound ?? [],
    history: c.history,
  };
}

function notListening(res, c, port) {
  // What the runtime's getTcpPort(port).fetch throws; the stand-in runtime rethrows it.
  const message = c.running ? `the container is not listening on the TCP address 10.0.0.1:${port}` : "the container is not running";
  res.writeHead(503, { "x-runtime-error": encodeURIComponent(message) });
  res.end();
}

function forwardHeaders(c, req, port) {
  const seen = FORWARDED.filter((name) => req.headers[name] !== undefined);
  if (seen.length) c.forwardedSeen.push(...seen);
  const headers = { ...req.headers, host: `${c.ip}:${c.portMap.get(port) ?? port}` };
  for (const name of FORWARDED) delete headers[name];
  // See the header comment: the relay must look like a remote peer to the gateway.
  if (port !== CONTROL_PLANE_PORT) headers["x-forwarded-for"] = REMOTE_PEER;
  return headers;
}

function forwardHttp(c, port, req, res, target) {
  if (!c.running) return notListening(res, c, port);
  const upstream = http.request({ host: c.ip, port: c.portMap.get(port) ?? port, method: req.method, path: target, headers: forwardHeaders(c, req, port) }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (error) => {
    if (error.code === "ECONNREFUSED" && !res.headersSent) return notListening(res, c, port);
    res.destroy();
  });
  req.pipe(upstream);
}

function forwardUpgrade(c, port, req, socket, head, target) {
  if (!c.running) return socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
  const upstream = net.connect(c.portMap.get(port) ?? port, c.ip, () => {
    const lines = [`${req.method} ${target} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwardHeaders(c, req, port))) lines.push(`${name}: ${value}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) upstream.write(head);
    socket.pipe(upstream);
    // A server that does not switch protocols answers as plain HTTP: pass that answer, then close,
    // so the client's connection is not left piped to the process.
    upstream.once("data", (chunk) => {
      if (!chunk.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) {
        socket.unpipe(upstream);
        upstream.end();
      }
    });
    upstream.pipe(socket);
  });
  const end = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", () => socket.end(`HTTP/1.1 503 Service Unavailable\r\nx-runtime-error: ${encodeURIComponent(`the container is not listening on the TCP address 10.0.0.1:${port}`)}\r\ncontent-length: 0\r\n\r\n`));
  upstream.on("close", end);
  socket.on("error", end);
  socket.on("close", end);
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
