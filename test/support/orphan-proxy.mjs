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
//   then on.  proxy.stats() -> { swallowed, refused, sentUnderNewKey }

import http from "node:http";
import { WebSocket, WebSocketServer } from "ws";

export const ORPHANED_INPUT = "Pending input ownership ended; submit a new turn to continue";

export async function startOrphanProxy(gatewayPort) {
  const upstreamHttp = `http://127.0.0.1:${gatewayPort}`;
  const upstreamWs = `ws://127.0.0.1:${gatewayPort}`;
  const armed = new Set();
  /** Orphaned keys, and the message each one carried. */
  const refused = new Map();
  const stats = { swallowed: 0, refused: 0, sentUnderNewKey: 0 };

  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: `127.0.0.1:${gatewayPort}` };
    const upstream = http.request(`${upstreamHttp}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`gateway unreachable: ${error.message}`);
    });
    req.pipe(upstream);
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (client) => relay(client, req.url ?? "/"));
  });

  function relay(client, path) {
    const upstream = new WebSocket(`${upstreamWs}${path}`);
    const queued = [];
    const cut = () => {
      client.terminate();
      upstream.terminate();
    };
    const forward = (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else queued.push([data, isBinary]);
    };
    upstream.on("open", () => {
      for (const [data, isBinary] of queued.splice(0)) upstream.send(data, { binary: isBinary });
    });
    upstream.on("message", (data, isBinary) => {
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
      forward(data, isBinary);
    });
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    orphan(words) {
      armed.add(words);
    },
    stats: () => ({ ...stats }),
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

/** Pass a close on with its code where the protocol allows sending it, else cut the socket. */
function closeWith(socket, code, reason) {
  if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) return;
  const sendable = code === 1000 || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
  if (sendable && socket.readyState === WebSocket.OPEN) socket.close(code, reason);
  else socket.terminate();
}
