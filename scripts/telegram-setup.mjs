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
// `npm run setup` works for people who don't use Telegram. The work is in telegram-webhook.mjs.
import { ALLOWED_UPDATES, COMMANDS, setupProblems, setupTelegramWebhook } from "./telegram-webhook.mjs";

const arg = (name) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};

const settings = {
  token: process.env.TELEGRAM_BOT_TOKEN,
  secret: process.env.TELEGRAM_WEBHOOK_SECRET,
  workerUrl: arg("url") ?? process.env.WORKER_URL ?? process.env.PUBLIC_URL,
  apiRoot: process.env.TELEGRAM_API_URL ?? "https://api.telegram.org",
};

if (!settings.token) {
  console.log("Telegram: skipped (TELEGRAM_BOT_TOKEN is not set).");
  process.exit(0);
}
const problems = setupProblems(settings);
if (problems.length) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  process.exit(1);
}

try {
  const { me, webhookUrl, info } = await setupTelegramWebhook(settings);
  console.log(`✓ bot: @${me.username} (id ${me.id})`);
  console.log(`✓ webhook: ${webhookUrl} (updates: ${ALLOWED_UPDATES.join(", ")})`);
  console.log(`✓ command menu: ${COMMANDS.map((c) => `/${c.command}`).join(", ")}`);
  console.log("\ngetWebhookInfo:");
  console.log(JSON.stringify(info, null, 2));
  if (info.url !== webhookUrl) console.error(`✗ Telegram reports the webhook as ${info.url || "(none)"}, not ${webhookUrl}.`);
  if (info.last_error_message) console.error(`! Telegram's last delivery error: ${info.last_error_message}`);
  console.log(`\nSet TELEGRAM_BOT_USERNAME=${me.username} on the Worker (wrangler.toml [vars] or a secret) so that mentions in groups are recognised.`);
} catch (error) {
  console.error(`✗ ${error.message}`);
  process.exit(1);
}
