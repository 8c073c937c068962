#!/usr/bin/env node
// The Telegram part of `npm run setup`: point the bot's webhook at the Worker and register its
// command menu, then show what Telegram now has on record.
//
//   TELEGRAM_BOT_TOKEN=123:abc TELEGRAM_WEBHOOK_SECRET=... WORKER_URL=https://molt-relay.you.workers.dev \
//     npm run setup:telegram
//
// Reads TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, the Worker's URL (WORKER_URL, PUBLIC_URL or
// `--url <origin>`), and TELEGRAM_API_URL (default https://api.telegram.org; point it at the
// emulator, test/emulators/telegram.mjs, to try this offline). Without a token it skips, so that
// `npm run setup` works for people who don't use Telegram.
//
// Calls: getMe (to print the bot's @username for TELEGRAM_BOT_USERNAME), setWebhook (url,
// secret_token, allowed_updates, drop_pending_updates=false), setMyCommands (/molt), getWebhookInfo.

const ALLOWED_UPDATES = ["message"];
const COMMANDS = [{ command: "molt", description: "Admin: /molt help, /molt status, /molt pair approve CODE" }];

const arg = (name) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};

const token = process.env.TELEGRAM_BOT_TOKEN;
const secret = process.env.TELEGRAM_WEBHOOK_SECRET;
const workerUrl = arg("url") ?? process.env.WORKER_URL ?? process.env.PUBLIC_URL;
const apiRoot = (process.env.TELEGRAM_API_URL ?? "https://api.telegram.org").replace(/\/+$/, "");

if (!token) {
  console.log("Telegram: skipped (TELEGRAM_BOT_TOKEN is not set).");
  process.exit(0);
}
const problems = [];
if (!/^\d+:[\w-]+$/.test(token)) problems.push("TELEGRAM_BOT_TOKEN doesn't look like a bot token (123456789:AA...) from @BotFather.");
if (!secret || !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
  problems.push("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (try: openssl rand -hex 32).");
}
if (!workerUrl || !/^https?:\/\//.test(workerUrl)) problems.push("Give the Worker's URL: WORKER_URL=https://<your worker> (or --url).");
if (problems.length) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  process.exit(1);
}

const webhookUrl = `${workerUrl.replace(/\/+$/, "")}/telegram/webhook`;

/** One Bot API call; the token never appears in what is printed. */
async function call(method, body) {
  let response;
  try {
    response = await fetch(`${apiRoot}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body ?? {}),
    });
  } catch (error) {
    throw new Error(`${method}: could not reach ${apiRoot} (${error.cause?.code ?? error.message})`);
  }
  const result = await response.json().catch(() => ({ ok: false, description: `HTTP ${response.status}` }));
  if (!result.ok) throw new Error(`${method}: ${result.error_code ?? response.status} ${result.description ?? "failed"}`);
  return result.result;
}

try {
  const me = await call("getMe");
  console.log(`✓ bot: @${me.username} (id ${me.id})`);
  await call("setWebhook", { url: webhookUrl, secret_token: secret, allowed_updates: ALLOWED_UPDATES, drop_pending_updates: false });
  console.log(`✓ webhook: ${webhookUrl} (updates: ${ALLOWED_UPDATES.join(", ")})`);
  await call("setMyCommands", { commands: COMMANDS });
  console.log(`✓ command menu: ${COMMANDS.map((c) => `/${c.command}`).join(", ")}`);
  const info = await call("getWebhookInfo");
  console.log("\ngetWebhookInfo:");
  console.log(JSON.stringify(info, null, 2));
  if (info.url !== webhookUrl) console.error(`✗ Telegram reports the webhook as ${info.url || "(none)"}, not ${webhookUrl}.`);
  if (info.last_error_message) console.error(`! Telegram's last delivery error: ${info.last_error_message}`);
  console.log(`\nSet TELEGRAM_BOT_USERNAME=${me.username} on the Worker (wrangler.toml [vars] or a secret) so that mentions in groups are recognised.`);
} catch (error) {
  console.error(`✗ ${error.message}`);
  process.exit(1);
}
