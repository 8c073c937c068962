#!/usr/bin/env node
// `npm run chat -- "hello"`: talk to the local relay from a terminal, no Slack account needed.
//
// With `npm run dev` running (the Worker and the Slack emulator), this signs an app_mention in a
// fresh thread of channel CDEVCHAT exactly as Slack would, POSTs it to the Worker's /slack/events,
// and prints the reply as the relay streams it into the emulator: text as it is appended, the
// working status dimmed, uploaded files as [file: name, N bytes].

import { createHmac, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";

const CHANNEL = "CDEVCHAT";
const TEAM = "T0DEVTEAM";
const BOT_USER = "U0DEVBOT";
const USER = "U0DEVUSER";
const TIMEOUT_MS = Number(process.env.CHAT_TIMEOUT_MS ?? 180_000);
/** Once the answer looks finished, wait this long for files or more messages before exiting. */
const SETTLE_MS = 2_500;

const tty = process.stdout.isTTY;
const dim = (text) => (tty ? `\x1b[2m${text}\x1b[0m` : text);
const bold = (text) => (tty ? `\x1b[1m${text}\x1b[0m` : text);
const out = (text) => process.stdout.write(text);

function hint(reason) {
  console.error(`${reason}\nStart the relay first with \`npm run dev\` (in another terminal), then run \`npm run chat -- "hello"\` again.`);
  process.exit(1);
}

async function readDevConfig() {
  try {
    const config = JSON.parse(await readFile(new URL("../.dev/dev.json", import.meta.url), "utf8"));
    if (!config.slackSigningSecret || !config.workerUrl || !config.slackEmulatorUrl) throw new Error("incomplete");
    return config;
  } catch {
    return hint("No .dev/dev.json with the relay's local addresses.");
  }
}

function mentionEvent(text) {
  const now = Date.now();
  const ts = `${Math.floor(now / 1000)}.${String((now % 1000) * 1000 + Math.floor(Math.random() * 1000)).padStart(6, "0")}`;
  return {
    ts,
    payload: {
      token: "dev-verification-token",
      team_id: TEAM,
      api_app_id: "A0DEVAPP",
      type: "event_callback",
      event_id: `Ev${randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`,
      event_time: Math.floor(now / 1000),
      authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
      event: { type: "app_mention", user: USER, text: `<@${BOT_USER}> ${text}`, ts, event_ts: ts, channel: CHANNEL, team: TEAM },
    },
  };
}

function sign(body, secret) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${signature}` };
}

/** Server-sent events from the emulator, one parsed call at a time. */
async function* emulatorCalls(response) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

async function main() {
  const text = process.argv.slice(2).join(" ").trim();
  if (!text) {
    console.error('Usage: npm run chat -- "your message"');
    process.exit(2);
  }
  const config = await readDevConfig();
  const emulator = new URL(config.slackEmulatorUrl).origin;
  const abort = new AbortController();

  let events;
  try {
    events = await fetch(`${emulator}/_emulator/stream?channel=${CHANNEL}`, { signal: abort.signal });
  } catch {
    return hint(`The Slack emulator is not answering at ${emulator}.`);
  }

  const { ts, payload } = mentionEvent(text);
  const body = JSON.stringify(payload);
  let response;
  try {
    response = await fetch(new URL("/slack/events", config.workerUrl), {
      method: "POST",
      headers: { "content-type": "application/json", ...sign(body, config.slackSigningSecret) },
      body,
    });
  } catch {
    abort.abort();
    return hint(`The relay is not answering at ${config.workerUrl}.`);
  }
  if (!response.ok) {
    abort.abort();
    console.error(`The relay answered ${response.status}: ${await response.text()}`);
    process.exit(1);
  }
  out(`${bold("you")}: ${text}\n${bold("molt")}: `);

  const ours = new Set(); // ts of the messages in our thread
  const shown = new Map(); // posted message ts -> text shown
  let settle;
  const finishSoon = () => {
    clearTimeout(settle);
    settle = setTimeout(() => abort.abort(), SETTLE_MS);
  };
  const timeout = setTimeout(() => {
    console.error(`\n${dim(`No finished reply after ${TIMEOUT_MS / 1000} s. Is the agent gateway up? Check the \`npm run dev\` terminal.`)}`);
    process.exitCode = 1;
    abort.abort();
  }, TIMEOUT_MS);

  try {
    for await (const call of emulatorCalls(events)) {
      const b = call.body ?? {};
      const inThread = b.thread_ts === ts || ours.has(b.ts);
      if (!inThread || !call.response?.ok) continue;
      if (settle) finishSoon();
      switch (call.method) {
        case "assistant.threads.setStatus":
          if (b.status) out(dim(`(${b.status})`) + " ");
          break;
        case "chat.startStream":
          ours.add(call.response.ts);
          out(b.markdown_text ?? "");
          break;
        case "chat.appendStream":
          out(b.markdown_text ?? "");
          break;
        case "chat.stopStream":
          out(`${b.markdown_text ?? ""}\n`);
          finishSoon();
          break;
        case "chat.postMessage":
          ours.add(call.response.ts);
          shown.set(call.response.ts, b.text ?? "");
          out(`${b.text ?? ""}`);
          if (!(b.text ?? "").endsWith(" …")) out("\n"), finishSoon();
          break;
        case "chat.update": {
          const before = (shown.get(b.ts) ?? "").replace(/ …$/, "");
          const after = b.text ?? "";
          out(after.startsWith(before) ? after.slice(before.length) : `\n${after}`);
          shown.set(b.ts, after);
          if (!after.endsWith(" …")) out("\n"), finishSoon();
          break;
        }
        case "files.completeUploadExternal":
          for (const file of call.response.files ?? []) out(`${dim(`[file: ${file.name ?? file.title}, ${file.size ?? "?"} bytes]`)}\n`);
          finishSoon();
          break;
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") throw error;
  } finally {
    clearTimeout(timeout);
    clearTimeout(settle);
  }
}

await main();
