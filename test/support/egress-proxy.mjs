/**
 * Outbound HTTP from an emulated container (see container-host.mjs). The container's processes
 * reach the network through this proxy (HTTP_PROXY). A request for a host the Durable Object
 * intercepted goes over the container's runtime WebSocket to the Durable Object, which calls the
 * fetcher the SDK registered with `interceptOutboundHttp` and streams the answer back chunk by
 * chunk (nothing is buffered: an SSE stream arrives as it is written). Other hosts go out directly
 * (`enableInternet`).
 *
 * The channel: JSON text frames `{t: "req", id, method, url, headers}` (host -> DO) and
 * `{t: "res", id, status, headers}` / `{t: "err", id, message}` (DO -> host); bodies in both
 * directions as binary frames `[u32 id][u8 kind][bytes]`, kind 0 = data, 1 = end.
 *
 * WebSocket upgrades to an intercepted host are handed to the handler like any request, as
 * workerd's own container egress does (its inner HTTP server passes every request, upgrades
 * included, to the Worker's fetch): `{t: "ws", id, url, headers}` (host -> DO), answered with
 * `{t: "ws-accept", id}` or `{t: "ws-reject", id, status}`; then messages both ways as
 * `{t: "wsm", id, text}` or binary frames of kind 2, and `{t: "wsc", id, code, reason}` for a close.
 * Unverified on Cloudflare itself (its docs describe HTTP interception only).
 */
import http from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";

export const DATA = 0;
export const END = 1;
export const WS_BINARY = 2;

export function frame(id, kind, bytes = new Uint8Array()) {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(id, 0);
  out.writeUInt8(kind, 4);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(out, 5);
  return out;
}

export async function startEgressProxy(c) {
  const streams = new Map();
  /** Upgrades to an intercepted host: waiting for the handler's answer, then open sockets. */
  const sockets = new Map();
  const upgrades = new WebSocketServer({ noServer: true });
  let nextId = 1;

  c.onChannel = (ws) => {
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        const buffer = Buffer.from(data);
        const socket = sockets.get(buffer.readUInt32BE(0));
        if (socket?.client && buffer.readUInt8(4) === WS_BINARY) return void socket.client.send(buffer.subarray(5), { binary: true });
        const stream = streams.get(buffer.readUInt32BE(0));
        if (!stream) return;
        if (buffer.readUInt8(4) === DATA) stream.res.write(buffer.subarray(5));
        else {
          stream.res.end();
          streams.delete(stream.id);
        }
        return;
      }
      const message = JSON.parse(String(data));
      if (message.t?.startsWith("ws")) return onSocketMessage(message);
      const stream = streams.get(message.id);
      if (!stream) return;
      if (message.t === "res") {
        stream.res.writeHead(message.status, message.headers);
        stream.res.flushHeaders();
      } else if (message.t === "err") {
        if (!stream.res.headersSent) stream.res.writeHead(502, { "content-type": "text/plain" });
        stream.res.end(`outbound handler failed: ${message.message}`);
        streams.delete(stream.id);
      }
    });
    ws.on("close", () => {
      for (const stream of streams.values()) stream.res.destroy();
      streams.clear();
      for (const socket of sockets.values()) {
        if (socket.client) socket.client.terminate();
        else socket.raw.destroy();
      }
      sockets.clear();
    });
  };

  function onSocketMessage(message) {
    const socket = sockets.get(message.id);
    if (!socket) return;
    if (message.t === "ws-reject") {
      sockets.delete(message.id);
      socket.raw.end(`HTTP/1.1 ${message.status} Rejected\r\ncontent-length: 0\r\n\r\n`);
    } else if (message.t === "ws-accept") {
      upgrades.handleUpgrade(socket.req, socket.raw, socket.head, (client) => {
        socket.client = client;
        client.on("message", (data, isBinary) => {
          if (isBinary) c.channel?.send(frame(message.id, WS_BINARY, Buffer.from(data)));
          else c.channel?.send(JSON.stringify({ t: "wsm", id: message.id, text: String(data) }));
        });
        client.on("close", (code, reason) => {
          if (!sockets.delete(message.id)) return;
          c.channel?.send(JSON.stringify({ t: "wsc", id: message.id, code, reason: String(reason) }));
        });
        for (const early of socket.early) onSocketMessage(early);
      });
    } else if (!socket.client) socket.early.push(message);
    else if (message.t === "wsm") socket.client.send(message.text);
    else if (message.t === "wsc") {
      sockets.delete(message.id);
      socket.client.close(message.code >= 1000 && message.code < 5000 && ![1005, 1006].includes(message.code) ? message.code : 1000, message.reason);
    }
  }

  /** An upgrade to an intercepted host: ask the handler, then complete or refuse the handshake. */
  function upgradeThroughWorker(req, raw, head, target) {
    const ws = c.channel;
    if (!ws) return raw.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    const id = nextId++;
    c.outbound.push({ method: req.method, url: target.href, upgrade: true });
    sockets.set(id, { req, raw, head, early: [] });
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    ws.send(JSON.stringify({ t: "ws", id, url: target.href, headers }));
  }

  const intercepted = (hostname) => c.interceptAll || c.intercepts.has(hostname);

  /** One proxied request, for `target`: the Worker's handler if intercepted, else the network. */
  function route(req, res, target) {
    if (intercepted(target.hostname)) return throughWorker(req, res, target);
    // Not intercepted: straight out, as with enableInternet.
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`egress: ${error.message}`);
    });
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    // The container's name resolution (container-dns.mjs): an intercepted name resolves to the
    // container's own address, where `direct` below takes plain connections on port 80.
    if (req.url.startsWith("/_resolve?")) {
      const host = new URL(req.url, "http://resolver").searchParams.get("host") ?? "";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ address: intercepted(host.toLowerCase()) ? c.ip : null }));
      return;
    }
    let target;
    try {
      target = new URL(req.url);
    } catch {
      res.writeHead(400).end("absolute URL required");
      return;
    }
    route(req, res, target);
  });

  // Node's fetch (and OpenClaw's) tunnels even plain HTTP through the proxy with CONNECT. A tunnel
  // to an intercepted host on port 80 is answered here: its HTTP requests go to the Worker.
  // The same server takes plain connections to an intercepted name on port 80 (`direct`), as
  // Cloudflare's network-level interception does: the request's Host header names the target.
  const tunnels = http.createServer((req, res) => {
    const host = req.socket.tunnelHost ?? req.headers.host;
    route(req, res, new URL(/^https?:\/\//.test(req.url) ? req.url : `http://${host}${req.url}`));
  });
  function throughWorker(req, res, target) {
    const ws = c.channel;
    if (!ws) {
      res.writeHead(502, { "content-type": "text/plain" }).end("the runtime has no channel to the Durable Object");
      return;
    }
    const id = nextId++;
    c.outbound.push({ method: req.method, url: target.href });
    streams.set(id, { id, res });
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    ws.send(JSON.stringify({ t: "req", id, method: req.method, url: target.href, headers }));
    req.on("data", (chunk) => ws.send(frame(id, DATA, chunk)));
    req.on("end", () => ws.send(frame(id, END)));
    res.on("close", () => streams.delete(id));
  }

  server.on("upgrade", (req, socket, head) => {
    const target = new URL(req.url, "http://unknown");
    if (intercepted(target.hostname)) return upgradeThroughWorker(req, socket, head, target);
    socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
  });
  tunnels.on("upgrade", (req, socket, head) => {
    const target = new URL(/^https?:\/\//.test(req.url) ? req.url : `http://${req.socket.tunnelHost ?? socket.tunnelHost ?? req.headers.host}${req.url}`);
    if (intercepted(target.hostname)) return upgradeThroughWorker(req, socket, head, target);
    socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
  });

  server.on("connect", (req, socket, head) => {
    const [host, port] = req.url.split(":");
    if (intercepted(host)) {
      // HTTPS to an intercepted host would need interceptOutboundHttps (not emulated).
      if (Number(port) !== 80) return socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      socket.tunnelHost = host;
      if (head.length) socket.unshift(head);
      tunnels.emit("connection", socket);
      return;
    }
    const upstream = net.connect(Number(port) || 443, host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"));
    socket.on("error", () => upstream.destroy());
  });

  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(0, c.ip, resolve));
  const direct = net.createServer((socket) => tunnels.emit("connection", socket));
  await new Promise((resolve, reject) => {
    direct.once("error", reject);
    direct.listen(80, c.ip, resolve);
  });
  server.on("close", () => {
    tunnels.close();
    direct.close();
  });
  return server;
}
