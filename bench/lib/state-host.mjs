/**
 * A stand-in for the Worker's `state.internal` host on this machine, for the persistence
 * benchmark: the same routes and the same write-new-only rule as src/sandbox/state-egress.ts,
 * with objects in a directory instead of R2. It counts the bytes each way.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export async function startStateHost(root) {
  fs.mkdirSync(path.join(root, "objects"), { recursive: true });
  fs.mkdirSync(path.join(root, "snapshots"), { recursive: true });
  const counters = { put: 0, head: 0, get: 0, bytesIn: 0, bytesOut: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://state.internal");
    const object = /^\/objects\/([0-9a-f]{64})$/.exec(url.pathname);
    const snapshot = /^\/snapshots\/(\d{1,12})$/.exec(url.pathname);
    const done = (status, text = "") => {
      res.writeHead(status, { "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (object && (req.method === "HEAD" || req.method === "GET")) {
      const file = path.join(root, "objects", object[1]);
      if (!fs.existsSync(file)) return done(404);
      if (req.method === "HEAD") {
        counters.head += 1;
        return done(200);
      }
      counters.get += 1;
      counters.bytesOut += fs.statSync(file).size;
      res.writeHead(200, { "content-length": fs.statSync(file).size });
      return fs.createReadStream(file).pipe(res);
    }
    if (object && req.method === "PUT") {
      const file = path.join(root, "objects", object[1]);
      if (fs.existsSync(file)) {
        req.resume();
        return done(200, "exists");
      }
      const temp = `${file}.${crypto.randomUUID()}`;
      const hash = crypto.createHash("sha256");
      const out = fs.createWriteStream(temp);
      req.on("data", (chunk) => {
        hash.update(chunk);
        counters.bytesIn += chunk.length;
      });
      req.pipe(out);
      out.on("finish", () => {
        if (hash.digest("hex") !== object[1]) {
          fs.rmSync(temp, { force: true });
          return done(400, "sha-256 mismatch");
        }
        fs.renameSync(temp, file);
        counters.put += 1;
        done(201);
      });
      return;
    }
    if (snapshot && req.method === "GET") {
      const file = path.join(root, "snapshots", `${snapshot[1]}.json`);
      if (!fs.existsSync(file)) return done(404);
      return done(200, fs.readFileSync(file, "utf8"));
    }
    done(405, "write-new-only");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counters,
    /** What the Worker does with the container's file list: writes the manifest of a generation. */
    publish(generation, listing) {
      const manifest = { generation, createdAt: new Date().toISOString(), openclawVersion: listing.openclawVersion, files: listing.files };
      fs.writeFileSync(path.join(root, "snapshots", `${generation}.json`), JSON.stringify(manifest), { flag: "wx" });
      return manifest;
    },
    reset() {
      Object.assign(counters, { put: 0, head: 0, get: 0, bytesIn: 0, bytesOut: 0 });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
