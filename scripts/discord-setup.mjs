#!/usr/bin/env node
// The Discord part of `npm run setup`: register `/molt` (a sub-command per relay command) and print
// the two URLs the Developer Portal needs: the Interactions Endpoint URL to paste, and the invite
// link to add the bot to a server.
//
//   DISCORD_BOT_TOKEN=... DISCORD_APPLICATION_ID=... [DISCORD_GUILD_ID=...] \
//     WORKER_URL=https://molt-relay.you.workers.dev npm run setup:discord
//
// Global commands can take a while to show up; with DISCORD_GUILD_ID they apply to that server at
// once. DISCORD_API_URL points it at the emulator (test/emulators/discord.mjs) to try it offline.
// Without a token it skips, so that `npm run setup` works for people who don't use Discord.
import { moltCommandDefinition } from "../src/adapters/discord/commands.ts";
import { setupDiscord, setupProblems } from "./discord-commands.mjs";

const arg = (name) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};

const settings = {
  token: process.env.DISCORD_BOT_TOKEN,
  applicationId: process.env.DISCORD_APPLICATION_ID,
  guildId: process.env.DISCORD_GUILD_ID || undefined,
  workerUrl: arg("url") ?? process.env.WORKER_URL ?? process.env.PUBLIC_URL,
  apiUrl: process.env.DISCORD_API_URL,
};

if (!settings.token) {
  console.log("Discord: skipped (DISCORD_BOT_TOKEN is not set).");
  process.exit(0);
}
const problems = setupProblems(settings);
if (problems.length) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  process.exit(1);
}

try {
  const result = await setupDiscord({ ...settings, apiUrl: settings.apiUrl ?? undefined, definition: moltCommandDefinition() });
  const subs = result.commands[0]?.options?.map((option) => option.name) ?? [];
  console.log(`✓ bot: ${result.bot.username} (id ${result.bot.id})`);
  console.log(`✓ /molt registered (${result.scope}): ${subs.join(", ")}`);
  console.log("\nIn the Developer Portal → General Information → Interactions Endpoint URL, paste:");
  console.log(`  ${result.interactionsUrl}`);
  console.log("(Discord checks it at once with a signed PING: deploy the Worker with DISCORD_PUBLIC_KEY first.)");
  console.log("\nAdd the bot to a server with:");
  console.log(`  ${result.inviteUrl}`);
  if (result.scope === "global") console.log("\nGlobal commands can take up to an hour to appear; set DISCORD_GUILD_ID for one server at once.");
} catch (error) {
  console.error(`✗ ${error.message}`);
  process.exit(1);
}
