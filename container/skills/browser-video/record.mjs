#!/usr/bin/env node
// Records a browsing session as an MP4: CDP screencast frames from the agent's remote browser
// (the relay's Browser Rendering pass-through, the same one the browser tool uses), joined with
// ffmpeg. Prints `MEDIA:<path>` on success. Node >= 22 (global WebSocket), ffmpeg on PATH.
//
//   node record.mjs --url https://example.com/ [--seconds 8] [--no-scroll] [--width 1280 --height 720] [--out file.mp4]
//
// The browser endpoint: $BROWSER_CDP_URL (set by the start script), else the default profile's
// cdpUrl in ~/.openclaw/openclaw.json.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

export function parseArgs(argv) {
  const options = { seconds: 8, scroll: true, width: 1280, height: 720 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? fail(`${arg} needs a value`);
    if (arg === "--url") options.url = value();
    else if (arg === "--seconds") options.seconds = Number(value());
    else if (arg === "--scroll") options.scroll = true;
    else if (arg === "--no-scroll") options.scroll = false;
    else if (arg === "--width") options.width = Number(value());
    else if (arg === "--height") options.height = Number(value());
    else if (arg === "--out") options.out = value();
    else if (arg === "--cdp") options.cdp = value();
    else fail(`unknown option ${arg}`);
  }
  if (!options.url || !/^https?:\/\//i.test(options.url)) fail("--url must be an http(s) URL");
  if (!(options.seconds > 0 && options.seconds <= 60)) fail("--seconds must be between 0 and 60");
  for (const key of ["width", "height"]) {
    if (!(Number.isInteger(options[key]) && options[key] >= 100 && options[key] <= 1920)) fail(`--${key} must be a whole number from 100 to 1920`);
    options[key] -= options[key] % 2; // H.264 wants even dimensions
  }
  return options;
}

function cdpEndpoint(explicit) {
  if (explicit) return explicit;
  if (process.env.BROWSER_CDP_URL) return process.env.BROWSER_CDP_URL;
  const home = process.env.OPENCLAW_HOME || process.env.HOME || os.homedir();
  try {
    const config = JSON.parse(fs.readFileSync(process.env.OPENCLAW_CONFIG_PATH || path.join(home, ".openclaw", "openclaw.json"), "utf8"));
    const profile = config.browser?.profiles?.[config.browser?.defaultProfile];
    if (profile?.cdpUrl) return profile.cdpUrl;
  } catch {
    // no config
  }
  fail("no browser endpoint: set BROWSER_CDP_URL or browser.profiles.<default>.cdpUrl");
}

/** The browser socket URL: ws(s) URLs as given, http(s) through /json/version. */
async function browserSocketUrl(endpoint) {
  if (/^wss?:/i.test(endpoint)) return endpoint;
  const response = await fetch(`${endpoint.replace(/\/$/, "")}/json/version`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) fail(`${endpoint}/json/version answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const { webSocketDebuggerUrl } = await response.json();
  if (!webSocketDebuggerUrl) fail(`${endpoint}/json/version gave no webSocketDebuggerUrl`);
  return webSocketDebuggerUrl;
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map();
    const listeners = new Set();
    let nextId = 1;
    socket.addEventListener("open", () =>
      resolve({
        call(method, params = {}, sessionId) {
          const id = nextId++;
          socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
          return new Promise((ok, ko) => pending.set(id, { ok, ko, method }));
        },
        on(listener) {
          listeners.add(listener);
        },
        close() {
          socket.close();
        },
      }),
    );
    socket.addEventListener("error", () => reject(new Error(`could not connect to the browser at ${url}`)));
    socket.addEventListener("close", (event) => {
      for (const { ko, method } of pending.values()) ko(new Error(`the browser closed the connection (${event.code}) during ${method}`));
      pending.clear();
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.id && pending.has(message.id)) {
        const { ok, ko, method } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) ko(new Error(`${method}: ${message.error.message}`));
        else ok(message.result);
      } else for (const listener of listeners) listener(message);
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function record(options) {
  const cdp = await connect(await browserSocketUrl(cdpEndpoint(options.cdp)));
  const { targetId } = await cdp.call("Target.createTarget", { url: "about:blank", newWindow: false });
  try {
    const { sessionId } = await cdp.call("Target.attachToTarget", { targetId, flatten: true });
    const page = (method, params) => cdp.call(method, params, sessionId);
    await page("Page.enable");
    await page("Emulation.setDeviceMetricsOverride", { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false });
    const loaded = new Promise((resolve) => cdp.on((m) => m.sessionId === sessionId && m.method === "Page.loadEventFired" && resolve()));
    const navigation = await page("Page.navigate", { url: options.url });
    if (navigation.errorText) throw new Error(`could not load ${options.url}: ${navigation.errorText}`);
    await Promise.race([loaded, sleep(15_000)]);

    const frames = [];
    cdp.on((m) => {
      if (m.sessionId !== sessionId || m.method !== "Page.screencastFrame") return;
      frames.push({ data: Buffer.from(m.params.data, "base64"), at: Date.now() });
      page("Page.screencastFrameAck", { sessionId: m.params.sessionId }).catch(() => undefined);
    });
    const started = Date.now();
    await page("Page.startScreencast", { format: "jpeg", quality: 80, maxWidth: options.width, maxHeight: options.height, everyNthFrame: 1 });
    const end = started + options.seconds * 1000;
    let tick = 0;
    while (Date.now() < end) {
      // A screenshot now and then: a still page sends no screencast frames.
      if (frames.length === 0 || Date.now() - frames.at(-1).at > 500) {
        const shot = await page("Page.captureScreenshot", { format: "jpeg", quality: 80 });
        frames.push({ data: Buffer.from(shot.data, "base64"), at: Date.now() });
      }
      if (options.scroll) await page("Runtime.evaluate", { expression: `window.scrollBy({ top: ${Math.round(options.height / 12)}, behavior: "instant" })` });
      await sleep(100);
      tick++;
    }
    await page("Page.stopScreencast").catch(() => undefined);
    frames.sort((a, b) => a.at - b.at);
    return { frames, started, ended: Date.now() };
  } finally {
    await cdp.call("Target.closeTarget", { targetId }).catch(() => undefined);
    cdp.close();
  }
}

/** Joins frames (each shown until the next) into an H.264 MP4 with ffmpeg's concat demuxer. */
export async function encode({ frames, ended }, out, options) {
  if (frames.length === 0) throw new Error("the browser sent no frames");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "browser-video-"));
  try {
    const lines = ["ffconcat version 1.0"];
    frames.forEach((frame, i) => {
      const file = path.join(dir, `f${String(i).padStart(5, "0")}.jpg`);
      fs.writeFileSync(file, frame.data);
      const until = frames[i + 1]?.at ?? ended;
      lines.push(`file '${file}'`, `duration ${Math.max(0.04, (until - frame.at) / 1000).toFixed(3)}`);
    });
    lines.push(`file '${path.join(dir, `f${String(frames.length - 1).padStart(5, "0")}.jpg`)}'`);
    fs.writeFileSync(path.join(dir, "frames.txt"), lines.join("\n") + "\n");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const args = ["-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", path.join(dir, "frames.txt"),
      "-vf", `scale=${options.width}:${options.height}:force_original_aspect_ratio=decrease,pad=${options.width}:${options.height}:(ow-iw)/2:(oh-ih)/2,fps=15,format=yuv420p`,
      "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-movflags", "+faststart", out];
    await new Promise((resolve, reject) => {
      const child = spawn(process.env.FFMPEG_BIN || "ffmpeg", args, { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", (error) => reject(new Error(`ffmpeg could not run: ${error.message}`)));
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${code}): ${stderr.slice(-500)}`))));
    });
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const home = process.env.OPENCLAW_HOME || process.env.HOME || os.homedir();
  const out = path.resolve(
    (options.out ?? path.join(home, ".openclaw", "workspace", "videos", `${new URL(options.url).hostname}-${Date.now()}.mp4`)).replace(/^~(?=\/)/, home),
  );
  const recording = await record(options);
  await encode(recording, out, options);
  process.stdout.write(`recorded ${recording.frames.length} frames over ${((recording.ended - recording.started) / 1000).toFixed(1)} s\nMEDIA:${out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main().catch((error) => fail(error.message));
