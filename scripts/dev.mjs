#!/usr/bin/env node
/**
 * `npm run dev`: the whole relay on this machine, no platform account and no Docker needed.
 *
 * - a real OpenClaw gateway from container/node_modules, started by the container's own start
 *   script, with its state in .dev/openclaw-home;
 * - the model: Anthropic or OpenAI when ANTHROPIC_API_KEY or OPENAI_API_KEY is set, otherwise the
 *   built-in offline stand-in (deterministic, streams, and makes a demo picture when asked);
 * - a local Slack API emulator, so replies have somewhere to go (`npm run chat -- "hello"`);
 * - the Worker under `wrangler dev`, pointed at the gateway through GATEWAY_URL;
 * - the agent's browser: wrangler's local Browser Rendering binding runs the headless Chromium of
 *   `@sparticuz/chromium` (no download), and the gateway reaches it through the Worker's CDP
 *   pass-through on loopback (`/__dev/browser`, served only in dev).
 *
 * Secrets for this run are generated and handed to wrangler in an env file under .dev/, so they
 * are never printed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSlackEmulator } from "../test/emulators/slack.mjs";
import { startAccessJwks } from "../test/support/access-jwks.mjs";
import { startAccessProxy } from "./access-proxy.mjs";
import { startGateway } from "../test/support/gateway-process.mjs";
import { startModelServer } from "../test/support/model-server.mjs";
import { installLocalBrowserRendering } from "../test/support/chromium.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEV = path.join(ROOT, ".dev");
const WORKER_PORT = Number(process.env.PORT ?? 8787);
const GATEWAY_PORT = Number(process.env.DEV_GATEWAY_PORT ?? 18789);
const SLACK_PORT = Number(process.env.DEV_SLACK_PORT ?? 8790);
const CONSOLE_PORT = Number(process.env.DEV_CONSOLE_PORT ?? 8788);
/** Who the local Access stand-in signs you in as (an admin of this dev relay). */
const CONSOLE_EMAIL = process.env.DEV_CONSOLE_EMAIL ?? "owner@localhost";
const ACCESS_AUD = "molt-relay-dev";

const bold = (text) => `\x1b[1m${text}\x1b[0m`;
const say = (text) => console.log(`${bold("[dev]")} ${text}`);
const secret = () => randomBytes(24).toString("base64url");

fs.mkdirSync(path.join(DEV, "openclaw-home"), { recursive: true });
const stoppers = [];
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  for (const fn of stoppers.reverse()) await fn().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

// The model.
let modelUrl;
if (process.env.ANTHROPIC_API_KEY) say(`model: ${bold("Anthropic")} (ANTHROPIC_API_KEY is set)${process.env.MODEL ? `, ${process.env.MODEL}` : ""}`);
else if (process.env.OPENAI_API_KEY) say(`model: ${bold("OpenAI")} (OPENAI_API_KEY is set)${process.env.MODEL ? `, ${process.env.MODEL}` : ""}`);
else {
  const model = await startModelServer({ port: 0 });
  stoppers.push(() => model.close());
  modelUrl = model.url;
  say(`model: ${bold("built-in offline stand-in")} at ${model.url} (set ANTHROPIC_API_KEY or OPENAI_API_KEY for a real one)`);
  say(`        it echoes you; say "picture" for a demo image, "slow" for a slow stream, "long" for a long answer`);
}

// The gateway.
const gatewayToken = secret();
say(`starting the OpenClaw gateway on 127.0.0.1:${GATEWAY_PORT} (takes ~20-30 s)…`);
// Keys stay in the Worker here too: the gateway reaches its model through the Worker's
// /_dev/llm/ route (the same handler as llm.internal in the container) and holds no key.
const providers = [process.env.ANTHROPIC_API_KEY && "anthropic", process.env.OPENAI_API_KEY && "openai", modelUrl && "molt"].filter(Boolean);
const gateway = await startGateway({
  port: GATEWAY_PORT,
  token: gatewayToken,
  env: {
    MODEL_PROVIDERS: providers.join(","),
    LLM_BASE_URL: `http://127.0.0.1:${WORKER_PORT}/_dev/llm`,
    ANTHROPIC_API_KEY: "",
    OPENAI_API_KEY: "",
    // The agent's browser: the Worker's pass-through to Browser Rendering, on loopback.
    // 0.0.0.0, not 127.0.0.1: OpenClaw takes a loopback CDP URL for a browser it launches itself.
    // The browser is on this machine, so it may open private addresses (as a browser OpenClaw
    // launched itself would); OpenClaw's guard honours no IP literal in allowedHostnames.
    BROWSER_CDP_URL: `http://0.0.0.0:${WORKER_PORT}/__dev/browser`,
    BROWSER_ALLOW_PRIVATE_NETWORK: "1",
  },
  home: path.join(DEV, "openclaw-home"),
  timeoutMs: 180_000,
}).catch((error) => {
  console.error(error.message);
  process.exit(1);
});
stoppers.push(() => gateway.stop());
say(`gateway ready in ${(gateway.startupMs / 1000).toFixed(1)} s: ${gateway.url}`);

// Somewhere for replies to go: the local Slack emulator, unless a real Slack app's secrets are set
// in the shell (then `npm run dev:slack` brings a real workspace's events here).
const realSlack = Boolean(process.env.SLACK_SIGNING_SECRET && process.env.SLACK_BOT_TOKEN);
const slack = realSlack ? undefined : await startSlackEmulator({ port: SLACK_PORT });
if (slack) {
  stoppers.push(() => slack.close());
  say(`Slack API emulator: ${slack.url}`);
} else say(`Slack: the real Slack app from SLACK_SIGNING_SECRET / SLACK_BOT_TOKEN (run \`npm run dev:slack\` for its events)`);

// A local stand-in for Cloudflare Access: its keys, which the Worker trusts as a team domain.
const access = await startAccessJwks({ port: 0 });
stoppers.push(() => access.close());

// The Worker.
const slackSigningSecret = realSlack ? process.env.SLACK_SIGNING_SECRET : secret();
const workerUrl = `http://127.0.0.1:${WORKER_PORT}`;
const vars = {
  GATEWAY_URL: gateway.url,
  GATEWAY_TOKEN: gatewayToken,
  SLACK_SIGNING_SECRET: slackSigningSecret,
  SLACK_BOT_TOKEN: realSlack ? process.env.SLACK_BOT_TOKEN : `xoxb-dev-${secret()}`,
  ...(slack ? { SLACK_API_URL: slack.url } : {}),
  PUBLIC_URL: workerUrl,
  ADMINS: [process.env.ADMINS, `access:${CONSOLE_EMAIL}`].filter(Boolean).join(","),
  ACCESS_TEAM_DOMAIN: access.url,
  ACCESS_AUD,
  DEV_BROWSER_ROUTE: "on",
  DEV_LLM_ROUTE: "1",
  ...(process.env.ANTHROPIC_API_KEY ? { ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY } : {}),
  ...(process.env.OPENAI_API_KEY ? { OPENAI_API_KEY: process.env.OPENAI_API_KEY } : {}),
  ...(process.env.AI_GATEWAY_BASE_URL ? { AI_GATEWAY_BASE_URL: process.env.AI_GATEWAY_BASE_URL } : {}),
  ...(modelUrl ? { OPENAI_COMPATIBLE_BASE_URL: modelUrl } : {}),
  ...(process.env.MODEL ? { MODEL: process.env.MODEL } : {}),
};
const envFile = path.join(DEV, "dev.vars");
fs.writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
if (slack) fs.writeFileSync(path.join(DEV, "dev.json"), JSON.stringify({ slackSigningSecret, workerUrl, slackEmulatorUrl: slack.url }, null, 2), { mode: 0o600 });
else fs.rmSync(path.join(DEV, "dev.json"), { force: true });

// wrangler's local Browser Rendering launches Chrome from $XDG_CACHE_HOME/.wrangler/chrome/…;
// a wrapper there runs the Chromium that npm install brought.
const xdgCache = path.join(DEV, "xdg-cache");
const browserNote = await installLocalBrowserRendering(xdgCache).then(
  () => "headless Chromium from @sparticuz/chromium",
  (error) => `unavailable (${error.message})`,
);
say(`browser: ${browserNote}, through ${workerUrl}/__dev/browser`);

const wrangler = spawn(
  path.join(ROOT, "node_modules/.bin/wrangler"),
  ["dev", "--ip", "127.0.0.1", "--port", String(WORKER_PORT), "--env-file", envFile, "--show-interactive-dev-session=false", "--persist-to", path.join(DEV, "wrangler-state")],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, XDG_CACHE_HOME: xdgCache, PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH}` } },
);
stoppers.push(async () => wrangler.kill("SIGTERM"));
wrangler.on("exit", (code) => stop(code ?? 0));

// The console, behind a loopback proxy that signs you in as Access would.
const consoleProxy = await startAccessProxy({ port: CONSOLE_PORT, target: workerUrl, accessUrl: access.url, audience: ACCESS_AUD, email: CONSOLE_EMAIL });
stoppers.push(() => consoleProxy.close());

// Tell the user when the relay answers.
for (let i = 0; i < 120 && !stopping; i++) {
  try {
    const health = await (await fetch(`${workerUrl}/healthz`)).json();
    say(`relay ready: ${workerUrl}/healthz → gateway ${health.gateway?.phase ?? "?"} (${health.gateway?.mode})`);
    say(`console: ${bold(`${consoleProxy.url}/admin/`)}   (signed in as ${CONSOLE_EMAIL} by a local Access stand-in)`);
    if (slack) say(`try it: ${bold('npm run chat -- "hello"')}   (Ctrl-C stops everything)`);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
