// A pass-through in front of the chaos run's gateway that can reproduce one fault of OpenClaw's
// that the 1,000-message soak met: the gateway takes a message as pending input and dies before
// running it; once restarted, it refuses that input under its idempotency key for good, with
// `UNAVAILABLE: Pending input ownership ended; submit a new turn to continue` on every re-send
// with that key (session-accessor's pending-input admission), while a new key is taken.
//
// Everything else passes unchanged in both directions: HTTP (health, media) and every WebSocket
// frame, with no header added (the gateway refuses forwarded headers from a peer it doesn't trust).
//
//   const proxy = await startOrphanProxy(gatewayPort);
//   proxy.url (ws://…);  proxy.orphan("words")  the next chat.send whose message contains "words" is
//   swallowed and its connection cut, as if the gateway had died holding it; its key is refused from
//   then on.  proxy.stats() -> { swallowed, refused, sentUnderNewKey, gatewayRefusals }
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
    const connection = ++connections;
    const at = () => Date.now();
    const cut = () => {
      client.terminate();
      upstream.terminate();
    };
    const forward = (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    };
    upstream.on("message", (data, isBinary) => {
      const frame = isBinary ? undefined : parse(data);
      if (frame?.type === "res" && sends.has(frame.id)) {
        const { key, session } = sends.get(frame.id);
        const p = frame.payload ?? {};
        trace.push({ at: at(), connection, answer: key, session, ok: frame.ok, ...(frame.ok ? { runId: p.runId, status: p.status } : { error: String(frame.error?.message ?? "").slice(0, 120) }) });
        // A refused send's answer (the same words also reach every client in session events).
        if (!frame.ok && String(frame.error?.message).includes(ORPHANED_INPUT)) stats.gatewayRefusals.push(String(sends.get(frame.id).text).slice(0, 80));
        sends.delete(frame.id);
      }
      if (frame?.type === "event" && frame.event === "chat" && ["final", "error", "aborted"].includes(frame.payload?.state)) {
        const p = frame.payload;
        const id = `${p.runId}:${p.state}`;
        if (!ended.has(id)) {
          ended.add(id);
          trace.push({ at: at(), end: p.state, runId: p.runId, session: p.sessionKey, text: textOf(p.message).slice(0, 100) });
        }
      }
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
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
        client.send(JSON.stringify({ type: "res", id: send.id, ok: false, error: { code: "UNAVAILABLE", message: ORPHANED_INPUT } }));
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
      trace.push({ at: at(), connection, send: key, session, text: text.slice(0, 100) });
      forward(data, isBinary);
    });
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    orphan(words) {
      armed.add(words);
    },
    stats: () => ({ ...stats, gatewayRefusals: [...stats.gatewayRefusals] }),
    clock: () => Date.now(),
    trace(words) {
      const sessions = new Set(trace.filter((t) => t.send && t.text.includes(words)).map((t) => t.session));
      const ofSessions = (session) => [...sessions].some((s) => String(session ?? "").toLowerCase().endsWith(s.toLowerCase()));
      return trace.filter((t) => ofSessions(t.session));
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function chatSend(data) {
  try {
    const frame = JSON.parse(data.toString("utf8"));
    return frame?.type === "req" && frame.method === "chat.send" ? frame : undefined;
  } catch {
    return undefined;
  }
}

function parse(data) {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
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
