#!/usr/bin/env node
// A Discord emulator on loopback: the REST API (v10) and the Gateway WebSocket, for tests and for
// local development.
//
// REST: the routes the Discord adapter and `npm run setup` use, with Discord's shapes and errors
// (`{message, code}`), User-Agent and `Bot` token checks, `enforce_nonce` (the same nonce in a
// channel returns the first message instead of a second), content limits (2000 characters),
// uploads (multipart `payload_json` + `files[n]`, at most 10 MiB each, recorded with length and
// sha256), and the real rate limits: `X-RateLimit-*` bucket headers on every answer, about 5 sends
// or edits per 5 s per channel, 50 requests per second per bot; past a limit, 429 with
// `{message, retry_after (float seconds), global}` and `Retry-After`. Unknown routes answer 404
// and are recorded in `unmatched`.
//
// Gateway: Hello (heartbeat_interval), Identify -> READY (session id, resume URL), heartbeats and
// ACKs, Resume (replays every dispatch after the given sequence, then RESUMED), and the faults a
// test needs: drop the socket without a close frame, stop ACKing heartbeats, send op 7 or op 9,
// dispatch a MESSAGE_CREATE (buffered for the session while it is disconnected, as Discord does),
// or dispatch one again. Each bot token is a bot of its own (its own id, sessions and records).
//
// Control (JSON over HTTP, for tests inside workerd):
//   POST /_emulator/faults {method, path (substring), status | disconnect, retryAfter?, global?, times?}
//        (`disconnect`: the connection is dropped without an answer)
//   GET  /_emulator/calls?channel_id=C      GET /_emulator/messages?channel_id=C
//   GET  /_emulator/interactions?token=T    GET /_emulator/commands     GET /_emulator/unmatched
//   GET  /_emulator/gateway?token=BOT_TOKEN (the bot's id, connections, identifies, resumes)
//   POST /_emulator/press?channel_id=C    POST /_emulator/press-answer    GET /_emulator/presses
//        (message components and button presses: discord-buttons.mjs)
//   POST /_emulator/gateway/{message|drop|close|stop-acks|reconnect|invalid-session|redispatch|config|release}
//        (`drop` with {"hold": true}: the bot's resumes wait until `release`)
//
// API:  const d = await startDiscordEmulator({ port: 0 }); d.url (the API base, .../api/v10), d.close()
// CLI:  node test/emulators/discord.mjs --port 8792

import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import { WebSocketServer } from "ws";
import { buttonControl, componentsProblem, pressesOf } from "./discord-buttons.mjs";

const TEXT_LIMIT = 2000;
const UPLOAD_LIMIT = 10 * 1024 * 1024;
/** Sends and edits per channel per window (Discord doesn't document it; ~5 per 5 s is observed). */
const CHANNEL_LIMIT = 5;
const CHANNEL_WINDOW_MS = 5000;
const GLOBAL_LIMIT = 50;
const DEFAULT_HEARTBEAT_MS = 41250;

export async function startDiscordEmulator({ port = 0, host = "127.0.0.1", enforceRateLimits = true } = {}) {
  const state = {
    calls: [],
    unmatched: [],
    faults: [],
    channels: new Map(),
    interactions: new Map(),
    commands: {},
    bots: new Map(),
    buckets: new Map(),
    nextId: 1300000000000000000n,
    enforceRateLimits,
    origin: "",
  };
  const server = http.createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { message: `emulator error: ${error}`, code: 0 });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url, "http://emulator");
    if (url.pathname !== "/gateway" && url.pathname !== "/gateway-resume") return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => gatewayConnection(state, ws, url));
  });
  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(port, host, resolve));
  state.origin = `http://${host}:${server.address().port}`;
  return {
    url: `${state.origin}/api/v10`,
    origin: state.origin,
    calls: state.calls,
    unmatched: state.unmatched,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const snowflake = (state) => String(state.nextId++);

// ---- bots and the Gateway --------------------------------------------------------------------

function bot(state, token) {
  let found = state.bots.get(token);
  if (!found) {
    const id = snowflake(state);
    found = {
      token,
      user: { id, username: `molt-${id.slice(-4)}`, global_name: "Molt", bot: true, discriminator: "0" },
      heartbeatInterval: DEFAULT_HEARTBEAT_MS,
      identifyRemaining: 1000,
      sessions: new Map(),
      connections: [],
      identifies: [],
      resumes: [],
    };
    state.bots.set(token, found);
  }
  return found;
}

function gatewayConnection(state, ws, url) {
  const conn = { id: randomUUID(), ws, bot: undefined, session: undefined, opened: Date.now(), closed: null, closeCode: null, heartbeats: 0, acks: true, path: url.pathname, query: url.search };
  const out = (payload) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(payload));
  conn.send = out;
  // Before Identify/Resume the bot is known only from the URL it was given (`?bot=<id>`).
  const known = [...state.bots.values()].find((b) => b.user.id === url.searchParams.get("bot"));
  const interval = known?.heartbeatInterval ?? DEFAULT_HEARTBEAT_MS;
  out({ op: 10, d: { heartbeat_interval: interval }, s: null, t: null });
  ws.on("message", (raw) => {
    let payload;
    try {
      payload = JSON.parse(String(raw));
    } catch {
      return ws.close(4002, "Error while decoding payload.");
    }
    switch (payload.op) {
      case 1:
        conn.heartbeats++;
        if (conn.acks) out({ op: 11, d: null, s: null, t: null });
        return;
      case 2:
        return identify(state, conn, payload.d ?? {});
      case 6:
        return resume(state, conn, payload.d ?? {});
      default:
        return ws.close(4001, "Unknown opcode.");
    }
  });
  ws.on("close", (code) => {
    conn.closed = Date.now();
    conn.closeCode = code;
    if (conn.session && conn.session.conn === conn) conn.session.conn = undefined;
  });
  ws.on("error", () => undefined);
}

function identify(state, conn, d) {
  if (typeof d.token !== "string" || !d.token) return conn.ws.close(4004, "Authentication failed.");
  const b = bot(state, d.token);
  b.connections.push(conn);
  conn.bot = b;
  b.identifies.push({ time: Date.now(), intents: d.intents, properties: d.properties });
  if (b.identifyRemaining <= 0) return conn.ws.close(4004, "Authentication failed.");
  b.identifyRemaining--;
  const session = { id: randomUUID().replace(/-/g, ""), seq: 0, events: [], conn, intents: d.intents };
  b.sessions.set(session.id, session);
  conn.session = session;
  dispatch(session, "READY", {
    v: 10,
    user: b.user,
    session_id: session.id,
    resume_gateway_url: `${state.origin.replace(/^http/, "ws")}/gateway-resume?bot=${b.user.id}`,
    guilds: [],
    application: { id: b.user.id, flags: 0 },
  });
}

function resume(state, conn, d) {
  const b = typeof d.token === "string" ? state.bots.get(d.token) : undefined;
  // Held (`drop` with `hold`): Discord is slow to take the resume, until `release`.
  if (b?.held) return b.held.push(() => conn.ws.readyState === 1 && resume(state, conn, d));
  const session = b?.sessions.get(d.session_id);
  if (b) {
    b.connections.push(conn);
    conn.bot = b;
    b.resumes.push({ time: Date.now(), session_id: d.session_id, seq: d.seq });
  }
  if (!session) return conn.send({ op: 9, d: false, s: null, t: null });
  if (session.conn && session.conn !== conn) session.conn.ws.terminate();
  session.conn = conn;
  conn.session = session;
  for (const event of session.events.filter((e) => e.s > (d.seq ?? 0))) conn.send(event);
  dispatch(session, "RESUMED", {});
}

/** Send a dispatch on the session's socket, or keep it for the resume when it is down. */
function dispatch(session, name, data) {
  const payload = { op: 0, s: ++session.seq, t: name, d: data };
  session.events.push(payload);
  if (session.events.length > 500) session.events.shift();
  session.conn?.send(payload);
  return payload;
}

/** The bot's newest session (the one a message would go to). */
function currentSession(b) {
  return [...b.sessions.values()].at(-1);
}

// ---- REST -------------------------------------------------------------------------------------

async function handle(state, req, res) {
  const url = new URL(req.url, "http://emulator");
  if (url.pathname.startsWith("/_emulator/")) return control(state, req, res, url);
  const raw = await readRaw(req);
  const path = url.pathname.replace(/^\/api\/v10/, "");
  const route = matchRoute(req.method, path);
  if (!route || !url.pathname.startsWith("/api/v10/")) {
    state.unmatched.push({ method: req.method, path: url.pathname.replace(/\/webhooks\/(\d+)\/[^/]+/, "/webhooks/$1/<token>"), time: Date.now() });
    return send(res, 404, { message: "404: Not Found", code: 0 });
  }
  const { body, files } = parseBody(req, raw);
  const auth = req.headers.authorization ?? "";
  const token = auth.startsWith("Bot ") ? auth.slice(4) : undefined;
  const channelId = route.params.channel;
  const call = {
    method: req.method,
    path: path.replace(/\/webhooks\/(\d+)\/[^/?]+/, "/webhooks/$1/<token>"),
    route: route.name,
    channel_id: channelId,
    body,
    files,
    chunked: req.headers["transfer-encoding"] === "chunked",
    userAgent: req.headers["user-agent"] ?? "",
    time: Date.now(),
  };
  const answer = (status, response, headers = {}) => {
    state.calls.push({ ...call, status, response });
    send(res, status, response, headers);
  };
  if (!/^DiscordBot \(.+, .+\)$/.test(call.userAgent)) return answer(400, { message: "Bad User-Agent", code: 0 });
  if (route.auth && !token) return answer(401, { message: "401: Unauthorized", code: 0 });
  const fault = takeFault(state, req.method, path);
  if (fault) {
    if (fault.disconnect) {
      state.calls.push({ ...call, status: 0, response: "disconnected" });
      return req.socket.destroy();
    }
    if (fault.status === 429) return answer(429, rateLimited(fault.retryAfter ?? 0.05, fault.global ?? false), { "retry-after": String(Math.ceil(fault.retryAfter ?? 0.05)), ...(fault.global ? { "x-ratelimit-global": "true" } : {}) });
    return answer(fault.status ?? 500, { message: fault.message ?? "500: Internal Server Error", code: 0 });
  }
  const limited = rateLimit(state, route, token, channelId);
  if (limited) return answer(429, limited.body, limited.headers);
  const result = route.handler(state, { body, files, params: route.params, token, url });
  if (result.error) return answer(result.error[0], { message: result.error[1], code: result.error[2] ?? 50035 }, route.headers);
  if (result.status === 204) {
    state.calls.push({ ...call, status: 204, response: null });
    res.writeHead(204, route.headers);
    return res.end();
  }
  return answer(result.status ?? 200, result.value, route.headers);
}

function rateLimited(retryAfter, global) {
  return { message: "You are being rate limited.", retry_after: retryAfter, global };
}

/** Discord's buckets: per channel for sends and edits, and 50 per second per bot overall. */
function rateLimit(state, route, token, channelId) {
  const now = Date.now();
  const headers = {};
  const take = (key, limit, windowMs) => {
    let bucket = state.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) state.buckets.set(key, (bucket = { used: 0, resetAt: now + windowMs, id: createHash("sha1").update(key).digest("hex").slice(0, 16) }));
    if (bucket.used >= limit) return bucket;
    bucket.used++;
    return { ...bucket, ok: true };
  };
  const global = take(`global:${token ?? "webhook"}`, GLOBAL_LIMIT, 1000);
  if (state.enforceRateLimits && !global.ok) {
    const retryAfter = Math.max(0.001, (global.resetAt - now) / 1000);
    return { body: rateLimited(retryAfter, true), headers: { "retry-after": String(Math.ceil(retryAfter)), "x-ratelimit-global": "true", "x-ratelimit-scope": "global" } };
  }
  if (!route.bucket) return undefined;
  const key = `${route.bucket}:${channelId ?? route.params.app ?? ""}`;
  const bucket = take(key, route.bucket === "messages" ? CHANNEL_LIMIT : 30, route.bucket === "messages" ? CHANNEL_WINDOW_MS : 10000);
  const limit = route.bucket === "messages" ? CHANNEL_LIMIT : 30;
  const resetAfter = Math.max(0, (bucket.resetAt - now) / 1000);
  Object.assign(route.headers, {
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - bucket.used)),
    "x-ratelimit-reset": String(bucket.resetAt / 1000),
    "x-ratelimit-reset-after": resetAfter.toFixed(3),
    "x-ratelimit-bucket": bucket.id,
  });
  if (state.enforceRateLimits && !bucket.ok) {
    state.rateLimited = (state.rateLimited ?? 0) + 1;
    return { body: rateLimited(Number(resetAfter.toFixed(3)) || 0.001, false), headers: { ...route.headers, "retry-after": String(Math.ceil(resetAfter)), "x-ratelimit-scope": "user" } };
  }
  return undefined;
}

const ROUTES = [
  ["GET", /^\/gateway\/bot$/, "gateway.bot", (state, { token }) => {
    const b = bot(state, token);
    return { value: { url: `${state.origin.replace(/^http/, "ws")}/gateway?bot=${b.user.id}`, shards: 1, session_start_limit: { total: 1000, remaining: b.identifyRemaining, reset_after: 3600000, max_concurrency: 1 } } };
  }],
  ["GET", /^\/users\/@me$/, "users.me", (state, { token }) => ({ value: bot(state, token).user })],
  ["POST", /^\/channels\/(?<channel>\d+)\/messages$/, "messages.create", createMessage, "messages"],
  ["PATCH", /^\/channels\/(?<channel>\d+)\/messages\/(?<message>\d+)$/, "messages.edit", editMessage, "messages"],
  ["DELETE", /^\/channels\/(?<channel>\d+)\/messages\/(?<message>\d+)$/, "messages.delete", deleteMessage],
  ["POST", /^\/channels\/(?<channel>\d+)\/typing$/, "typing", (state, { params }) => {
    channel(state, params.channel).typing.push(Date.now());
    return { status: 204 };
  }],
  ["PATCH", /^\/webhooks\/(?<app>\d+)\/(?<itoken>[^/]+)\/messages\/@original$/, "interaction.edit", (state, { params, body }) => {
    const record = interaction(state, params.itoken);
    const problem = contentProblem(body.content, []);
    if (problem) return { error: [400, problem] };
    record.original = { content: body.content, flags: body.flags, edits: (record.original?.edits ?? 0) + 1 };
    return { value: { id: snowflake(state), content: body.content, flags: 64 } };
  }, "webhook", false],
  ["POST", /^\/webhooks\/(?<app>\d+)\/(?<itoken>[^/]+)$/, "interaction.followup", (state, { params, body }) => {
    const problem = contentProblem(body.content, []);
    if (problem) return { error: [400, problem] };
    const message = { id: snowflake(state), content: body.content, flags: body.flags };
    interaction(state, params.itoken).followups.push(message);
    return { value: message };
  }, "webhook", false],
  ["PUT", /^\/applications\/(?<app>\d+)\/commands$/, "commands.global", (state, { params, body }) => putCommands(state, `global:${params.app}`, body)],
  ["PUT", /^\/applications\/(?<app>\d+)\/guilds\/(?<guild>\d+)\/commands$/, "commands.guild", (state, { params, body }) => putCommands(state, `guild:${params.guild}`, body)],
  ["GET", /^\/applications\/(?<app>\d+)\/commands$/, "commands.list", (state, { params }) => ({ value: state.commands[`global:${params.app}`] ?? [] })],
];

function matchRoute(method, path) {
  for (const [m, pattern, name, handler, bucket, auth = true] of ROUTES) {
    if (m !== method) continue;
    const match = pattern.exec(path.replace(/\?.*$/, ""));
    if (match) return { name, handler, bucket, auth, params: { ...match.groups }, headers: {} };
  }
  return undefined;
}

function channel(state, id) {
  let found = state.channels.get(id);
  if (!found) state.channels.set(id, (found = { messages: [], typing: [], nonces: new Map() }));
  return found;
}

function interaction(state, token) {
  let found = state.interactions.get(token);
  if (!found) state.interactions.set(token, (found = { original: null, followups: [] }));
  return found;
}

function contentProblem(content, files) {
  if (content !== undefined && typeof content !== "string") return "Invalid Form Body: content";
  if ((content ?? "").length > TEXT_LIMIT) return "Invalid Form Body: content: Must be 2000 or fewer in length.";
  if (!(content ?? "").trim() && files.length === 0) return "Cannot send an empty message";
  return undefined;
}

function createMessage(state, { params, body, files, token }) {
  const payload = body.payload_json ? JSON.parse(body.payload_json) : body;
  const problem = contentProblem(payload.content, files) ?? componentsProblem(payload.components);
  if (problem) return { error: [400, problem] };
  const tooBig = files.find((file) => file.bytes > UPLOAD_LIMIT);
  if (tooBig) return { error: [413, "Request entity too large", 40005] };
  const c = channel(state, params.channel);
  if (payload.enforce_nonce && payload.nonce !== undefined) {
    const earlier = c.nonces.get(String(payload.nonce));
    if (earlier) return { value: earlier };
  }
  const message = {
    id: snowflake(state),
    channel_id: params.channel,
    content: payload.content ?? "",
    author: bot(state, token).user,
    edits: 0,
    message_reference: payload.message_reference ?? null,
    components: payload.components ?? [],
    flags: payload.flags ?? 0,
    allowed_mentions: payload.allowed_mentions ?? null,
    attachments: files.map((file, i) => ({ id: String(i), filename: file.filename, size: file.bytes, sha256: file.sha256, content_type: file.type })),
    timestamp: new Date().toISOString(),
  };
  c.messages.push(message);
  if (payload.nonce !== undefined) c.nonces.set(String(payload.nonce), message);
  return { value: message };
}

function editMessage(state, { params, body }) {
  const message = channel(state, params.channel).messages.find((m) => m.id === params.message);
  if (!message) return { error: [404, "Unknown Message", 10008] };
  // Fields an edit leaves out stay as they are (text, components).
  const problem = (body.content === undefined ? undefined : contentProblem(body.content, message.attachments)) ?? componentsProblem(body.components);
  if (problem) return { error: [400, problem] };
  if (body.content === undefined && body.components === undefined) return { error: [400, "Cannot send an empty message", 50006] };
  if (body.content !== undefined) message.content = body.content;
  if (body.components !== undefined) message.components = body.components;
  message.edits++;
  return { value: message };
}

function deleteMessage(state, { params }) {
  const c = channel(state, params.channel);
  const index = c.messages.findIndex((m) => m.id === params.message);
  if (index < 0) return { error: [404, "Unknown Message", 10008] };
  const [removed] = c.messages.splice(index, 1);
  (c.deleted ??= []).push(removed);
  return { status: 204 };
}

function putCommands(state, key, body) {
  if (!Array.isArray(body)) return { error: [400, "Invalid Form Body"] };
  for (const command of body) {
    if (!/^[-_\p{L}\p{N}]{1,32}$/u.test(command.name ?? "")) return { error: [400, "Invalid Form Body: name"] };
    if ((command.description ?? "").length > 100) return { error: [400, "Invalid Form Body: description"] };
    for (const sub of command.options ?? []) if ((sub.description ?? "").length > 100 || !(sub.description ?? "").length) return { error: [400, `Invalid Form Body: options.${sub.name}.description`] };
  }
  state.commands[key] = body.map((command) => ({ id: snowflake(state), ...command }));
  return { value: state.commands[key] };
}

function takeFault(state, method, path) {
  const index = state.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || path.includes(f.path)));
  if (index < 0) return undefined;
  const fault = state.faults[index];
  fault.times -= 1;
  if (fault.times <= 0) state.faults.splice(index, 1);
  return fault;
}

// ---- control ----------------------------------------------------------------------------------

async function control(state, req, res, url) {
  if (await buttonControl(state, req, res, url, { channel, readRaw, send, snowflake })) return;
  const route = `${req.method} ${url.pathname}`;
  const input = req.method === "POST" ? JSON.parse((await readRaw(req)).toString("utf8") || "{}") : {};
  const channelId = url.searchParams.get("channel_id") ?? undefined;
  const b = input.token ? bot(state, input.token) : url.searchParams.get("token") ? bot(state, url.searchParams.get("token")) : undefined;
  const session = b && currentSession(b);
  const live = () => session?.conn;
  switch (route) {
    case "POST /_emulator/faults":
      state.faults.push({ times: 1, ...input });
      return send(res, 200, { ok: true });
    case "GET /_emulator/calls":
      return send(res, 200, { calls: state.calls.filter((c) => !channelId || c.channel_id === channelId) });
    case "GET /_emulator/messages":
      return send(res, 200, channelId ? { messages: channel(state, channelId).messages, typing: channel(state, channelId).typing, deleted: channel(state, channelId).deleted ?? [] } : { channels: [...state.channels.keys()] });
    case "GET /_emulator/interactions":
      return send(res, 200, interaction(state, url.searchParams.get("token") ?? ""));
    case "GET /_emulator/commands":
      return send(res, 200, state.commands);
    case "GET /_emulator/presses":
      return send(res, 200, { presses: pressesOf(state) });
    case "GET /_emulator/unmatched":
      return send(res, 200, { unmatched: state.unmatched });
    case "GET /_emulator/gateway": {
      if (!b) return send(res, 400, { error: "token?" });
      const connections = b.connections.map((c) => ({ opened: c.opened, closed: c.closed, closeCode: c.closeCode, heartbeats: c.heartbeats, path: c.path, query: c.query }));
      return send(res, 200, { botId: b.user.id, connections, identifies: b.identifies, resumes: b.resumes, connected: Boolean(live()), seq: session?.seq ?? 0 });
    }
    case "POST /_emulator/gateway/config":
      if (!b) return send(res, 400, { error: "token?" });
      if (input.heartbeatInterval) b.heartbeatInterval = input.heartbeatInterval;
      if (input.identifyRemaining !== undefined) b.identifyRemaining = input.identifyRemaining;
      return send(res, 200, { ok: true, botId: b.user.id });
    case "POST /_emulator/gateway/message": {
      if (!session) return send(res, 409, { error: "the bot has no session" });
      const message = {
        id: input.id ?? snowflake(state),
        channel_id: input.channel_id,
        ...(input.guild_id ? { guild_id: input.guild_id } : {}),
        author: { id: input.author?.id ?? snowflake(state), username: input.author?.username ?? "tess", global_name: input.author?.global_name ?? "Tess", ...(input.author?.bot ? { bot: true } : {}) },
        content: input.content ?? "",
        mentions: input.mentions ?? [],
        type: input.type ?? 0,
        timestamp: new Date().toISOString(),
        ...(input.referenced_message ? { referenced_message: input.referenced_message } : {}),
      };
      const payload = dispatch(session, "MESSAGE_CREATE", message);
      return send(res, 200, { id: message.id, seq: payload.s, delivered: Boolean(live()) });
    }
    case "POST /_emulator/gateway/redispatch": {
      const earlier = session?.events.find((e) => e.t === "MESSAGE_CREATE" && e.d.id === input.id);
      if (!earlier) return send(res, 404, { error: "no such message" });
      const payload = dispatch(session, "MESSAGE_CREATE", earlier.d);
      return send(res, 200, { seq: payload.s });
    }
    case "POST /_emulator/gateway/drop": {
      // `hold`: the bot's next resume waits for `release` (so a test can send while it is down).
      if (input.hold && b) b.held ??= [];
      const was = Boolean(live());
      live()?.ws.terminate();
      return send(res, 200, { ok: was });
    }
    case "POST /_emulator/gateway/release": {
      const held = b?.held ?? [];
      if (b) b.held = undefined;
      for (const go of held) go();
      return send(res, 200, { released: held.length });
    }
    case "POST /_emulator/gateway/close":
      live()?.ws.close(input.code ?? 4000, input.reason ?? "closed by the emulator");
      return send(res, 200, { ok: Boolean(live()) });
    case "POST /_emulator/gateway/stop-acks":
      if (live()) live().acks = false;
      return send(res, 200, { ok: Boolean(live()) });
    case "POST /_emulator/gateway/reconnect":
      live()?.send({ op: 7, d: null, s: null, t: null });
      return send(res, 200, { ok: Boolean(live()) });
    case "POST /_emulator/gateway/invalid-session":
      if (!input.resumable && session) b.sessions.delete(session.id);
      live()?.send({ op: 9, d: Boolean(input.resumable), s: null, t: null });
      return send(res, 200, { ok: true });
    default:
      state.unmatched.push({ method: req.method, path: url.pathname, time: Date.now() });
      return send(res, 404, { error: "unknown emulator route" });
  }
}

// ---- HTTP helpers -----------------------------------------------------------------------------

async function readRaw(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function parseBody(req, raw) {
  const type = req.headers["content-type"] ?? "";
  const files = [];
  if (!raw.length) return { body: {}, files };
  if (type.includes("multipart/form-data")) {
    const body = {};
    const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
    for (const part of splitParts(raw, boundary)) {
      const name = /name="([^"]*)"/.exec(part.head)?.[1];
      const filename = /filename="([^"]*)"/.exec(part.head)?.[1];
      const partType = /content-type:\s*([^\r\n]+)/i.exec(part.head)?.[1];
      if (filename !== undefined) files.push({ name, filename, type: partType, bytes: part.data.length, sha256: createHash("sha256").update(part.data).digest("hex") });
      else if (name) body[name] = part.data.toString("utf8");
    }
    return { body, files };
  }
  try {
    return { body: JSON.parse(raw.toString("utf8")), files };
  } catch {
    return { body: { _raw: raw.toString("utf8") }, files };
  }
}

function splitParts(raw, boundary) {
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts = [];
  let start = raw.indexOf(delimiter);
  while (start >= 0) {
    const from = start + delimiter.length;
    if (raw.slice(from, from + 2).toString() === "--") break;
    const next = raw.indexOf(delimiter, from);
    if (next < 0) break;
    const chunk = raw.slice(from + 2, next - 2);
    const split = chunk.indexOf("\r\n\r\n");
    parts.push({ head: chunk.slice(0, split).toString("utf8"), data: chunk.slice(split + 4) });
    start = next;
  }
  return parts;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

// ---- standalone -------------------------------------------------------------------------------

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const portArg = process.argv.indexOf("--port");
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8792;
  const emulator = await startDiscordEmulator({ port });
  console.log(`Discord emulator: ${emulator.url} (Gateway: ${emulator.origin.replace(/^http/, "ws")}/gateway, control: ${emulator.origin}/_emulator/)`);
  const stop = () => emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
