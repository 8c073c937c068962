// A pass-through in front of the chaos run's gateway that can reproduce one fault of OpenClaw's
// that the 1,000-message soak met: the gateway takes a message as pending input and dies before
// running it; once restarted, it refuses that input under its idempotency key for good ("Pending
// input ownership ended; submit a new turn to continue", session-accessor's pending-input
// admission) on every re-send with that key, while a new key is taken. It says so in the send's
// acknowledgement, `{runId, status: "error", summary: "Error: Pending input ownership ended; ..."}`,
// followed by the run's `error` event (as measured after two kills), and so does this pass-through.
//
// Everything else passes unchanged in both directions: HTTP (health, media) and every WebSocket
// frame, with no header added (the gateway refuses forwarded headers from a peer it doesn't trust).
//
//   const proxy = await startOrphanProxy(gatewayPort);
//   proxy.url (ws://…);  proxy.orphan("words")  the next chat.send whose message contains "words" is
//   swallowed and its connection cut, as if the gateway had died holding it; its key is refused from
//   then on.  proxy.stats() -> { swallowed, refused, sentUnderNewKey, gatewayRefusals }
//   proxy.firstDeltas() -> [{ runId, message, at, anywhereAt, connections }]: for each run, when the
//   first `chat` event with state "delta" was passed on to the relay over the connection whose
//   `chat.send` started the run (`at`), and over any connection (`anywhereAt`), in ms since the
//   epoch on this machine's clock; over how many connections its deltas went (the gateway may send
//   a run's events to clients other than the one that started it); and that send's message.
//   proxy.trace("words") -> what passed for the sessions whose sends carried "words": each
//   `chat.send` (its key and connection, and the gateway's answer) and each run's end (final,
//   error, aborted: its run id and the start of its text), for a soak's report on a message that
//   was not answered exactly once.

import http from "node:http";
import { WebSocket, WebSocketServer } from "ws";

export const ORPHANED_INPUT = "Pending input ownership ended; submit a new turn to continue";

export async function startOrphanProxy(gatewayPort) {
  const upstreamHttp = `http://127.0.0.1:${gatewayPort}`;
  const upstreamWs = `ws://127.0.0.1:${gatewayPort}`;
  const armed = new Set();
  /** Orphaned keys, and the message each one carried. */
  const refused = new Map();
  /** `gatewayRefusals`: the gateway's own refusals of that kind (after a kill), by message. */
  const stats = { swallowed: 0, refused: 0, sentUnderNewKey: 0, gatewayRefusals: [] };
  /** Per run: when its first delta went to the relay, and the message that started it. */
  const runs = new Map();
  const run = (runId) => {
    if (!runs.has(runId)) {
      runs.set(runId, { runId, message: undefined, at: undefined, anywhereAt: undefined, connections: 0 });
      if (runs.size > MAX_RUNS) runs.delete(runs.keys().next().value);
    }
    return runs.get(runId);
  };
  /** Sends and run ends, oldest first (a run's end once, though every connection sees it). */
  const trace = [];
  const ended = new Set();
  let connections = 0;

  // While the gateway is down, the relay must see what it sees without the proxy: no connection
  // (not an error page, not an accepted upgrade that closes at once).
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: `127.0.0.1:${gatewayPort}` };
    const upstream = http.request(`${upstreamHttp}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const upstream = new WebSocket(`${upstreamWs}${req.url ?? "/"}`);
    upstream.once("unexpected-response", (request, response) => {
      socket.end(`HTTP/1.1 ${response.statusCode} ${response.statusMessage}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      request.destroy();
    });
    upstream.once("error", () => socket.destroy());
    upstream.once("open", () => wss.handleUpgrade(req, socket, head, (client) => relay(client, upstream)));
  });

  function relay(client, upstream) {
    /** The messages of the sends in flight, to tell the gateway's own refusals apart. */
    const sends = new Map();
    /** Runs started by this connection's sends, and deltas passed on before their send's answer. */
    const own = { runs: new Set(), early: new Map(), seen: new Set() };
    const connection = ++connections;
    const cut = () => {
      client.terminate();
      upstream.terminate();
    };
    const forward = (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    };
    upstream.on("message", (data, isBinary) => {
      const frame = isBinary ? undefined : parseFrame(data);
      const sent = frame?.type === "res" ? sends.get(frame.id) : undefined;
      if (sent) {
        const p = frame.payload ?? {};
        const error = String(frame.error?.message ?? "");
        trace.push({ at: Date.now(), connection, answer: sent.key, session: sent.session, ok: frame.ok, ...(frame.ok ? { runId: p.runId, status: p.status } : { error: error.slice(0, 120) }) });
        // A refused send's answer (the same words also reach every client in session events).
        if (!frame.ok && error.includes(ORPHANED_INPUT)) stats.gatewayRefusals.push(sent.text.slice(0, 80));
      }
      if (frame?.type === "event" && frame.event === "chat" && ["final", "error", "aborted"].includes(frame.payload?.state)) {
        const p = frame.payload;
        const id = `${p.runId}:${p.state}`;
        if (!ended.has(id)) {
          ended.add(id);
          trace.push({ at: Date.now(), end: p.state, runId: p.runId, session: p.sessionKey, text: textOf(p.message).slice(0, 100) });
        }
      }
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
        if (typeof frame?.payload?.runId === "string") noteRun(frame, sent, own);
      }
      if (sent) sends.delete(frame.id);
    });
    upstream.on("close", (code, reason) => closeWith(client, code, reason));
    upstream.on("error", cut);
    client.on("close", (code, reason) => closeWith(upstream, code, reason));
    client.on("error", cut);
    client.on("message", (data, isBinary) => {
      const send = !isBinary && chatSend(data);
      if (!send) return forward(data, isBinary);
      const key = send.params?.idempotencyKey;
      const text = String(send.params?.message ?? "");
      if (refused.has(key)) {
        stats.refused += 1;
        // As the gateway refuses it: an acknowledgement with `status: "error"`, then the run's error.
        const session = String(send.params?.sessionKey ?? "");
        client.send(JSON.stringify({ type: "res", id: send.id, ok: true, payload: { runId: key, status: "error", summary: `Error: ${ORPHANED_INPUT}` } }));
        client.send(JSON.stringify({ type: "event", event: "chat", payload: { runId: key, sessionKey: `agent:main:${session}`, state: "error", errorMessage: `Error: ${ORPHANED_INPUT}` } }));
        return;
      }
      const match = [...armed].find((words) => text.includes(words));
      if (match !== undefined) {
        armed.delete(match);
        refused.set(key, text);
        stats.swallowed += 1;
        // Taken, then the gateway is gone: no answer to the send, the connection drops.
        return cut();
      }
      if ([...refused.values()].includes(text)) stats.sentUnderNewKey += 1;
      const session = String(send.params?.sessionKey ?? "");
      sends.set(send.id, { text, key, session });
      trace.push({ at: Date.now(), connection, send: key, session, text: text.slice(0, 100) });
      forward(data, isBinary);
    });
  }

  /** A send's answer names its run; a run's first delta is timed as it is passed on. */
  function noteRun(frame, sent, own) {
    const runId = frame.payload.runId;
    if (frame.type === "res" && frame.ok && sent) {
      const entry = run(runId);
      entry.message ??= sent.text.slice(0, 200);
      own.runs.add(runId);
      if (own.early.has(runId)) entry.at ??= own.early.get(runId);
    } else if (frame.type === "event" && frame.event === "chat" && frame.payload.state === "delta") {
      const now = Date.now();
      const entry = run(runId);
      entry.anywhereAt ??= now;
      if (!own.seen.has(runId)) {
        own.seen.add(runId);
        entry.connections += 1;
        if (own.seen.size > MAX_RUNS) own.seen.delete(own.seen.values().next().value);
      }
      if (own.runs.has(runId)) entry.at ??= now;
      else if (!own.early.has(runId)) {
        own.early.set(runId, now);
        if (own.early.size > MAX_RUNS) own.early.delete(own.early.keys().next().value);
      }
    }
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    orphan(words) {
      armed.add(words);
    },
    stats: () => ({ ...stats, gatewayRefusals: [...stats.gatewayRefusals] }),
    firstDeltas: () => [...runs.values()].filter((r) => r.anywhereAt !== undefined).map((r) => ({ ...r })),
    trace(words) {
      const sessions = new Set(trace.filter((t) => t.send && t.text.includes(words)).map((t) => t.session.toLowerCase()));
      const ofSessions = (session) => [...sessions].some((s) => String(session ?? "").toLowerCase().endsWith(s));
      return trace.filter((t) => ofSessions(t.session));
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs remembered for `firstDeltas` (the oldest are dropped past this). */
const MAX_RUNS = 5_000;

function parseFrame(data) {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
}

function chatSend(data) {
  const frame = parseFrame(data);
  return frame?.type === "req" && frame.method === "chat.send" ? frame : undefined;
}

function textOf(message) {
  if (typeof message === "string") return message;
  const content = message?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join("");
  return typeof message?.text === "string" ? message.text : "";
}

/** Pass a close on with its code where the protocol allows sending it, else cut the socket. */
function closeWith(socket, code, reason) {
  if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) return;
  const sendable = code === 1000 || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
  if (sendable && socket.readyState === WebSocket.OPEN) socket.close(code, reason);
  else socket.terminate();
}
