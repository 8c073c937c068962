#!/usr/bin/env node
// Deterministic offline stand-in for an OpenAI-compatible model, on loopback.
//
// The OpenClaw gateway is pointed at it through a custom provider (`api: "openai-completions"`,
// `baseUrl: <url>/v1`). Behaviour is keyed on the words of the user's last message:
//   - default                 -> "Echo: <words>", streamed in a few chunks
//   - contains "picture"/"screenshot" -> "Here is the picture you asked for: <words>." and a
//                                standalone `MEDIA:<abs path of a PNG named after the words>` line
//   - contains "video"        -> also a standalone `MEDIA:<abs path of an MP4>` line (a stand-in
//                                MP4, see makeMp4)
//   - contains "slow"         -> 10 chunks, 300 ms apart (so a test can abort mid-stream)
//   - contains "long"         -> ~6000 chars in paragraphs
//   - contains "tool"         -> first answers with an OpenAI tool_call (one of the offered
//                                tools), then, once the tool result comes back, a text reply
//   - contains "fail"         -> HTTP 500 (provider error path)
//   - contains "keep talking" -> a long answer, slowly: 150 chunks, 200 ms apart (~30 s), so a
//                                test can stop it mid-stream. `/_test/requests` tells whether a
//                                streamed answer was cut off by the client (`cutOff`) or finished.
//   - "browse <url>"          -> uses OpenClaw's `browser` tool as an agent would: `open` the URL,
//                                then `screenshot`, then replies with the screenshot as a
//                                standalone `MEDIA:<path>` line (the path from the tool's result)
//   - "record a video of <url>" -> runs the relay's `browser-video` skill with OpenClaw's `exec`
//                                tool, then replies with the `MEDIA:` line it printed
//                                (test/support/model-record.mjs)
//   - contains "ratelimit"    -> HTTP 429 with `retry-after` (rate-limit path)
//   - contains "hold"         -> streams "Held: <words>" in 3 chunks, and holds the rest after the
//                                first until POST /_test/release (so a test can see the first
//                                token arrive while the model has not finished)
//   - contains "recall"       -> "Recall: <the earlier user messages' words, joined by ' | '>" (what
//                                the gateway sent of the session's history; "Recall: nothing" if none)
//
// With `apiKey`, every model request must carry `Authorization: Bearer <apiKey>` (else 401), as a
// real provider would: a key only the Worker knows, added on the way out.
//
// API:  const m = await startModelServer({ port: 0 });  m.url (no /v1), m.requests, m.close()
// HTTP: GET /_test/requests -> {requests: [{at, firstTokenAt, words, cutOff, finished, unauthorized}]} (for
//         tests in workerd; `at`: the request's receipt, `firstTokenAt`: its first streamed text chunk)
//       POST /_test/revoke-key {"revoked": true|false} -> with `apiKey`, refuse every key (401) until false
// CLI:  node test/support/model-server.mjs --port 0   (prints the URL, runs until killed)

import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { pathToFileURL } from "node:url";
import { planRecord } from "./model-record.mjs";

export const MODEL_ID = "stand-in";

const textOf = (content) => typeof content === "string"
  ? content
  : Array.isArray(content) ? content.map((p) => (typeof p === "string" ? p : p?.text ?? "")).join("\n") : "";

/**
 * Extracts the user's own words from the latest user turn. The gateway sends, per turn,
 * "[Tue 2026-11-24 01:01 UTC] <words>" (plus "\n\nRuntime: agent=main | ..." on a session's first
 * turn), and may append a further user message holding only an
 * <<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> ... <<<END_OPENCLAW_INTERNAL_CONTEXT>>> block.
 * Content may be a string or an array of parts.
 */
export function lastUserWords(messages = []) {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role !== "user") continue;
    const words = stripEnvelope(textOf(messages[i].content));
    if (words) return words;
  }
  return "";
}

const STAMP = /^\[[^\]\n]*\d{4}-\d{2}-\d{2}[^\]\n]*\]\s?/;
function stripEnvelope(text) {
  const cleaned = text
    .replace(/<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>[\s\S]*?<<<END_OPENCLAW_INTERNAL_CONTEXT>>>/g, "")
    // After a restart the gateway resumes an interrupted turn with notes of its own around the
    // user's words: "[Queued user message ...]" and a "[System] Your previous turn was ..." paragraph.
    .replace(/^\[Queued user message[^\]\n]*\]\s*$/gm, "")
    .replace(/^\[System\][^\n]*$/gm, "");
  const lines = cleaned.split(/\r?\n/).filter((l) => !/^Runtime: /.test(l));
  // Keep what follows the last timestamp bracket, if any.
  let start = 0;
  for (let i = 0; i < lines.length; i++) if (STAMP.test(lines[i])) start = i;
  return lines
    .slice(start)
    .join("\n")
    .replace(STAMP, "")
    .replace(/^\[Queued user message[^\]\n]*\]\s*$/gm, "")
    .replace(/^\[System\][^\n]*$/gm, "")
    .trim();
}

// ---- a tiny valid PNG (solid colour), written once per server ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
export function makePng(width = 16, height = 16, [r, g, b] = [0x2b, 0x8a, 0xe6]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => [r, g, b][i % 3])]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * A stand-in MP4: an ISO BMFF file (`ftyp` with brand isom, then an `mdat` of known bytes), which
 * MIME sniffers (OpenClaw's `file-type`) take for video/mp4. Not playable: a quick stand-in for
 * the media path's tests; "record a video of <url>" makes a real one (container/skills/browser-video).
 */
export function makeMp4(payloadBytes = 4096) {
  const ftyp = Buffer.alloc(28);
  ftyp.writeUInt32BE(28, 0);
  ftyp.write("ftypisom", 4, "ascii");
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write("isomiso2mp41", 16, "ascii");
  const mdat = Buffer.alloc(8 + payloadBytes);
  mdat.writeUInt32BE(mdat.length, 0);
  mdat.write("mdat", 4, "ascii");
  for (let i = 8; i < mdat.length; i++) mdat[i] = (i * 31) & 0xff;
  return Buffer.concat([ftyp, mdat]);
}

// ---- reply planning ----
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function longText(words) {
  const para = "This is a deliberately long answer from the offline stand-in model. It exists so that " +
    "relays can test message splitting, chunked delivery and truncation against platform limits. ";
  const out = [`Long reply to: ${words}`];
  for (let i = 1; out.join("\n\n").length < 6000; i++) out.push(`Paragraph ${i}. ${para.repeat(2).trim()}`);
  return out.join("\n\n");
}

/** Splits text into n roughly equal deltas (n >= 1). */
function split(text, n) {
  const size = Math.max(1, Math.ceil(text.length / n));
  const parts = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length ? parts : [""];
}

function pickTool(tools = []) {
  const names = tools.map((t) => t?.function?.name).filter(Boolean);
  // Prefer harmless, argument-light tools.
  for (const pref of ["ls", "read"]) if (names.includes(pref)) return pref;
  return names[0];
}

function toolArgs(name, workDir) {
  if (name === "read") return { path: path.join(workDir, "picture-1.png"), optional: true };
  if (name === "ls") return { limit: 5 };
  return {};
}

function latestToolResult(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "tool") return textOf(m.content);
    if (m?.role === "user" && stripEnvelope(textOf(m.content))) return undefined;
  }
  return undefined;
}

/** Tool results that follow the latest real user message, oldest first. */
function toolResultsSinceUser(messages) {
  const results = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "tool") results.unshift(textOf(m.content));
    if (m?.role === "user" && stripEnvelope(textOf(m.content))) break;
  }
  return results;
}

/**
 * "browse <url>": open, screenshot, send. The browser tool is called directly when offered, or
 * through OpenClaw's Tool Search (`tool_call` with the tool's name and its arguments).
 */
function planBrowse(url, body, messages, state) {
  const offered = (body.tools ?? []).map((t) => t?.function?.name);
  const direct = offered.includes("browser");
  if (!direct && !offered.includes("tool_call")) return { text: `No browser tool was offered (tools: ${offered.join(", ")}).`, chunks: 1, delayMs: 0 };
  const results = toolResultsSinceUser(messages);
  const call = (args) => ({
    toolCall: { id: `call_${++state.toolCalls}`, name: direct ? "browser" : "tool_call", args: direct ? args : { id: "browser", args } },
  });
  if (results.length === 0) return call({ action: "open", url });
  if (results.length === 1) return call({ action: "screenshot" });
  const last = results.at(-1);
  const shot = /MEDIA:(\S+)/.exec(last)?.[1] ?? /"path"\s*:\s*"([^"]+)"/.exec(last)?.[1];
  if (!shot) return { text: `The screenshot failed: ${results.join(" | ").slice(0, 600)}`, chunks: 1, delayMs: 0 };
  return { text: `Here is ${url}.\n\nMEDIA:${shot}\n`, chunks: 2, delayMs: 10 };
}

function plan(body, state) {
  const messages = body.messages ?? [];
  const words = lastUserWords(messages);
  const lw = words.toLowerCase();
  const browse = /\bbrowse\s+(\S+)/i.exec(words);
  if (browse) return planBrowse(browse[1], body, messages, state);
  const record = /\brecord a video of\s+(\S+)/i.exec(words);
  if (record) return planRecord(record[1], body, messages, toolResultsSinceUser(messages), state);
  // Second leg of a tool turn: a tool result follows the latest real user message (the gateway
  // may append an internal-context user message after it, so skip those).
  const toolResult = latestToolResult(messages);
  if (toolResult !== undefined) {
    return { text: `Tool done (${toolResult.length} chars of result). Echo: ${words}`, chunks: 3, delayMs: 20 };
  }
  if (/\bfail\b/.test(lw)) return { status: 500 };
  if (/\bratelimit\b/.test(lw)) return { status: 429 };
  if (/\bhold\b/.test(lw)) return { text: `Held: ${words}`, chunks: 3, delayMs: 20, hold: true };
  if (/\btool\b/.test(lw) && Array.isArray(body.tools) && body.tools.length) {
    const name = pickTool(body.tools);
    return { toolCall: { id: `call_${++state.toolCalls}`, name, args: toolArgs(name, state.dir) } };
  }
  if (/\bvideo\b/.test(lw)) {
    return { text: `Here is the video you asked for.\n\nMEDIA:${state.mp4Path()}\n`, chunks: 3, delayMs: 20 };
  }
  if (/\b(picture|screenshot)\b/.test(lw)) {
    return { text: `Here is the picture you asked for: ${words}.\n\nMEDIA:${state.pngPath(words)}\n`, chunks: 3, delayMs: 20 };
  }
  if (/\bkeep talking\b/.test(lw)) return { text: longText(words), chunks: 150, delayMs: 200 };
  if (/\bslow\b/.test(lw)) return { text: `Slow echo: ${words}. ` + "tick ".repeat(20), chunks: 10, delayMs: 300 };
  if (/\blong\b/.test(lw)) return { text: longText(words), chunks: 12, delayMs: 10 };
  if (/\brecall\b/.test(lw)) return { text: `Recall: ${earlierUserWords(messages).join(" | ") || "nothing"}`, chunks: 2, delayMs: 10 };
  return { text: `Echo: ${words}`, chunks: 3, delayMs: 20 };
}

/** The words of every user message before the latest one: the session's history as sent. */
function earlierUserWords(messages) {
  const all = messages.filter((m) => m?.role === "user").map((m) => stripEnvelope(textOf(m.content))).filter(Boolean);
  return all.slice(0, -1);
}

// ---- HTTP ----
function readJson(req) {
  return new Promise((resolve, reject) => {
    const bufs = [];
    req.on("data", (b) => bufs.push(b));
    req.on("end", () => {
      try { resolve(bufs.length ? JSON.parse(Buffer.concat(bufs).toString("utf8")) : {}); } catch (e) { reject(e); }
    });
    req.on("error", reject);
  });
}

const usage = (text) => ({ prompt_tokens: 100, completion_tokens: Math.ceil((text?.length ?? 8) / 4), total_tokens: 100 + Math.ceil((text?.length ?? 8) / 4) });

export async function startModelServer({ port = 0, host = "127.0.0.1", apiKey } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "molt-model-"));
  const requests = [];
  let releaseHeld;
  let heldUntil = new Promise((resolve) => (releaseHeld = resolve));
  const state = {
    dir, toolCalls: 0, pngs: 0, mp4s: 0,
    held: () => heldUntil,
    mp4Path() {
      const p = path.join(dir, `video-${++this.mp4s}.mp4`);
      fs.writeFileSync(p, makeMp4());
      return p;
    },
    /** Named after the words asked with (so a test can tell whose file it is). */
    pngPath(words = "") {
      const tag = words.replace(/[^\w]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
      const p = path.join(dir, `picture-${++this.pngs}${tag ? `-${tag}` : ""}.png`);
      fs.writeFileSync(p, makePng());
      return p;
    },
  };
  const sockets = new Set();
  let keyRevoked = false;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    try {
      // Read-only, for tests: what the model was asked (the user's words only), to prove a message never got here.
      if (req.method === "GET" && url.pathname === "/_test/requests") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ requests: requests.map(({ at, firstTokenAt, words, cutOff, finished, unauthorized }) => ({ at, firstTokenAt, words, cutOff: cutOff === true, finished: finished === true, unauthorized: unauthorized === true })) }));
      }
      if (req.method === "POST" && url.pathname === "/_test/release") {
        releaseHeld();
        heldUntil = new Promise((resolve) => (releaseHeld = resolve));
        res.writeHead(200, { "content-type": "application/json" });
        return res.end("{}");
      }
      // The provider revokes the key (or takes it back): every call is refused until restored.
      if (req.method === "POST" && url.pathname === "/_test/revoke-key") {
        keyRevoked = (await readJson(req)).revoked === true;
        res.writeHead(200, { "content-type": "application/json" });
        return res.end("{}");
      }
      if (apiKey && (keyRevoked || req.headers.authorization !== `Bearer ${apiKey}`)) {
        requests.push({ at: Date.now(), path: url.pathname, words: "", unauthorized: true });
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: "invalid or missing API key", type: "authentication_error" } }));
      }
      if (req.method === "GET" && /\/models$/.test(url.pathname)) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ object: "list", data: [{ id: MODEL_ID, object: "model", owned_by: "molt-relay" }] }));
      }
      if (req.method !== "POST" || !/\/chat\/completions$/.test(url.pathname)) {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: "not found" } }));
      }
      const body = await readJson(req);
      const words = lastUserWords(body.messages);
      const p = plan(body, state);
      requests.push({ at: Date.now(), path: url.pathname, stream: !!body.stream, model: body.model, words,
        toolCount: body.tools?.length ?? 0, reply: p.text ?? (p.toolCall ? `tool:${p.toolCall.name}` : `status:${p.status}`), body });

      if (p.status) {
        res.writeHead(p.status, { "content-type": "application/json", ...(p.status === 429 ? { "retry-after": "1" } : {}) });
        return res.end(JSON.stringify({ error: { message: "stand-in model failure (requested)", type: "server_error" } }));
      }
      const id = `chatcmpl-${requests.length}`;
      const created = Math.floor(Date.now() / 1000);
      const model = body.model ?? MODEL_ID;

      if (!body.stream) {
        const message = p.toolCall
          ? { role: "assistant", content: null, tool_calls: [{ id: p.toolCall.id, type: "function", function: { name: p.toolCall.name, arguments: JSON.stringify(p.toolCall.args) } }] }
          : { role: "assistant", content: p.text };
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ id, object: "chat.completion", created, model,
          choices: [{ index: 0, message, finish_reason: p.toolCall ? "tool_calls" : "stop" }], usage: usage(p.text) }));
      }

      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      let closed = false;
      const entry = requests.at(-1);
      res.on("close", () => {
        closed = true;
        if (!entry.finished) entry.cutOff = true;
      });
      const send = (delta, finish = null, extra = {}) => res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model,
        choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
      send({ role: "assistant", content: "" });
      if (p.toolCall) {
        send({ tool_calls: [{ index: 0, id: p.toolCall.id, type: "function", function: { name: p.toolCall.name, arguments: "" } }] });
        send({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(p.toolCall.args) } }] });
        send({}, "tool_calls");
      } else {
        let first = true;
        // This answer's own gate: a release opens it for good (a later one waits for the next).
        const held = p.hold ? state.held() : undefined;
        for (const piece of split(p.text, p.chunks)) {
          if (closed) return; // client aborted
          if (held && !first) await held;
          first = false;
          await sleep(p.delayMs);
          if (closed) return;
          entry.firstTokenAt ??= Date.now();
          send({ content: piece });
        }
        send({}, "stop");
      }
      res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usage(p.text) })}\n\n`);
      entry.finished = true;
      res.end("data: [DONE]\n\n");
    } catch (err) {
      if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(err?.message ?? err) } }));
    }
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve, reject) => { server.once("error", reject); server.listen(port, host, resolve); });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    dir,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const i = process.argv.indexOf("--port");
  const port = i > 0 ? Number(process.argv[i + 1]) : 0;
  const m = await startModelServer({ port });
  console.log(m.url);
  const d = process.argv.indexOf("--dump"); // --dump <file>: write each request body there (debugging)
  if (process.argv.includes("--verbose") || d > 0) {
    const origPush = m.requests.push.bind(m.requests);
    m.requests.push = (r) => {
      if (process.argv.includes("--verbose")) console.error(`[model] #${m.requests.length + 1} ${r.stream ? "stream" : "json"} words=${JSON.stringify(r.words)} -> ${JSON.stringify(r.reply).slice(0, 80)}`);
      if (d > 0) fs.writeFileSync(process.argv[d + 1], JSON.stringify(r.body, null, 2));
      return origPush(r);
    };
  }
  const stop = async () => { await m.close(); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
