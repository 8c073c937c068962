#!/usr/bin/env node
// Protocol probe for a running OpenClaw gateway (and a reference for the WS client).
//
//   node test/support/protocol-probe.mjs --url ws://127.0.0.1:18789 [--token T | env GATEWAY_TOKEN]
//        [--home <gateway HOME, for the pairing section's CLI approval>] [--sections connect,chat,...]
//        [--model-url http://127.0.0.1:PORT (stand-in model, to count model requests)]
//
// Sections: connect, scopes, chat, idem, abort, media, tool, misc, session, pairing
// (default: all). Prints real frames, trimmed; the gateway token is redacted from all output.
//
// Exports GatewayClient / makeDeviceIdentity so tests can reuse them.

import crypto from "node:crypto";
import http from "node:http";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** Ed25519 device identity: id = sha256(raw public key) hex, publicKey = base64url(raw). */
export function makeDeviceIdentity() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { id: crypto.createHash("sha256").update(raw).digest("hex"), publicKey: b64url(raw), privateKey };
}

/** The v3 device-auth payload (packages/gateway-client/src/device-auth.ts). */
export function deviceAuthPayloadV3({ deviceId, clientId, clientMode, role, scopes, signedAtMs, token, nonce, platform, deviceFamily }) {
  const norm = (v) => (typeof v === "string" ? v.trim().toLowerCase() : "");
  return ["v3", deviceId, clientId, clientMode, role, scopes.join(","), String(signedAtMs), token ?? "", nonce, norm(platform), norm(deviceFamily)].join("|");
}

/**
 * Minimal gateway WS client. `socket` is anything WebSocket-like (global WebSocket or `ws`).
 * Collects every frame in `frames` with a receive timestamp.
 */
export class GatewayClient {
  constructor(socket) {
    this.ws = socket;
    this.frames = [];
    this.pending = new Map();
    this.listeners = new Set();
    this.nextId = 1;
    this.closed = new Promise((resolve) => {
      const onClose = (ev) => {
        const info = { code: ev?.code ?? ev, reason: String(ev?.reason ?? "") };
        // Fail pending requests with the close frame: the gateway closes on some handshake errors.
        for (const [id, done] of this.pending) done({ type: "res", id, ok: false, closed: info });
        this.pending.clear();
        resolve(info);
      };
      socket.addEventListener ? socket.addEventListener("close", onClose) : socket.on("close", (code, reason) => onClose({ code, reason }));
    });
    const onMessage = (data) => {
      const frame = JSON.parse(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
      this.frames.push({ t: Date.now(), frame });
      if (frame.type === "res" && this.pending.has(frame.id)) {
        this.pending.get(frame.id)(frame);
        this.pending.delete(frame.id);
      }
      for (const l of this.listeners) l(frame);
    };
    socket.addEventListener ? socket.addEventListener("message", (ev) => onMessage(ev.data)) : socket.on("message", (d) => onMessage(d));
  }

  static async open(url, { headers } = {}) {
    let ws;
    if (headers) {
      const { default: WS } = await import(pathToFileURL(path.join(REPO, "container/node_modules/ws/wrapper.mjs")).href);
      ws = new WS(url, { headers });
    } else {
      ws = new WebSocket(url);
    }
    const client = new GatewayClient(ws);
    const challenge = client.waitFor((f) => f.type === "event" && f.event === "connect.challenge", 10000);
    await new Promise((resolve, reject) => {
      const ok = () => resolve();
      const bad = (e) => reject(new Error(`ws open failed: ${e?.message ?? e?.type ?? e}`));
      if (ws.addEventListener) { ws.addEventListener("open", ok, { once: true }); ws.addEventListener("error", bad, { once: true }); }
      else { ws.once("open", ok); ws.once("error", bad); ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))); }
    });
    client.challenge = await challenge;
    return client;
  }

  send(frame) { this.ws.send(JSON.stringify(frame)); }

  request(method, params, timeoutMs = 30000) {
    const id = `r${this.nextId++}`;
    const frame = { type: "req", id, method, params };
    this.send(frame);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.pending.delete(id); reject(new Error(`${method} timed out`)); }, timeoutMs);
      this.pending.set(id, (res) => { clearTimeout(t); resolve(res); });
    });
  }

  waitFor(pred, timeoutMs = 30000) {
    const hit = this.frames.find((x) => pred(x.frame));
    if (hit) return Promise.resolve(hit.frame);
    return new Promise((resolve, reject) => {
      const l = (f) => { if (pred(f)) { clearTimeout(t); this.listeners.delete(l); resolve(f); } };
      const t = setTimeout(() => { this.listeners.delete(l); reject(new Error("waitFor timed out")); }, timeoutMs);
      this.listeners.add(l);
    });
  }

  /** Sends `connect` signed with `device` (unless device is null). Returns the res frame. */
  async connect({ token, device, scopes, client = {}, role = "operator", caps = ["tool-events"], deviceFamily } = {}) {
    const c = { id: "gateway-client", version: "0.1.0", platform: "cloudflare-workers", mode: "backend", ...client };
    if (deviceFamily) c.deviceFamily = deviceFamily;
    const params = { minProtocol: 4, maxProtocol: 4, client: c, role, scopes, caps, auth: token ? { token } : undefined };
    if (device) {
      const { nonce, ts } = this.challenge.payload;
      const payload = deviceAuthPayloadV3({ deviceId: device.id, clientId: c.id, clientMode: c.mode, role, scopes,
        signedAtMs: ts, token, nonce, platform: c.platform, deviceFamily: c.deviceFamily });
      const signature = b64url(crypto.sign(null, Buffer.from(payload, "utf8"), device.privateKey));
      params.device = { id: device.id, publicKey: device.publicKey, signature, signedAt: ts, nonce };
    }
    this.connectParams = params;
    return this.request("connect", params);
  }

  close() { try { this.ws.close(); } catch {} }
}

// ---------------------------------------------------------------- probe
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : true]);
  return acc;
}, []));
const URL_WS = args.url ?? `ws://127.0.0.1:${process.env.GATEWAY_PORT ?? 18789}`;
const HTTP = URL_WS.replace(/^ws/, "http").replace(/\/$/, "");
const TOKEN = args.token ?? process.env.GATEWAY_TOKEN;
const ALL = ["connect", "scopes", "chat", "idem", "abort", "media", "tool", "misc", "session", "pairing"];
const SECTIONS = args.sections ? String(args.sections).split(",") : ALL;
const ALL_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"];

function redact(v) { return JSON.stringify(v, null, 0).split(TOKEN).join("<TOKEN>"); }
function trim(v, max = 1500) {
  const walk = (x, depth) => {
    if (typeof x === "string") return x.length > 200 ? `${x.slice(0, 200)}…(${x.length})` : x;
    if (Array.isArray(x)) return depth > 6 ? `[${x.length} items]` : x.length > 8 ? [...x.slice(0, 8).map((y) => walk(y, depth + 1)), `…+${x.length - 8}`] : x.map((y) => walk(y, depth + 1));
    if (x && typeof x === "object") return depth > 6 ? "{…}" : Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y, depth + 1)]));
    return x;
  };
  const s = redact(walk(v, 0));
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
function show(label, v, max) { console.log(`\n## ${label}\n${trim(v, max)}`); }
const modelRequests = async () => {
  if (!args["model-url"]) return undefined;
  // The stand-in model server counts requests only in-process; standalone we infer from gateway.
  return undefined;
};

async function connected(scopes = ALL_SCOPES, opts = {}) {
  const c = await GatewayClient.open(URL_WS, opts.headers ? { headers: opts.headers } : {});
  const device = opts.device === undefined ? makeDeviceIdentity() : opts.device;
  const res = await c.connect({ token: TOKEN, device, scopes, ...opts });
  c.device = device;
  c.hello = res;
  return c;
}

/** Events for one run, summarised in order. */
function runEvents(c, runId, sinceIdx = 0) {
  return c.frames.slice(sinceIdx).map((x) => x.frame).filter((f) => f.type === "event" && (f.payload?.runId === runId));
}
function summarise(f) {
  const p = f.payload ?? {};
  if (f.event === "chat") return `chat state=${p.state}${p.deltaText !== undefined ? ` deltaText=${JSON.stringify(p.deltaText)}` : ""}${p.phase ? ` phase=${p.phase}` : ""}${p.message ? ` message=${JSON.stringify(p.message).slice(0, 160)}` : ""}${p.errorMessage ? ` error=${p.errorMessage}` : ""}`;
  if (f.event === "agent") return `agent stream=${p.stream} data=${JSON.stringify(p.data).slice(0, 160)}`;
  return `${f.event} ${JSON.stringify(p).slice(0, 160)}`;
}
async function waitTerminal(c, runId, timeoutMs = 60000) {
  return c.waitFor((f) => f.type === "event" && f.event === "chat" && f.payload?.runId === runId && ["final", "error", "aborted"].includes(f.payload?.state), timeoutMs);
}

async function sectionConnect() {
  const c = await GatewayClient.open(URL_WS);
  show("connect.challenge", c.challenge);
  const device = makeDeviceIdentity();
  const res = await c.connect({ token: TOKEN, device, scopes: ALL_SCOPES });
  const shown = { ...c.connectParams, device: { ...c.connectParams.device, signature: c.connectParams.device.signature.slice(0, 16) + "…" } };
  show("connect request params (succeeded)", shown);
  const p = res.payload ?? {};
  show("hello-ok (trimmed)", { ...res, payload: { ...p, features: { methods: `${p.features?.methods?.length} methods`, events: p.features?.events }, snapshot: Object.keys(p.snapshot ?? {}) } }, 4000);
  console.log("\nmethods:", (p.features?.methods ?? []).join(" "));
  c.close();
  // Variants: which client ids / modes / platforms are accepted?
  for (const variant of [
    { client: { id: "molt-relay" } }, { client: { mode: "worker" } }, { client: { mode: "ui" } }, { client: { platform: "linux" } },
    { client: { id: "cli", mode: "cli" } }, { device: null }, { token: "wrong-token" },
  ]) {
    const v = await GatewayClient.open(URL_WS);
    const r = await v.connect({ token: variant.token ?? TOKEN, device: variant.device === null ? null : makeDeviceIdentity(), scopes: ALL_SCOPES, client: variant.client });
    show(`variant ${JSON.stringify(variant)}`, r.ok ? { ok: true, auth: r.payload.auth } : r, 700);
    v.close();
  }
}

async function sectionScopes() {
  // Which scope does each method need? (probe with one scope at a time; admin implies the rest)
  const methods = [["chat.history", (k) => ({ sessionKey: k })], ["chat.send", (k) => ({ sessionKey: k, message: "/status", idempotencyKey: crypto.randomUUID() })],
    ["chat.abort", (k) => ({ sessionKey: k })], ["artifacts.list", (k) => ({ sessionKey: k })], ["sessions.patch", (k) => ({ key: k, model: "molt/stand-in" })],
    ["sessions.reset", (k) => ({ key: k })], ["sessions.list", () => ({ limit: 1 })], ["status", () => ({})], ["health", () => ({})],
    ["logs.tail", () => ({ limit: 1 })], ["models.list", () => ({})], ["device.pair.list", () => ({})]];
  for (const scopes of [[], ["operator.read"], ["operator.write"], ["operator.admin"], ["operator.pairing"]]) {
    const c = await connected(scopes);
    const key = `probe:scopes:${Date.now()}`;
    const row = [];
    for (const [m, p] of methods) {
      const r = await c.request(m, p(key));
      row.push(`${m}=${r.ok ? "ok" : (r.error?.message ?? "").replace(/^missing scope: /, "needs ")}`);
    }
    console.log(`\nscopes ${JSON.stringify(scopes)} -> granted ${JSON.stringify(c.hello.payload?.auth?.scopes)}\n  ${row.join("\n  ")}`);
    c.close();
  }
}

async function runTurn(c, sessionKey, message, { idem = crypto.randomUUID(), label } = {}) {
  const start = c.frames.length;
  const t0 = Date.now();
  const ack = await c.request("chat.send", { sessionKey, message, idempotencyKey: idem });
  const tAck = Date.now() - t0;
  if (!ack.ok) { show(`${label} chat.send FAILED`, ack); return { ack }; }
  const runId = ack.payload.runId;
  const term = await waitTerminal(c, runId).catch((e) => {
    console.log(`${label}: no terminal event (${e.message}); events so far:`);
    for (const f of runEvents(c, runId, start)) console.log(`  ${summarise(f)}`);
    throw e;
  });
  const events = runEvents(c, runId, start);
  return { ack, runId, events, term, tAck, tTotal: Date.now() - t0, start };
}

async function sectionChat() {
  const c = await connected();
  const key = `probe:chat:${Date.now()}`;
  const r = await runTurn(c, key, "hello there", { label: "chat" });
  show("chat.send ack", r.ack);
  console.log(`ack after ${r.tAck} ms, terminal after ${r.tTotal} ms`);
  console.log("\n## ordered events for the run (first turn)");
  for (const f of r.events) console.log(`  [seq ${f.seq}] ${summarise(f)}`);
  const other = c.frames.slice(r.start).map((x) => x.frame).filter((f) => f.type === "event" && f.payload?.runId !== r.runId);
  console.log(`\nother events during run: ${[...new Set(other.map((f) => f.event))].join(", ")}`);
  for (const f of other.slice(0, 6)) show(`other event ${f.event}`, f, 500);
  // Full frames of each distinct kind
  const seen = new Set();
  for (const f of r.events) {
    const k = f.event === "chat" ? `chat/${f.payload.state}` : `agent/${f.payload.stream}/${f.payload.data?.phase ?? ""}`;
    if (seen.has(k)) continue;
    seen.add(k);
    show(`frame ${k}`, f, 1200);
  }
  const r2 = await runTurn(c, key, "second turn long please", { label: "chat2" });
  const deltas = r2.events.filter((f) => f.event === "chat" && f.payload.state === "delta").map((f) => f.payload.deltaText ?? f.payload.message);
  console.log(`\nsecond (warm, long) turn: ack ${r2.tAck} ms, terminal ${r2.tTotal} ms, ${deltas.length} chat deltas; first 3 deltas:`);
  for (const d of deltas.slice(0, 3)) console.log("   ", JSON.stringify(d).slice(0, 200));
  const fin = r2.term.payload.message;
  console.log("final message text length:", JSON.stringify(fin).length);
  const h = await c.request("chat.history", { sessionKey: key, limit: 4 });
  show("chat.history {sessionKey, limit:4}", h, 3000);
  c.close();
}

async function sectionIdem() {
  const c = await connected();
  const key = `probe:idem:${Date.now()}`;
  const idem = crypto.randomUUID();
  const start = c.frames.length;
  const a1 = await c.request("chat.send", { sessionKey: key, message: "slow idempotency check", idempotencyKey: idem });
  show("first chat.send ack", a1);
  await sleep(800);
  const a2 = await c.request("chat.send", { sessionKey: key, message: "slow idempotency check", idempotencyKey: idem });
  show("same idempotencyKey DURING run", a2);
  const term = await waitTerminal(c, a1.payload.runId);
  show("terminal", term, 600);
  const a3 = await c.request("chat.send", { sessionKey: key, message: "slow idempotency check", idempotencyKey: idem });
  show("same idempotencyKey AFTER run", a3, 2000);
  await sleep(1500);
  const runIds = new Set(c.frames.slice(start).map((x) => x.frame).filter((f) => f.event === "chat").map((f) => f.payload.runId));
  console.log("distinct runIds with chat events:", [...runIds]);
  // Same key, different session? and a different idempotencyKey with same text
  const a4 = await c.request("chat.send", { sessionKey: `${key}:other`, message: "hi", idempotencyKey: idem });
  show("same idempotencyKey, DIFFERENT sessionKey", a4, 800);
  if (a4.ok && a4.payload?.runId) await waitTerminal(c, a4.payload.runId).catch(() => {});
  const h = await c.request("chat.history", { sessionKey: key });
  console.log("history messages:", h.payload?.messages?.length, h.payload?.messages?.map((m) => m.role).join(","));
  c.close();
}

async function sectionAbort() {
  const c = await connected();
  const key = `probe:abort:${Date.now()}`;
  const start = c.frames.length;
  const ack = await c.request("chat.send", { sessionKey: key, message: "slow story to abort", idempotencyKey: crypto.randomUUID() });
  const runId = ack.payload.runId;
  await c.waitFor((f) => f.event === "chat" && f.payload?.runId === runId && f.payload?.state === "delta", 30000);
  await sleep(700);
  const ab = await c.request("chat.abort", { sessionKey: key, runId });
  show("chat.abort {sessionKey, runId} response", ab);
  const term = await waitTerminal(c, runId, 20000).catch((e) => ({ error: e.message }));
  show("terminal after abort", term, 1200);
  await sleep(1000);
  console.log("\n## events after abort request");
  const abortIdx = c.frames.findIndex((x) => x.frame.type === "res" && x.frame.id === ab.id);
  for (const f of runEvents(c, runId, start)) console.log(`  ${c.frames.findIndex((x) => x.frame === f) > abortIdx ? "after " : "before"} ${summarise(f)}`);
  const ab2 = await c.request("chat.abort", { sessionKey: key });
  show("chat.abort {sessionKey} with nothing running", ab2);
  const ab3 = await c.request("chat.abort", { sessionKey: key, runId: "nonexistent" });
  show("chat.abort unknown runId", ab3);
  c.close();
}

async function sectionMedia() {
  const c = await connected();
  const key = `probe:media:${Date.now()}`;
  const r = await runTurn(c, key, "send me a picture please", { label: "media" });
  for (const f of r.events) console.log(`  ${summarise(f)}`);
  show("final", r.term, 2000);
  const tFinal = Date.now();
  let list;
  for (let i = 0; i < 40; i++) {
    list = await c.request("artifacts.list", { sessionKey: key, runId: r.runId });
    if (list.ok && (list.payload?.artifacts?.length ?? 0) > 0) break;
    await sleep(250);
  }
  console.log(`artifacts.list non-empty after ${Date.now() - tFinal} ms past final`);
  show("artifacts.list {sessionKey, runId}", list, 3000);
  const art = list.payload?.artifacts?.[0];
  const listAll = await c.request("artifacts.list", { sessionKey: key });
  show("artifacts.list {sessionKey}", listAll, 1500);
  const h = await c.request("chat.history", { sessionKey: key });
  show("chat.history after media", h, 3000);
  if (!art) return c.close();
  const d1 = await c.request("artifacts.download", { sessionKey: key, artifactId: art.id });
  show("artifacts.download {sessionKey, artifactId}", d1, 800);
  const d2 = await c.request("artifacts.download", { sessionKey: key, artifactId: art.id, transport: "http" });
  show("artifacts.download {..., transport:'http'}", d2, 800);
  const url = d2.payload?.url ?? d2.payload?.download?.url;
  if (url) {
    const abs = new URL(url, HTTP).href;
    for (const auth of [true, false]) {
      const res = await fetch(abs, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
      const body = Buffer.from(await res.arrayBuffer());
      show(`GET ${url} (${auth ? "with" : "without"} Bearer)`, { status: res.status, headers: Object.fromEntries(res.headers), bytes: body.length, pngMagic: body.subarray(0, 4).toString("hex") });
    }
    const rr = await fetch(abs, { headers: { authorization: `Bearer ${TOKEN}`, range: "bytes=0-7" } });
    console.log("range 0-7:", rr.status, rr.headers.get("content-range"), (await rr.arrayBuffer()).byteLength);
  }
  c.close();
}

async function sectionTool() {
  const c = await connected();
  const key = `probe:tool:${Date.now()}`;
  const r = await runTurn(c, key, "please use a tool now", { label: "tool" });
  console.log("\n## tool run events");
  for (const f of r.events) console.log(`  ${summarise(f)}`);
  for (const f of r.events.filter((f) => f.event === "agent" && ["tool", "item"].includes(f.payload.stream)).slice(0, 4)) show("tool frame", f, 1500);
  show("final", r.term, 1200);
  c.close();
}

async function sectionMisc() {
  const c = await connected();
  for (const [m, p] of [["status", {}], ["health", {}], ["logs.tail", { limit: 3 }], ["models.list", {}], ["sessions.list", { limit: 3 }]]) {
    const r = await c.request(m, p);
    show(`${m} ${JSON.stringify(p)}`, r, 1500);
  }
  c.close();
}

async function sectionSession() {
  const c = await connected();
  const key = `probe:session:${Date.now()}`;
  await runTurn(c, key, "first message", { label: "s1" });
  const p1 = await c.request("sessions.patch", { key, model: "molt/stand-in" });
  show("sessions.patch {key, model}", p1, 1500);
  const p2 = await c.request("sessions.patch", { key, model: "nope/unknown" });
  show("sessions.patch unknown model", p2, 800);
  const m = await runTurn(c, key, "/model", { label: "/model" });
  show("/model via chat.send: final", m.term ?? m.ack, 1200);
  const n = await runTurn(c, key, "/new", { label: "/new" });
  console.log("/new events:"); for (const f of n.events ?? []) console.log(`  ${summarise(f)}`);
  show("/new final", n.term ?? n.ack, 1200);
  const h = await c.request("chat.history", { sessionKey: key });
  console.log("history after /new:", h.payload?.messages?.length, "messages; sessionId", h.payload?.sessionId);
  const rs = await c.request("sessions.reset", { key });
  show("sessions.reset {key}", rs, 1200);
  const st = await runTurn(c, key, "/status", { label: "/status" });
  show("/status final", st.term ?? st.ack, 1500);
  c.close();
  // write-only scopes: is /new allowed?
  const w = await connected(["operator.read", "operator.write"]);
  const n2 = await runTurn(w, key, "/new", { label: "/new write-only" });
  show("/new with only read+write: final", n2.term ?? n2.ack, 800);
  w.close();
}

function rawUpgrade(headers) {
  // What does a plain HTTP upgrade with these headers get (status)?
  const u = new URL(HTTP);
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: "/", headers: { Connection: "Upgrade", Upgrade: "websocket",
      "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64"), ...headers } });
    req.on("upgrade", (res, sock) => { sock.destroy(); resolve({ status: res.statusCode }); });
    req.on("response", (res) => { let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => resolve({ status: res.statusCode, body: b.slice(0, 200) })); });
    req.on("error", (e) => resolve({ error: e.message }));
    req.end();
  });
}

async function sectionPairing() {
  const xff = { "X-Forwarded-For": "203.0.113.7" };
  show("raw upgrade with X-Forwarded-For", await rawUpgrade(xff));
  const device = makeDeviceIdentity();
  let c;
  try { c = await GatewayClient.open(URL_WS, { headers: xff }); } catch (e) { show("ws open with XFF failed", { message: e.message, status: e.status }); return; }
  const scopes = ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"];
  const r1 = await c.connect({ token: TOKEN, device, scopes });
  show("connect as forwarded (non-loopback) peer", r1, 2500);
  const closed = await Promise.race([c.closed, sleep(1500).then(() => "still open")]);
  console.log("socket after failure:", JSON.stringify(closed));
  c.close();
  const requestId = r1.error?.details?.requestId;
  if (!requestId) return;
  // Alternative to the CLI: approve over RPC from a loopback operator connection (operator.pairing).
  {
    const dev2 = makeDeviceIdentity();
    const p2 = await GatewayClient.open(URL_WS, { headers: xff });
    const f2 = await p2.connect({ token: TOKEN, device: dev2, scopes: ["operator.read", "operator.write"] });
    p2.close();
    const admin = await connected();
    show("device.pair.list (from loopback admin)", await admin.request("device.pair.list", {}), 1500);
    const ap = await admin.request("device.pair.approve", { requestId: f2.error?.details?.requestId });
    show("device.pair.approve {requestId} over RPC", ap, 1200);
    admin.close();
    const p3 = await GatewayClient.open(URL_WS, { headers: xff });
    const r3 = await p3.connect({ token: TOKEN, device: dev2, scopes: ["operator.read", "operator.write"] });
    show("reconnect after RPC approval", { ok: r3.ok, error: r3.error, scopes: r3.payload?.auth?.scopes, hasDeviceToken: !!r3.payload?.auth?.deviceToken }, 800);
    p3.close();
  }
  if (!args.home) return;
  // What the Worker runs in the container: the start script's approve-device (OpenClaw CLI, same HOME + token env).
  const t0 = Date.now();
  const out = spawnSync(process.execPath, [path.join(REPO, "container/start-gateway.mjs"), "approve-device", requestId],
    { env: { ...process.env, HOME: args.home, OPENCLAW_HOME: args.home, GATEWAY_TOKEN: TOKEN }, encoding: "utf8", timeout: 60000 });
  show(`start-gateway.mjs approve-device <id> (exit ${out.status}, ${Date.now() - t0} ms)`, { stdout: out.stdout.slice(0, 1500), stderr: out.stderr.slice(-600) }, 3000);
  const c2 = await GatewayClient.open(URL_WS, { headers: xff });
  const r2 = await c2.connect({ token: TOKEN, device, scopes });
  show("reconnect after approval", { ok: r2.ok, error: r2.error, auth: r2.payload?.auth && { ...r2.payload.auth, deviceToken: r2.payload.auth.deviceToken ? `${r2.payload.auth.deviceToken.slice(0, 6)}…(${r2.payload.auth.deviceToken.length})` : undefined } }, 1500);
  c2.close();
  if (r2.payload?.auth?.deviceToken) {
    // Reconnect with the device token instead of the shared token.
    const c3 = await GatewayClient.open(URL_WS, { headers: xff });
    const r3 = await c3.connect({ token: r2.payload.auth.deviceToken, device, scopes });
    show("connect with deviceToken as auth.token", { ok: r3.ok, error: r3.error, scopes: r3.payload?.auth?.scopes }, 800);
    c3.close();
  }
  const c4 = await GatewayClient.open(URL_WS, { headers: xff });
  const r4 = await c4.connect({ token: TOKEN, device: null, scopes });
  show("forwarded peer without device", { ok: r4.ok, error: r4.error, auth: r4.payload?.auth }, 800);
  c4.close();
}

const SECTION_FNS = { connect: sectionConnect, scopes: sectionScopes, chat: sectionChat, idem: sectionIdem, abort: sectionAbort,
  media: sectionMedia, tool: sectionTool, misc: sectionMisc, session: sectionSession, pairing: sectionPairing };

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (!TOKEN) { console.error("need --token or GATEWAY_TOKEN"); process.exit(2); }
  for (const s of SECTIONS) {
    console.log(`\n==================== ${s} ====================`);
    try { await SECTION_FNS[s](); } catch (e) { console.log(`section ${s} threw: ${e.stack}`); }
  }
  process.exit(0);
}
