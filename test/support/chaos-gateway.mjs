// A real OpenClaw gateway of the chaos run's own, which the run may kill: a control server on
// loopback kills the gateway's whole process group with SIGKILL (as a crash would) and starts it
// again on the same port with the same HOME, so its sessions survive as they would on a restarted
// container. The relay reaches it through orphan-proxy.mjs, which passes everything unchanged until
// told to orphan a message's input (OpenClaw's refusal after a restart, reproduced on demand).
// Other test files never see this gateway.
//
//   const chaos = await startChaosGateway({ token, modelUrl });
//   chaos.url (ws://…), chaos.controlUrl: POST /kill -> {ok, restarts};
//     POST /orphan {"match": "words"} -> {ok}; GET /status -> {up, restarts, orphans: {swallowed, refused, sentUnderNewKey, gatewayRefusals},
//     firstDeltas: [{runId, message, at, anywhereAt, connections}]} (orphan-proxy.mjs: when each run's first delta
//     reached the relay)
//     GET /trace?match=words -> {trace: [...], kills: [{killed, restarted}]}: the sends and run ends of the
//     sessions that message went to (orphan-proxy.mjs), and when the gateway was killed and back (epoch ms)
//   await chaos.close();

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort, startGateway } from "./gateway-process.mjs";
import { startOrphanProxy } from "./orphan-proxy.mjs";

export async function startChaosGateway({ token, modelUrl }) {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "molt-chaos-gw-"));
  // Generous: on a busy machine the first start alone can take minutes.
  let gateway = await startGateway({ token, modelUrl, port, home, keepHome: true, timeoutMs: 300_000 });
  const proxy = await startOrphanProxy(port);
  let up = true;
  let restarts = 0;
  let restarting = Promise.resolve();

  /** When each kill and restart happened (epoch ms). */
  const killedAt = [];
  async function killAndRestart() {
    up = false;
    const kill = { killed: Date.now() };
    killedAt.push(kill);
    gateway.kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 200));
    gateway = await startGateway({ token, modelUrl, port, home, keepHome: true, timeoutMs: 180_000 });
    restarts += 1;
    kill.restarted = Date.now();
    up = true;
  }

  const control = http.createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "POST" && req.url === "/kill") {
      if (!up) return reply(409, { ok: false, error: "already restarting" });
      restarting = killAndRestart().catch((error) => console.error("chaos gateway restart failed:", error.message));
      return reply(200, { ok: true, restarts });
    }
    if (req.method === "POST" && req.url === "/orphan") {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const match = (() => {
          try {
            return JSON.parse(body).match;
          } catch {
            return undefined;
          }
        })();
        if (typeof match !== "string" || !match) return reply(400, { ok: false, error: "match: the words of the message to orphan" });
        proxy.orphan(match);
        reply(200, { ok: true });
      });
      return;
    }
    if (req.method === "GET" && req.url === "/status") return reply(200, { up, restarts, orphans: proxy.stats(), firstDeltas: proxy.firstDeltas() });
    if (req.method === "GET" && req.url?.startsWith("/trace?")) {
      const match = new URL(req.url, "http://control").searchParams.get("match") ?? "";
      return match ? reply(200, { trace: proxy.trace(match), kills: killedAt }) : reply(400, { ok: false, error: "match: the words of a message" });
    }
    reply(404, { ok: false });
  });
  await new Promise((resolve) => control.listen(0, "127.0.0.1", resolve));

  return {
    url: proxy.url,
    controlUrl: `http://127.0.0.1:${control.address().port}`,
    async close() {
      control.closeAllConnections?.();
      await new Promise((resolve) => control.close(() => resolve()));
      await restarting;
      await proxy.close();
      await gateway.stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
