// Headless Chromium for the console's browser test, started on demand from Node (vitest's
// globalSetup): tests run inside workerd and cannot spawn processes, so they ask this small
// loopback server to start one, then drive it over the DevTools protocol themselves.
//
//   POST /launch          -> {webSocketDebuggerUrl}   (one Chromium per call, killed at close())
//                         -> 503 {unavailable, required} when Chromium can't start here;
//                            `required` is true under CI=true, where the test must fail, not skip
//   POST /screenshots/:n  PNG body -> {saved}: written to docs/console/<n>.png only when
//                         CONSOLE_SCREENSHOTS=1 (so that `npm test` leaves the tree clean)
//
// The Chromium is the one `npm install` brings (@sparticuz/chromium).
//
// API: const launcher = await startChromiumLauncher(); launcher.url; await launcher.close()

import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCREENSHOTS = path.join(ROOT, "docs/console");

export async function startChromiumLauncher({ host = "127.0.0.1" } = {}) {
  const browsers = new Set();

  const server = http.createServer(async (req, res) => {
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === "POST" && req.url === "/launch") {
        try {
          const browser = await launchChromium();
          browsers.add(browser);
          return json(200, { webSocketDebuggerUrl: browser.webSocketDebuggerUrl });
        } catch (error) {
          return json(503, { unavailable: String(error?.message ?? error), required: process.env.CI === "true" });
        }
      }
      const shot = /^\/screenshots\/([a-z0-9-]{1,40})$/.exec(req.url ?? "");
      if (req.method === "POST" && shot) {
        const body = await readBody(req);
        if (process.env.CONSOLE_SCREENSHOTS !== "1") return json(200, { saved: false, bytes: body.length });
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        fs.writeFileSync(path.join(SCREENSHOTS, `${shot[1]}.png`), body);
        return json(200, { saved: true, bytes: body.length });
      }
      json(404, { error: "not found" });
    } catch (error) {
      json(500, { error: String(error) });
    }
  });
  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${server.address().port}`,
    async close() {
      for (const browser of browsers) browser.kill();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function launchChromium() {
  const chromium = (await import("@sparticuz/chromium")).default;
  const executable = await chromium.executablePath();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "molt-console-chromium-"));
  const child = spawn(
    executable,
    [
      "--headless=shell",
      "--no-sandbox",
      "--no-zygote",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--hide-scrollbars",
      "--font-render-hinting=none",
      "--remote-debugging-port=0",
      "--remote-allow-origins=*",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const kill = () => {
    child.kill("SIGKILL");
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const webSocketDebuggerUrl = await new Promise((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => reject(new Error(`Chromium did not start within 30 s: ${output.slice(-500)}`)), 30_000);
      child.stderr.on("data", (chunk) => {
        output += chunk;
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on("error", (error) => { clearTimeout(timer); reject(error); });
      child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`Chromium exited (${code}): ${output.slice(-500)}`)); });
    });
    child.stderr.removeAllListeners("data");
    child.stderr.resume();
    return { webSocketDebuggerUrl, kill };
  } catch (error) {
    kill();
    throw error;
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
