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
 * WebSocket upgrades to an intercepted host are refused with 501 here: the Containers runtime
 * documents outbound interception for HTTP requests only, and whether an upgrade passes through a
 * handler has not been verified, so the emulation does not pretend it does.
 */
import http from "node:http";
import net from "node:net";

export const DATA = 0;
export const END = 1;

export function frame(id, kind, bytes = new Uint8Array()) {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(id, 0);
  out.writeUInt8(kind, 4);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(out, 5);
  return out;
}

export async function startEgressProxy(c) {
  const streams = new Map();
  let nextId = 1;

  c.onChannel = (ws) => {
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        const buffer = Buffer.from(data);
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
    });
  };

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
  const tunnels = http.createServer((req, res) => {
    const host = req.socket.tunnelHost;
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

  server.on("upgrade", (req, socket) => {
    const target = new URL(req.url, "http://unknown");
    if (intercepted(target.hostname)) {
      socket.end("HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n");
      return;
    }
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

  await new Promise((resolve) => server.listen(0, c.ip, resolve));
  server.on("close", () => tunnels.close());
  return server;
}
