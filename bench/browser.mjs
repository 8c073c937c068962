// Benchmark: a screenshot of a local test page through the relay's CDP pass-through, against the
// same screenshot with CDP straight to the same Chromium process.
//
//   node bench/browser.mjs [iterations=20]      (npm scripts' Node: run with node_modules/.bin/node)
//
// Set-up: the Worker under `wrangler dev` (DEV_BROWSER_ROUTE=on), whose local Browser Rendering
// binding launches the Chromium of @sparticuz/chromium through the wrapper of
// test/support/chromium.mjs, with a fixed debugging port. The relay path is what the agent's
// OpenClaw does: GET <relay>/json/version, open the advertised socket (the BrowserSession object
// connects it to the one Browser Rendering session), then CDP. The direct path opens Chromium's own
// /json/version and socket on that port: the same browser process, no relay.
//
// Each iteration, alternating paths: open a socket, create a target, navigate to the page, wait for
// load, Page.captureScreenshot (PNG, 1280×800), close the target and the socket. Also timed alone:
// the screenshot call on an already open socket and loaded page (the relay's per-frame cost).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../test/support/gateway-process.mjs";
import { installLocalBrowserRendering } from "../test/support/chromium.mjs";
import { startTestPage } from "../test/support/test-page.mjs";

const REPO = path.resolve(import.meta.dirname, "..");
const iterations = Number(process.argv[2] ?? 20);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "molt-bench-browser-"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cdp(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map();
    const events = [];
    let next = 1;
    socket.binaryType = "arraybuffer";
    socket.onerror = () => reject(new Error(`socket error on ${url}`));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id) {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      } else for (const listener of events) listener(message);
    };
    socket.onopen = () =>
      resolve({
        call(method, params = {}, sessionId) {
          const id = next++;
          socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
          return new Promise((ok, ko) => pending.set(id, (m) => (m.error ? ko(new Error(`${method}: ${m.error.message}`)) : ok(m.result))));
        },
        once(predicate) {
          return new Promise((ok) => {
            const listener = (m) => {
              if (predicate(m)) {
                events.splice(events.indexOf(listener), 1);
                ok(m);
              }
            };
            events.push(listener);
          });
        },
        close: () => socket.close(),
      });
  });
}

async function socketUrl(base) {
  return (await (await fetch(`${base}/json/version`)).json()).webSocketDebuggerUrl;
}

/** One full screenshot: socket, target, navigation, capture, clean-up. Returns ms and PNG bytes. */
async function fullScreenshot(base, pageUrl) {
  const started = performance.now();
  const client = await cdp(await socketUrl(base));
  const { targetId } = await client.call("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await client.call("Target.attachToTarget", { targetId, flatten: true });
  await client.call("Page.enable", {}, sessionId);
  await client.call("Emulation.setDeviceMetricsOverride", { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = client.once((m) => m.sessionId === sessionId && m.method === "Page.loadEventFired");
  await client.call("Page.navigate", { url: pageUrl }, sessionId);
  await loaded;
  const { data } = await client.call("Page.captureScreenshot", { format: "png" }, sessionId);
  await client.call("Target.closeTarget", { targetId });
  client.close();
  return { ms: performance.now() - started, bytes: Buffer.from(data, "base64").length };
}

/** The capture call alone, on an open socket and a loaded page. */
async function captureOnly(base, pageUrl, n) {
  const client = await cdp(await socketUrl(base));
  const { targetId } = await client.call("Target.createTarget", { url: pageUrl });
  const { sessionId } = await client.call("Target.attachToTarget", { targetId, flatten: true });
  await client.call("Emulation.setDeviceMetricsOverride", { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, sessionId);
  const times = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await client.call("Page.captureScreenshot", { format: "png" }, sessionId);
    times.push(performance.now() - started);
  }
  await client.call("Target.closeTarget", { targetId });
  client.close();
  return times;
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: values.length, p50: at(0.5), p90: at(0.9), min: sorted[0], max: sorted.at(-1), mean: values.reduce((a, b) => a + b, 0) / values.length };
}

const debugPort = await freePort();
const workerPort = await freePort();
const xdg = path.join(tmp, "xdg");
await installLocalBrowserRendering(xdg, { debugPort });
const page = await startTestPage({ port: 0 });
const pageUrl = `http://127.0.0.1:${page.port}/`;
const varsFile = path.join(tmp, "vars");
fs.writeFileSync(varsFile, "GATEWAY_TOKEN=bench-token\nDEV_BROWSER_ROUTE=on\nGATEWAY_URL=ws://127.0.0.1:9\n");
const wrangler = spawn(
  path.join(REPO, "node_modules/.bin/wrangler"),
  ["dev", "--ip", "127.0.0.1", "--port", String(workerPort), "--env-file", varsFile, "--show-interactive-dev-session=false", "--persist-to", path.join(tmp, "state")],
  { cwd: REPO, detached: true, stdio: "ignore", env: { ...process.env, XDG_CACHE_HOME: xdg, WRANGLER_SEND_METRICS: "false", PATH: `${path.join(REPO, "node_modules/.bin")}:${process.env.PATH}` } },
);
const relay = `http://127.0.0.1:${workerPort}/__dev/browser`;
const direct = `http://127.0.0.1:${debugPort}`;
try {
  for (let i = 0; ; i++) {
    if ((await fetch(`${relay}/json/version`).catch(() => null))?.ok) break;
    if (i > 240) throw new Error("wrangler dev did not answer within 60 s");
    await sleep(250);
  }
  // The first relayed connection opens the Browser Rendering session (launches Chromium).
  const first = await fullScreenshot(relay, pageUrl);
  console.log(`first screenshot through the relay (opens the session, launches Chromium): ${first.ms.toFixed(0)} ms, ${first.bytes} bytes`);
  for (let i = 0; i < 3; i++) await Promise.all([fullScreenshot(relay, pageUrl), fullScreenshot(direct, pageUrl)]); // warm-up
  const times = { relay: [], direct: [] };
  for (let i = 0; i < iterations; i++) {
    for (const [name, base] of i % 2 ? [["direct", direct], ["relay", relay]] : [["relay", relay], ["direct", direct]]) times[name].push((await fullScreenshot(base, pageUrl)).ms);
  }
  const capture = { relay: await captureOnly(relay, pageUrl, iterations * 2), direct: await captureOnly(direct, pageUrl, iterations * 2) };
  const result = {
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))),
    full: { relay: stats(times.relay), direct: stats(times.direct) },
    capture: { relay: stats(capture.relay), direct: stats(capture.direct) },
    pngBytes: first.bytes,
  };
  for (const [what, label] of [["full", "socket + target + navigate + screenshot"], ["capture", "Page.captureScreenshot alone"]]) {
    for (const path of ["relay", "direct"]) {
      const s = result[what][path];
      console.log(`${label.padEnd(40)} ${path.padEnd(6)} n=${s.n} p50 ${s.p50.toFixed(1)} ms  p90 ${s.p90.toFixed(1)} ms  mean ${s.mean.toFixed(1)} ms  min ${s.min.toFixed(1)}  max ${s.max.toFixed(1)}`);
    }
  }
  console.log(JSON.stringify(result));
} finally {
  try {
    process.kill(-wrangler.pid, "SIGTERM");
  } catch {
    // already gone
  }
  await page.close();
  await sleep(1000);
  fs.rmSync(tmp, { recursive: true, force: true });
}
