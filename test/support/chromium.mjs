/**
 * A real headless Chromium for tests, benchmarks and `npm run dev`, from the npm package
 * `@sparticuz/chromium` (so `npm install` alone brings it; no download at test time).
 *
 * - `chromiumPath()` unpacks it (once, to the OS temp dir) and returns the executable.
 * - `installLocalBrowserRendering(cacheHome)` makes miniflare's local Browser Rendering binding use
 *   it: miniflare launches Chrome for Testing 126 from
 *   `$XDG_CACHE_HOME/.wrangler/chrome/linux-126.0.6478.182/chrome-linux64/chrome` and downloads it
 *   when that file is missing. We put an executable wrapper there that drops miniflare's
 *   `--headless=new` and runs this Chromium with the flags it needs here (`--headless=shell`, and
 *   `--no-sandbox --no-zygote`, which running as root requires). Every other flag miniflare passes
 *   (`--remote-debugging-port=0`, `--user-data-dir=…`, `about:blank`, …) is kept. The caller points
 *   `XDG_CACHE_HOME` at `cacheHome` for the process that runs miniflare.
 * - `launchChromium()` starts one directly with CDP on a free port (the benchmark's baseline).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** The Chrome build miniflare's Browser Rendering binding asks for (miniflare's BROWSER_VERSION). */
export const MINIFLARE_CHROME_VERSION = "126.0.6478.182";

/** The flags this Chromium needs in a container or as root; `--headless=shell` is its headless mode. */
export const CHROMIUM_FLAGS = ["--headless=shell", "--no-sandbox", "--no-zygote", "--disable-gpu", "--disable-dev-shm-usage"];

export async function chromiumPath() {
  const { default: chromium } = await import("@sparticuz/chromium");
  return chromium.executablePath();
}

/** Path of the executable miniflare launches, under a given XDG cache home. */
export function miniflareChromePath(cacheHome, platform = "linux") {
  return path.join(cacheHome, ".wrangler", "chrome", `${platform}-${MINIFLARE_CHROME_VERSION}`, "chrome-linux64", "chrome");
}

/**
 * Writes the wrapper miniflare will launch and returns its path. Idempotent. Only Linux x64 is
 * handled (the platform `@sparticuz/chromium` ships for). `extraFlags` go to every launch (tests
 * map their page host to loopback with `--host-resolver-rules`). `debugPort` replaces miniflare's
 * `--remote-debugging-port=0`, so a benchmark can also reach the same browser directly.
 */
export async function installLocalBrowserRendering(cacheHome, { extraFlags = [], debugPort } = {}) {
  if (process.platform !== "linux") throw new Error(`local Browser Rendering with @sparticuz/chromium needs Linux, not ${process.platform}`);
  const executable = await chromiumPath();
  const target = miniflareChromePath(cacheHome);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const quoted = (value) => `'${String(value).replaceAll("'", `'\\''`)}'`;
  const script = [
    "#!/bin/sh",
    "# Runs the Chromium of @sparticuz/chromium in place of Chrome for Testing (see test/support/chromium.mjs).",
    'for arg do',
    '  shift',
    '  case "$arg" in --headless|--headless=*) continue ;; esac',
    ...(debugPort ? [`  case "$arg" in --remote-debugging-port=*) set -- "$@" --remote-debugging-port=${Number(debugPort)}; continue ;; esac`] : []),
    '  set -- "$@" "$arg"',
    "done",
    `exec ${[executable, ...CHROMIUM_FLAGS, ...extraFlags].map(quoted).join(" ")} "$@"`,
    "",
  ].join("\n");
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
  if (current !== script) fs.writeFileSync(target, script, { mode: 0o755 });
  // miniflare writes this after a first successful launch; with it, a failed launch never deletes
  // the folder to re-download Chrome (which cannot work offline).
  fs.writeFileSync(path.join(path.dirname(path.dirname(target)), ".miniflare-install-complete"), "");
  return target;
}

/**
 * Starts a Chromium with CDP on a free loopback port. Resolves with its browser WebSocket URL,
 * its HTTP origin and a `close()`.
 */
export async function launchChromium({ userDataDir } = {}) {
  const executable = await chromiumPath();
  const dataDir = userDataDir ?? fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "molt-chromium-"));
  const child = spawn(executable, [...CHROMIUM_FLAGS, "--remote-debugging-port=0", `--user-data-dir=${dataDir}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const wsUrl = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`Chromium did not print its DevTools URL within 30 s:\n${seen.slice(-2000)}`)), 30_000);
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before printing its DevTools URL:\n${seen.slice(-2000)}`));
    });
  });
  child.stderr.resume();
  return {
    wsUrl,
    httpUrl: `http://${new URL(wsUrl).host}`,
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      if (!userDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
