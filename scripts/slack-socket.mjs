#!/usr/bin/env node
// `npm run dev:slack`: use a real Slack workspace against the local relay, no public URL needed.
//
// Slack delivers the app's events over a Socket Mode WebSocket (an app-level token, xapp-...);
// this relay re-signs each payload with the signing secret and POSTs it to the local Worker's
// /slack/events or /slack/commands, exactly as Slack's HTTP delivery would, so the Worker's own
// verification and parsing are what run. Slash command answers go back through the ack.
//
//   SLACK_APP_TOKEN=xapp-...  SLACK_SIGNING_SECRET=...  [RELAY_URL=http://127.0.0.1:8787]  npm run dev:slack
//
// The app must have Socket Mode enabled while you use this (Settings -> Socket Mode), and the
// Worker must run with the same SLACK_SIGNING_SECRET and the real SLACK_BOT_TOKEN.

import { createHmac } from "node:crypto";
import { pathToFileURL } from "node:url";
import { SocketModeClient } from "@slack/socket-mode";

/** Headers Slack's HTTP delivery would carry for `body`, signed at `timestampS`. */
export function slackSignedHeaders(body, secret, timestampS, contentType) {
  const signature = createHmac("sha256", secret).update(`v0:${timestampS}:${body}`).digest("hex");
  return {
    "content-type": contentType,
    "x-slack-request-timestamp": String(timestampS),
    "x-slack-signature": `v0=${signature}`,
  };
}

/** The HTTP request the relay gets for one Socket Mode envelope, or null for types it doesn't take. */
export function toRelayRequest(envelope, { relayUrl, secret, nowMs = Date.now() }) {
  const base = relayUrl.replace(/\/$/, "");
  const timestamp = Math.floor(nowMs / 1000);
  if (envelope.type === "events_api") {
    const body = JSON.stringify(envelope.body);
    const headers = slackSignedHeaders(body, secret, timestamp, "application/json");
    if (envelope.retry_num) {
      headers["x-slack-retry-num"] = String(envelope.retry_num);
      headers["x-slack-retry-reason"] = String(envelope.retry_reason ?? "");
    }
    return { url: `${base}/slack/events`, headers, body };
  }
  if (envelope.type === "slash_commands") {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(envelope.body ?? {})) if (value != null) form.set(key, String(value));
    const body = form.toString();
    return { url: `${base}/slack/commands`, headers: slackSignedHeaders(body, secret, timestamp, "application/x-www-form-urlencoded"), body };
  }
  return null;
}

async function main() {
  const appToken = process.env.SLACK_APP_TOKEN;
  const secret = process.env.SLACK_SIGNING_SECRET;
  const relayUrl = process.env.RELAY_URL ?? "http://127.0.0.1:8787";
  if (!appToken?.startsWith("xapp-") || !secret) {
    console.error(
      "Set SLACK_APP_TOKEN (an app-level token, xapp-..., with connections:write) and SLACK_SIGNING_SECRET.\n" +
        "See README: \"Try it with a real workspace, locally\".",
    );
    process.exit(2);
  }

  const client = new SocketModeClient({ appToken });
  client.on("slack_event", async (envelope) => {
    const request = toRelayRequest(envelope, { relayUrl, secret });
    if (!request) return envelope.ack();
    let payload;
    try {
      const response = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
      const text = await response.text();
      console.log(`${envelope.type} -> ${new URL(request.url).pathname}: ${response.status}`);
      if (envelope.type === "slash_commands" && response.ok && text) payload = JSON.parse(text);
    } catch (error) {
      console.error(`could not reach the relay at ${relayUrl} (is \`npm run dev\` running?): ${error.message}`);
    }
    await envelope.ack(payload);
  });
  await client.start();
  console.log(`Socket Mode connected; forwarding to ${relayUrl}. Mention the bot or DM it in Slack.`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
