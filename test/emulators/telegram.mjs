#!/usr/bin/env node
// A Telegram Bot API emulator on loopback, for tests and for local development.
//
// It answers the methods the Telegram adapter and `npm run setup` use, with the Bot API's response
// shapes (`{ok, result}` / `{ok: false, error_code, description, parameters}`), keeps what a user
// would see per chat (messages after edits, the current drafts, chat actions, uploaded files), and
// records every call. HTML in `parse_mode: "HTML"` is checked the way Telegram does: an unknown or
// unbalanced tag, or a bare `<`/`&`, is "can't parse entities". Uploads (multipart) are recorded
// with their byte length and sha256, and whether the body came chunked (streamed, no length).
// Unknown methods answer 404 and are recorded in `unmatched`. Tests inside workerd drive it over HTTP:
//
//   POST /_emulator/faults   {method, status?: 429|400|500, retryAfter?, description?, times?, chat_id?, disconnect?}
//   GET  /_emulator/calls?chat_id=42        GET /_emulator/messages?chat_id=42
//   GET  /_emulator/unmatched               POST /_emulator/reset[?chat_id=42]
//   POST /_emulator/limits   {mode: "off"|"channel"|"all", chat_id?}   (rate limits: rate-limits.mjs)
//
// Tests from several files share one emulator: use unique chat ids and filter by them.
//
// API:  const tg = await startTelegramEmulator({ port: 0 }); tg.url (the apiRoot), tg.calls, tg.close()
// CLI:  node test/emulators/telegram.mjs --port 8791

import { createHash } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import { buttonControl, buttonMethods, keepMarkup, pressesOf } from "./telegram-buttons.mjs";
import { createRateLimiter, TELEGRAM_RATE_RULES } from "./rate-limits.mjs";

export const EMULATOR_BOT = { id: 7000000001, is_bot: true, first_name: "Molt", username: "molt_test_bot" };

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const PHOTO_LIMIT = 10 * 1024 * 1024;
const UPLOAD_LIMIT = 50 * 1024 * 1024;
const TAGS = new Set(["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"]);

export async function startTelegramEmulator({ port = 0, host = "127.0.0.1", limits = "channel" } = {}) {
  const state = { calls: [], unmatched: [], faults: [], chats: new Map(), webhook: null, commands: [], seq: 0 };
  state.limiter = createRateLimiter(TELEGRAM_RATE_RULES, { mode: limits });
  const server = http.createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { ok: false, error_code: 500, description: `emulator error: ${error}` });
    });
  });
  // Like the platforms' front ends, keep idle connections open for a minute: Node's 5 s default
  // closes them just as a client reuses them, which shows up as spurious connection resets.
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${server.address().port}`;
  return {
    url: origin,
    origin,
    calls: state.calls,
    unmatched: state.unmatched,
    chat: (id) => state.chats.get(String(id)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function handle(state, req, res) {
  const url = new URL(req.url, "http://emulator");
  if (url.pathname.startsWith("/_emulator/")) return control(state, req, res, url);
  const match = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
  const raw = await readRaw(req);
  if (!match || !METHODS[match[2]]) {
    state.unmatched.push({ method: req.method, path: url.pathname.replace(/\/bot[^/]+\//, "/bot<token>/"), time: Date.now() });
    return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
  }
  const [, token, method] = match;
  const { body, files } = parseBody(req, raw, url);
  const chunked = req.headers["transfer-encoding"] === "chunked" && req.headers["content-length"] === undefined;
  const call = { seq: ++state.seq, method, chat_id: body.chat_id === undefined ? undefined : String(body.chat_id), body, files, chunked, time: Date.now() };
  let status = 200;
  let response;
  const fault = takeFault(state, method, call.chat_id);
  if (fault?.disconnect) {
    state.calls.push({ ...call, status: 0, response: "disconnected" });
    return req.socket.destroy();
  }
  const limited = fault ? null : state.limiter?.take(method, call.chat_id, { group: Number(call.chat_id) < 0 });
  if (!/^\d+:[\w-]{10,}$/.test(token)) {
    status = 401;
    response = { ok: false, error_code: 401, description: "Unauthorized" };
  } else if (limited) {
    status = 429;
    response = { ok: false, error_code: 429, description: `Too Many Requests: retry after ${limited.retryAfter}`, parameters: { retry_after: limited.retryAfter } };
    call.limit = limited.rule;
  } else if (fault) {
    status = fault.status ?? 400;
    response = { ok: false, error_code: status, description: fault.description ?? defaultDescription(status) };
    if (fault.retryAfter !== undefined) response.parameters = { retry_after: fault.retryAfter };
  } else {
    const result = METHODS[method](state, body, files);
    if (result && result.error) {
      status = result.error[0];
      response = { ok: false, error_code: status, description: result.error[1] };
    } else response = { ok: true, result };
  }
  state.calls.push({ ...call, status, response });
  send(res, status, response);
}

function defaultDescription(status) {
  if (status === 429) return "Too Many Requests: retry later";
  if (status >= 500) return "Internal Server Error";
  return "Bad Request: refused by the emulator";
}

function takeFault(state, method, chatId) {
  const index = state.faults.findIndex((f) => f.method === method && (f.chat_id === undefined || String(f.chat_id) === chatId));
  if (index < 0) return undefined;
  const fault = state.faults[index];
  fault.times -= 1;
  if (fault.times <= 0) state.faults.splice(index, 1);
  return fault;
}

// ---- Bot API methods --------------------------------------------------------------------------

const bad = (description) => ({ error: [400, `Bad Request: ${description}`] });

const METHODS = {
  getMe: () => EMULATOR_BOT,

  sendMessage: (state, body) => {
    const text = renderText(body.text, body.parse_mode, TEXT_LIMIT);
    if (text.error) return text;
    return publicMessage(keepMarkup(addMessage(state, body, { kind: "text", ...text }), body, parseJson));
  },

  editMessageText: (state, body) => {
    const message = chat(state, body.chat_id).messages.find((m) => m.message_id === Number(body.message_id));
    if (!message) return bad("message to edit not found");
    const text = renderText(body.text, body.parse_mode, TEXT_LIMIT);
    if (text.error) return text;
    if (text.text === message.text && text.html === message.html) {
      return bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    }
    Object.assign(message, text, { edits: message.edits + 1 });
    return publicMessage(message);
  },

  sendMessageDraft: (state, body) => {
    if (!(Number(body.chat_id) > 0)) return bad("drafts can be sent only to private chats");
    if (!Number(body.draft_id)) return bad("draft_id must be non-zero");
    const text = body.text ? renderText(body.text, body.parse_mode, TEXT_LIMIT) : { text: "", html: null };
    if (text.error) return text;
    const drafts = chat(state, body.chat_id).drafts;
    const previous = drafts[body.draft_id];
    drafts[body.draft_id] = { ...text, updates: (previous?.updates ?? 0) + 1 };
    return true;
  },

  sendChatAction: (state, body) => {
    if (!body.action) return bad("action is empty");
    chat(state, body.chat_id).actions.push({ action: body.action, time: Date.now() });
    return true;
  },

  sendPhoto: (state, body, files) => upload(state, body, files, "photo", PHOTO_LIMIT),
  sendVideo: (state, body, files) => upload(state, body, files, "video", UPLOAD_LIMIT),
  sendDocument: (state, body, files) => upload(state, body, files, "document", UPLOAD_LIMIT),

  setWebhook: (state, body) => {
    if (!body.url) return bad("bad webhook: an HTTPS URL must be provided for webhook");
    if (body.secret_token !== undefined && !/^[\w-]{1,256}$/.test(body.secret_token)) return bad("secret token contains unallowed characters");
    state.webhook = { url: body.url, secret_token: body.secret_token, allowed_updates: parseJson(body.allowed_updates), drop_pending_updates: body.drop_pending_updates };
    return true;
  },
  deleteWebhook: (state) => {
    state.webhook = null;
    return true;
  },
  getWebhookInfo: (state) => ({
    url: state.webhook?.url ?? "",
    has_custom_certificate: false,
    pending_update_count: 0,
    max_connections: 40,
    ...(state.webhook?.allowed_updates ? { allowed_updates: state.webhook.allowed_updates } : {}),
  }),
  setMyCommands: (state, body) => {
    const commands = parseJson(body.commands);
    if (!Array.isArray(commands)) return bad("commands must be an array");
    state.commands = commands;
    return true;
  },
  getMyCommands: (state) => state.commands,
};

// Inline keyboards: deleteMessage, answerCallbackQuery, pressing a button (test/emulators/telegram-buttons.mjs).
Object.assign(METHODS, buttonMethods({ chat, bad, parseJson }));

function upload(state, body, files, field, limit) {
  const value = body[field];
  const file = typeof value === "string" && value.startsWith("attach://") ? files.find((f) => f.name === value.slice(9)) : files.find((f) => f.name === field);
  if (!file) return bad(`there is no ${field} in the request`);
  if (file.bytes === 0) return bad("file must be non-empty");
  if (file.bytes > limit) return { error: [413, "Request Entity Too Large"] };
  const caption = body.caption ? renderText(body.caption, body.parse_mode, CAPTION_LIMIT) : { text: "", html: null };
  if (caption.error) return caption;
  const message = addMessage(state, body, { kind: field, text: caption.text, html: caption.html, file: { field, filename: file.filename, bytes: file.bytes, sha256: file.sha256 } });
  return publicMessage(message);
}

// ---- what a user would see ----------------------------------------------------------------------

function chat(state, id) {
  const key = String(id);
  let entry = state.chats.get(key);
  if (!entry) state.chats.set(key, (entry = { messages: [], drafts: {}, actions: [], nextId: 1 }));
  return entry;
}

function addMessage(state, body, fields) {
  const entry = chat(state, body.chat_id);
  const reply = parseJson(body.reply_parameters);
  const message = {
    message_id: entry.nextId++,
    chat_id: String(body.chat_id),
    thread_id: body.message_thread_id === undefined ? undefined : Number(body.message_thread_id),
    reply_to: reply?.message_id ?? (body.reply_to_message_id === undefined ? undefined : Number(body.reply_to_message_id)),
    date: Math.floor(Date.now() / 1000),
    edits: 0,
    html: null,
    ...fields,
  };
  entry.messages.push(message);
  // Like Telegram: a message from the bot ends its drafts and its chat action.
  entry.drafts = {};
  return message;
}

function publicMessage(m) {
  return {
    message_id: m.message_id,
    from: EMULATOR_BOT,
    chat: { id: Number(m.chat_id), type: Number(m.chat_id) > 0 ? "private" : "supergroup" },
    date: m.date,
    ...(m.edits ? { edit_date: m.date } : {}),
    ...(m.kind === "text" ? { text: m.text } : m.text ? { caption: m.text } : {}),
    ...(m.file ? { [m.file.field === "photo" ? "photo" : m.file.field]: m.file.field === "photo" ? [{ file_id: `F${m.message_id}`, file_size: m.file.bytes, width: 1, height: 1 }] : { file_id: `F${m.message_id}`, file_size: m.file.bytes } } : {}),
  };
}

/** The text a user sees, after Telegram parses `parse_mode: "HTML"`; or the error it answers. */
export function renderText(input, parseMode, limit) {
  if (typeof input !== "string" || !input.trim()) return bad("message text is empty");
  let text = input;
  let html = null;
  if (parseMode === "HTML") {
    const parsed = parseHtml(input);
    if (parsed.error) return bad(`can't parse entities: ${parsed.error}`);
    text = parsed.text;
    html = input;
  } else if (parseMode) return bad(`unsupported parse_mode ${parseMode} in the emulator`);
  if (!text.trim()) return bad("text must be non-empty");
  if (text.length > limit) return bad(limit === TEXT_LIMIT ? "message is too long" : "message caption is too long");
  return { text, html };
}

function parseHtml(html) {
  const open = [];
  let text = "";
  let i = 0;
  while (i < html.length) {
    const ch = html[i];
    if (ch === "<") {
      const tag = /^<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*>/.exec(html.slice(i));
      if (!tag) return { error: `Unsupported start tag at byte offset ${i}` };
      const [whole, closing, rawName] = tag;
      const name = rawName.toLowerCase();
      if (!TAGS.has(name)) return { error: `Unsupported start tag "${name}" at byte offset ${i}` };
      if (closing) {
        if (open.pop() !== name) return { error: `Unmatched end tag at byte offset ${i}, expected "</${open.at(-1) ?? ""}>", found "</${name}>"` };
      } else open.push(name);
      i += whole.length;
    } else if (ch === "&") {
      const entity = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i));
      if (!entity) return { error: `Character entity expected at byte offset ${i}` };
      const name = entity[1];
      text += { lt: "<", gt: ">", amp: "&", quot: '"' }[name] ?? String.fromCodePoint(name.startsWith("#x") ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
      i += entity[0].length;
    } else if (ch === ">") {
      return { error: `Unexpected end tag at byte offset ${i}` };
    } else {
      text += ch;
      i += 1;
    }
  }
  if (open.length) return { error: `Can't find end tag corresponding to start tag "${open.at(-1)}"` };
  return { text };
}

// ---- control plane ----------------------------------------------------------------------------

async function control(state, req, res, url) {
  if (await buttonControl(state, req, res, url, { chat, readRaw, send, publicMessage })) return;
  if (url.pathname === "/_emulator/presses") return send(res, 200, { presses: pressesOf(state) });
  const chatId = url.searchParams.get("chat_id") ?? undefined;
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "POST /_emulator/faults": {
      const fault = JSON.parse((await readRaw(req)).toString("utf8") || "{}");
      if (!fault.method) return send(res, 400, { ok: false, description: "fault needs a method" });
      state.faults.push({ times: 1, ...fault });
      return send(res, 200, { ok: true });
    }
    case "GET /_emulator/calls":
      return send(res, 200, { calls: state.calls.filter((c) => !chatId || c.chat_id === chatId) });
    case "GET /_emulator/messages": {
      if (chatId) return send(res, 200, state.chats.get(chatId) ?? { messages: [], drafts: {}, actions: [] });
      return send(res, 200, { chats: Object.fromEntries(state.chats), webhook: state.webhook, commands: state.commands });
    }
    case "GET /_emulator/unmatched":
      return send(res, 200, { unmatched: state.unmatched });
    case "POST /_emulator/limits": {
      const { mode, chat_id: only } = JSON.parse((await readRaw(req)).toString("utf8") || "{}");
      try {
        return send(res, 200, { ok: true, ...state.limiter.configure({ mode, channel: only }) });
      } catch (error) {
        return send(res, 400, { ok: false, description: String(error.message) });
      }
    }
    case "POST /_emulator/reset": {
      state.limiter.reset(chatId);
      const keep = (item) => chatId !== undefined && item.chat_id !== chatId && String(item.chat_id) !== chatId;
      for (const list of [state.calls, state.faults]) list.splice(0, list.length, ...list.filter(keep));
      if (chatId) state.chats.delete(chatId);
      else {
        state.chats.clear();
        state.unmatched.splice(0);
      }
      return send(res, 200, { ok: true });
    }
    default:
      state.unmatched.push({ method: req.method, path: url.pathname, time: Date.now() });
      return send(res, 404, { ok: false, description: "unknown emulator route" });
  }
}

// ---- HTTP plumbing ----------------------------------------------------------------------------

async function readRaw(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** JSON, form or multipart (or query string) into a flat body; files as {name, filename, bytes, sha256}. */
function parseBody(req, raw, url) {
  const type = req.headers["content-type"] ?? "";
  const body = Object.fromEntries(url.searchParams);
  const files = [];
  if (!raw.length) return { body, files };
  if (type.includes("multipart/form-data")) {
    const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
    for (const part of splitParts(raw, boundary)) {
      const head = part.head.toLowerCase();
      const name = /name="([^"]*)"/.exec(part.head)?.[1];
      const filename = /filename=("?)([^";\r\n]*)\1/.exec(part.head)?.[2];
      if (head.includes("filename=")) {
        files.push({ name, filename, bytes: part.data.length, sha256: createHash("sha256").update(part.data).digest("hex") });
      } else if (name) body[name] = part.data.toString("utf8");
    }
    return { body, files };
  }
  const text = raw.toString("utf8");
  if (type.includes("application/x-www-form-urlencoded")) return { body: { ...body, ...Object.fromEntries(new URLSearchParams(text)) }, files };
  try {
    return { body: { ...body, ...JSON.parse(text) }, files };
  } catch {
    return { body: { ...body, _raw: text }, files };
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
    const chunk = raw.slice(from + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const split = chunk.indexOf("\r\n\r\n");
    parts.push({ head: chunk.slice(0, split).toString("utf8"), data: chunk.slice(split + 4) });
    start = next;
  }
  return parts;
}

function parseJson(value) {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

// ---- standalone -------------------------------------------------------------------------------

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const portArg = process.argv.indexOf("--port");
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8791;
  const emulator = await startTelegramEmulator({ port });
  console.log(`Telegram Bot API emulator: ${emulator.url} (control: ${emulator.origin}/_emulator/)`);
  const stop = () => emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
