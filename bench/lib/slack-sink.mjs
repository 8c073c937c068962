// A do-nothing Slack Web API on loopback for the ack benchmark: every method answers `ok: true`
// at once and is only counted, so the bridge's background turns have somewhere cheap to post.
import http from "node:http";

export async function startSlackSink() {
  const counts = {};
  let tsCounter = 0;
  const server = http.createServer((req, res) => {
    const method = req.url.replace(/^\/api\//, "").split("?")[0];
    req.resume();
    req.on("end", () => {
      counts[method] = (counts[method] ?? 0) + 1;
      tsCounter += 1;
      const body = JSON.stringify({ ok: true, ts: `1700000000.${String(tsCounter).padStart(6, "0")}`, channel: "C0BENCH" });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/api/`,
    counts,
    reset() {
      for (const key of Object.keys(counts)) delete counts[key];
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
