#!/usr/bin/env node
// A Slack Web API emulator on loopback, for tests and for `npm run dev`.
//
// It answers the methods the Slack adapter uses with Slack's response shapes, keeps what a user
// would see per channel (messages after updates and stream appends, statuses, shared files), and
// records every call. Slash commands' response URLs are `/_response/<channel>/<id>` (any id: tests
// may make their own, or ask for one); posts to them are recorded as method `response_url` and
// take faults like any method. Anything else is answered 404 and recorded in `unmatched`, so a
// test can assert that nothing went unanswered. Tests running inside workerd drive it over HTTP:
//
//   POST /_emulator/faults   {method, status?, retryAfter?, error?, times?, channel?, filename?, disconnect?}
//   GET  /_emulator/calls?channel=C1      GET /_emulator/messages?channel=C1
//   GET  /_emulator/unmatched             POST /_emulator/reset[?channel=C1]
//   GET  /_emulator/stream?channel=C1     (server-sent events: every recorded call as it happens)
//   POST /_emulator/response_url?channel=C1   ({url}: a fresh response URL for that channel)
//   POST /_emulator/limits   {mode: "off"|"channel"|"all", channel?}   (rate limits: rate-limits.mjs)
//
// Tests from several files share one emulator: use unique channel ids, filter by channel, and
// scope faults with `channel` (or `filename` for uploads, which carry no channel).
//
// API:  const slack = await startSlackEmulator({ port: 0 }); slack.url (…/api/), slack.calls,
//       slack.responseUrl(channel), slack.close()
// CLI:  node test/emulators/slack.mjs --port 8790

import { createHash } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import { agentControl, agentMethods } from "./slack-agents.mjs";
import { createRateLimiter, SLACK_RATE_RULES } from "./rate-limits.mjs";

export const EMULATOR_TEAM_ID = "T0EMULATOR";
export const EMULATOR_BOT_USER_ID = "U0EMUBOT";
export const EMULATOR_BOT_ID = "B0EMUBOT";

export async function startSlackEmulator({ port = 0, host = "127.0.0.1", limits = "channel" } = {}) {
  const state = newState();
  state.limiter = createRateLimiter(SLACK_RATE_RULES, { mode: limits });
  const server = http.createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: "emulator_error", detail: String(error) });
    });
  });
  // Like the platforms' front ends, keep idle connections open for a minute: Node's 5 s default
  // closes them just as a client reuses them, which shows up as spurious connection resets.
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const origin = `http://${host}:${address.port}`;
  state.origin = origin;
  return {
    url: `${origin}/api/`,
    origin,
    port: address.port,
    calls: state.calls,
    unmatched: state.unmatched,
    messages: (channel) => state.channels.get(channel)?.messages ?? [],
    responseUrl: (channel) => newResponseUrl(state, channel),
    close: () =>
      new Promise((resolve) => {
        for (const client of state.listeners) client.res.end();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function newState() {
  return {
    origin: "",
    calls: [],
    unmatched: [],
    faults: [],
    /** channel -> { messages: [...], statuses: {thread_ts: status} } */
    channels: new Map(),
    files: new Map(),
    /** `<channel>/<id>` of a response URL -> { firstUse, posts } */
    responseUrls: new Map(),
    listeners: new Set(),
    seq: 0,
    tsCounter: 0,
  };
}

async function handle(state, req, res) {
  const url = new URL(req.url, "http://emulator");
  const path = url.pathname;
  if (path.startsWith("/_emulator/")) return control(state, req, res, url);
  if (req.method === "POST" && path.startsWith("/upload/")) return upload(state, req, res, path.slice(8));
  const hook = /^\/_response\/([^/]+)\/([^/]+)$/.exec(path);
  if (req.method === "POST" && hook) return respond(state, req, res, decodeURIComponent(hook[1]), hook[2]);
  if (req.method === "POST" && path.startsWith("/api/")) {
    const method = path.slice(5);
    const handler = METHODS[method];
    const body = await readBody(req);
    if (!handler) return unmatched(state, req, res, body);
    return apiCall(state, req, res, method, handler, body);
  }
  return unmatched(state, req, res, await readBody(req).catch(() => ({})));
}

function unmatched(state, req, res, body) {
  state.unmatched.push({ method: req.method, path: req.url, body, time: Date.now() });
  send(res, 404, { ok: false, error: "unknown_method" });
}

async function apiCall(state, req, res, method, handler, body) {
  const channel = body.channel ?? body.channel_id;
  const call = { seq: ++state.seq, method, channel, body, time: Date.now() };
  const fault = takeFault(state, method, channel, body.filename);
  const token = bearer(req) ?? body.token;
  let status = 200;
  let response;
  if (fault?.disconnect) {
    record(state, { ...call, status: 0, response: "disconnected" });
    return req.socket.destroy();
  }
  const limited = fault ? null : state.limiter?.take(method, channel);
  if (fault) {
    ({ status, response } = faultAnswer(fault, res));
  } else if (limited) {
    ({ status, response } = faultAnswer({ status: 429, retryAfter: limited.retryAfter }, res));
    call.limit = limited.rule;
  } else if (!token) {
    response = { ok: false, error: "not_authed" };
  } else if (!/^xoxb-/.test(token)) {
    response = { ok: false, error: "invalid_auth" };
  } else {
    response = handler(state, body);
  }
  record(state, { ...call, status, response });
  if (method === "files.getUploadURLExternal" && response.ok) state.files.get(response.file_id).calls.push(state.calls.at(-1));
  send(res, status, response);
}

/** What a fault makes a call answer: an HTTP error, or Slack's `ok: false` with a 200. */
function faultAnswer(fault, res) {
  if (!fault.status) return { status: 200, response: { ok: false, error: fault.error ?? "fatal_error" } };
  if (fault.retryAfter !== undefined) res.setHeader("retry-after", String(fault.retryAfter));
  return { status: fault.status, response: { ok: false, error: fault.error ?? (fault.status === 429 ? "ratelimited" : "internal_error") } };
}

/**
 * A post to a slash command's response URL. Like Slack's, it needs no token and takes 5 posts
 * within 30 minutes of its first use, then answers 404 `expired_url`. Ephemeral posts are kept in
 * the channel's messages marked `ephemeral` (only the command's caller would see them).
 */
async function respond(state, req, res, channel, id) {
  const body = await readBody(req);
  const call = { seq: ++state.seq, method: "response_url", channel, body, bearer: Boolean(bearer(req)), time: Date.now() };
  const fault = takeFault(state, "response_url", channel);
  if (fault?.disconnect) {
    record(state, { ...call, status: 0, response: "disconnected" });
    return req.socket.destroy();
  }
  const use = state.responseUrls.get(`${channel}/${id}`) ?? { firstUse: Date.now(), posts: 0 };
  state.responseUrls.set(`${channel}/${id}`, use);
  let answer = { status: 200, response: { ok: true } };
  if (fault) answer = faultAnswer(fault, res);
  else if (use.posts >= 5 || Date.now() - use.firstUse > 30 * 60_000) answer = { status: 404, response: { ok: false, error: "expired_url" } };
  else if (!body.text && !body.blocks) answer = { status: 400, response: { ok: false, error: "no_text" } };
  else {
    use.posts += 1;
    const ephemeral = body.response_type !== "in_channel";
    addMessage(state, channel, { text: body.text ?? "", format: "mrkdwn", ephemeral });
  }
  record(state, { ...call, ...answer });
  send(res, answer.status, answer.response);
}

function newResponseUrl(state, channel) {
  const id = `R${String(++state.seq).padStart(9, "0")}`;
  state.responseUrls.set(`${channel}/${id}`, { firstUse: Date.now(), posts: 0 });
  return `${state.origin}/_response/${encodeURIComponent(channel)}/${id}`;
}

/**
 * Upload calls carry no channel; once a file is shared, its earlier calls are filed under the
 * channel it went to, so `?channel=` shows the whole upload.
 */
function tagFileCalls(state, fileId, channel) {
  for (const call of state.files.get(fileId)?.calls ?? []) call.channel = channel;
}

function takeFault(state, method, channel, filename) {
  const index = state.faults.findIndex(
    (f) =>
      f.method === method &&
      (f.channel === undefined || f.channel === channel) &&
      (f.filename === undefined || f.filename === filename),
  );
  if (index < 0) return undefined;
  const fault = state.faults[index];
  fault.times -= 1;
  if (fault.times <= 0) state.faults.splice(index, 1);
  return fault;
}

function record(state, call) {
  state.calls.push(call);
  for (const client of state.listeners) {
    if (!client.channel || client.channel === call.channel) client.res.write(`data: ${JSON.stringify(call)}\n\n`);
  }
}

// ---- Web API methods --------------------------------------------------------------------------

const METHODS = {
  "auth.test": () => ({
    ok: true,
    url: "https://emulator.slack.test/",
    team: "Emulator",
    user: "molt",
    team_id: EMULATOR_TEAM_ID,
    user_id: EMULATOR_BOT_USER_ID,
    bot_id: EMULATOR_BOT_ID,
  }),

  "chat.postMessage": (state, body) => {
    if (!body.channel) return { ok: false, error: "channel_not_found" };
    const text = body.markdown_text ?? body.text;
    if (!text && !body.blocks) return { ok: false, error: "no_text" };
    const message = addMessage(state, body.channel, { thread_ts: body.thread_ts, text, format: body.markdown_text ? "markdown" : "mrkdwn" });
    return { ok: true, channel: body.channel, ts: message.ts, message: publicMessage(message) };
  },

  "chat.update": (state, body) => {
    const message = findMessage(state, body.channel, body.ts);
    if (!message) return { ok: false, error: "message_not_found" };
    if (message.streaming) return { ok: false, error: "cant_update_message" };
    const text = body.markdown_text ?? body.text;
    if (!text && !body.blocks) return { ok: false, error: "no_text" };
    Object.assign(message, { text, format: body.markdown_text ? "markdown" : "mrkdwn", edited: true, updates: message.updates + 1 });
    return { ok: true, channel: body.channel, ts: message.ts, text, message: publicMessage(message) };
  },

  "chat.startStream": (state, body) => {
    if (!body.channel) return { ok: false, error: "channel_not_found" };
    if (!body.thread_ts) return { ok: false, error: "invalid_thread_ts" };
    if (!String(body.channel).startsWith("D") && (!body.recipient_user_id || !body.recipient_team_id)) {
      return { ok: false, error: "missing_recipient" };
    }
    if (body.markdown_text && body.markdown_text.length > 12_000) return { ok: false, error: "msg_too_long" };
    const message = addMessage(state, body.channel, {
      thread_ts: body.thread_ts,
      text: body.markdown_text ?? "",
      format: "markdown",
      streaming: true,
    });
    message.appends = 0;
    return { ok: true, channel: body.channel, ts: message.ts };
  },

  "chat.appendStream": (state, body) => {
    const message = findMessage(state, body.channel, body.ts);
    if (!message) return { ok: false, error: "message_not_found" };
    if (!message.streaming) return { ok: false, error: "message_not_in_streaming_state" };
    if (typeof body.markdown_text !== "string") return { ok: false, error: "invalid_arguments" };
    if (body.markdown_text.length > 12_000) return { ok: false, error: "msg_too_long" };
    message.text += body.markdown_text;
    message.appends += 1;
    return { ok: true, channel: body.channel, ts: message.ts };
  },

  "chat.stopStream": (state, body) => {
    const message = findMessage(state, body.channel, body.ts);
    if (!message) return { ok: false, error: "message_not_found" };
    if (!message.streaming) return { ok: false, error: "message_not_in_streaming_state" };
    if (typeof body.markdown_text === "string") message.text += body.markdown_text;
    message.streaming = false;
    return { ok: true, channel: body.channel, ts: message.ts, message: { ...publicMessage(message), streaming_state: "completed" } };
  },

  "assistant.threads.setStatus": (state, body) => {
    if (!body.channel_id) return { ok: false, error: "channel_not_found" };
    if (!body.thread_ts) return { ok: false, error: "invalid_thread_ts" };
    if (typeof body.status !== "string") return { ok: false, error: "invalid_arguments" };
    const statuses = channelState(state, body.channel_id).statuses;
    if (body.status) statuses[body.thread_ts] = body.status;
    else delete statuses[body.thread_ts];
    return { ok: true };
  },

  "files.getUploadURLExternal": (state, body) => {
    const length = Number(body.length);
    if (!body.filename || !Number.isInteger(length) || length <= 0) return { ok: false, error: "missing_argument" };
    const id = `F${String(++state.seq).padStart(9, "0")}`;
    state.files.set(id, { id, name: body.filename, length, uploaded: false, bytes: 0, sha256: null, calls: [] });
    return { ok: true, upload_url: `${state.origin}/upload/${id}`, file_id: id };
  },

  "files.completeUploadExternal": (state, body) => {
    const files = typeof body.files === "string" ? JSON.parse(body.files) : body.files;
    if (!Array.isArray(files) || files.length === 0) return { ok: false, error: "invalid_arguments" };
    const shared = [];
    for (const { id, title } of files) {
      const file = state.files.get(id);
      if (!file) return { ok: false, error: "file_not_found" };
      if (!file.uploaded || file.bytes !== file.length) return { ok: false, error: "upload_incomplete" };
      shared.push({ id, name: file.name, title: title ?? file.name, size: file.bytes, sha256: file.sha256 });
    }
    if (body.channel_id) {
      for (const { id } of files) tagFileCalls(state, id, body.channel_id);
      addMessage(state, body.channel_id, { thread_ts: body.thread_ts, text: "", files: shared, format: "mrkdwn" });
    }
    return { ok: true, files: shared.map(({ id, title, name, size }) => ({ id, title, name, size })) };
  },
};

// Agent sessions, suggested prompts, ephemeral messages (test/emulators/slack-agents.mjs).
Object.assign(METHODS, agentMethods({ channelState, addMessage }));

/** The file bytes: hashed as they arrive, never held whole. */
async function upload(state, req, res, id) {
  const file = state.files.get(id);
  const fault = takeFault(state, "upload", undefined, file?.name);
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of req) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  const call = { seq: ++state.seq, method: "upload", file_id: id, filename: file?.name, bytes, time: Date.now() };
  if (!file) {
    record(state, { ...call, status: 404 });
    return send(res, 404, "not found", "text/plain");
  }
  if (fault) {
    record(state, { ...call, status: fault.status ?? 500 });
    return send(res, fault.status ?? 500, "upload failed", "text/plain");
  }
  Object.assign(file, { uploaded: true, bytes, sha256: hash.digest("hex") });
  record(state, { ...call, status: 200, sha256: file.sha256 });
  file.calls.push(state.calls.at(-1));
  send(res, 200, `OK - ${bytes}`, "text/plain");
}

function channelState(state, channel) {
  let entry = state.channels.get(channel);
  if (!entry) state.channels.set(channel, (entry = { messages: [], statuses: {} }));
  return entry;
}

function addMessage(state, channel, fields) {
  const entry = channelState(state, channel);
  const message = {
    ts: nextTs(state),
    channel,
    thread_ts: fields.thread_ts,
    user: EMULATOR_BOT_USER_ID,
    bot_id: EMULATOR_BOT_ID,
    text: fields.text ?? "",
    format: fields.format,
    streaming: fields.streaming ?? false,
    ephemeral: fields.ephemeral ?? false,
    files: fields.files ?? [],
    edited: false,
    updates: 0,
  };
  entry.messages.push(message);
  // Like Slack: a reply clears the thread's status.
  if (fields.thread_ts) delete entry.statuses[fields.thread_ts];
  return message;
}

function findMessage(state, channel, ts) {
  return state.channels.get(channel)?.messages.find((m) => m.ts === ts);
}

function publicMessage(m) {
  return { type: "message", user: m.user, bot_id: m.bot_id, text: m.text, ts: m.ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) };
}

function nextTs(state) {
  state.tsCounter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(state.tsCounter).padStart(6, "0")}`;
}

// ---- control plane ----------------------------------------------------------------------------

async function control(state, req, res, url) {
  if (await agentControl(state, req, res, url, { channelState, readBody, send })) return;
  const channel = url.searchParams.get("channel") ?? undefined;
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "POST /_emulator/faults": {
      const fault = await readBody(req);
      if (!fault.method) return send(res, 400, { ok: false, error: "fault needs a method" });
      state.faults.push({ times: 1, ...fault });
      return send(res, 200, { ok: true });
    }
    case "POST /_emulator/limits": {
      const { mode, channel: only } = await readBody(req);
      try {
        return send(res, 200, { ok: true, ...state.limiter.configure({ mode, channel: only }) });
      } catch (error) {
        return send(res, 400, { ok: false, error: String(error.message) });
      }
    }
    case "POST /_emulator/response_url":
      if (!channel) return send(res, 400, { ok: false, error: "response_url needs a channel" });
      return send(res, 200, { ok: true, url: newResponseUrl(state, channel) });
    case "GET /_emulator/calls":
      return send(res, 200, { calls: state.calls.filter((c) => !channel || c.channel === channel) });
    case "GET /_emulator/messages": {
      const entry = channel ? state.channels.get(channel) : undefined;
      if (channel) return send(res, 200, { messages: entry?.messages ?? [], statuses: entry?.statuses ?? {} });
      return send(res, 200, { channels: Object.fromEntries(state.channels) });
    }
    case "GET /_emulator/files":
      return send(res, 200, { files: [...state.files.values()] });
    case "GET /_emulator/unmatched":
      return send(res, 200, { unmatched: state.unmatched });
    case "POST /_emulator/reset":
      reset(state, channel);
      return send(res, 200, { ok: true });
    case "GET /_emulator/stream": {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(": connected\n\n");
      const client = { res, channel };
      state.listeners.add(client);
      res.on("close", () => state.listeners.delete(client));
      return;
    }
    default:
      return unmatched(state, req, res, {});
  }
}

function reset(state, channel) {
  state.limiter?.reset(channel);
  const keep = (item) => channel !== undefined && item.channel !== channel;
  for (const list of [state.calls, state.faults]) {
    const kept = list.filter(keep);
    list.splice(0, list.length, ...kept);
  }
  if (channel) state.channels.delete(channel);
  else {
    state.channels.clear();
    state.files.clear();
    state.responseUrls.clear();
    state.unmatched.splice(0);
  }
}

// ---- HTTP plumbing ----------------------------------------------------------------------------

function bearer(req) {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : undefined;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (!raw) return {};
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return { _raw: raw };
  }
}

function send(res, status, body, type = "application/json; charset=utf-8") {
  res.writeHead(status, { "content-type": type });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

// ---- standalone -------------------------------------------------------------------------------

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const portArg = process.argv.indexOf("--port");
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8790;
  const emulator = await startSlackEmulator({ port });
  console.log(`Slack emulator: ${emulator.url} (control: ${emulator.origin}/_emulator/)`);
  const stop = () => emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
