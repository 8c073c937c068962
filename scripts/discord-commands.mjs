// Setting up a Discord application for the Worker: what `npm run setup` does for Discord, as a
// function with no Node-only imports, so that tests run it (inside workerd) against the emulator.

export const DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10";
const USER_AGENT = "DiscordBot (https://github.com/molt-relay/molt-relay, 0.1.0)";

/**
 * What the bot needs in a channel: View Channel, Send Messages, Send Messages in Threads, Embed
 * Links, Attach Files, Read Message History.
 */
export const BOT_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 38n) | (1n << 14n) | (1n << 15n) | (1n << 16n);

/** What is wrong with the settings, as sentences; empty when they are usable. */
export function setupProblems({ token, applicationId, guildId, workerUrl }) {
  const problems = [];
  if (!token || /\s/.test(token) || token.split(".").length !== 3) problems.push("DISCORD_BOT_TOKEN doesn't look like a bot token (Developer Portal → Bot → Reset Token).");
  if (!/^\d{15,21}$/.test(applicationId ?? "")) problems.push("DISCORD_APPLICATION_ID must be the application's id (Developer Portal → General Information).");
  if (guildId !== undefined && guildId !== "" && !/^\d{15,21}$/.test(guildId)) problems.push("DISCORD_GUILD_ID, when set, must be a server's id (enable Developer Mode, right-click the server, Copy Server ID).");
  if (!workerUrl || !/^https?:\/\//.test(workerUrl)) problems.push("Give the Worker's URL: WORKER_URL=https://<your worker> (or --url).");
  return problems;
}

/** The invite link: the bot, and its slash commands, with the permissions it needs. */
export function inviteUrl(applicationId) {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot+applications.commands&permissions=${BOT_PERMISSIONS}`;
}

/**
 * Register `/molt` (globally, or for one guild, where changes apply at once), then read back what
 * Discord has. Returns the URLs to paste and to open. The token never appears in errors.
 */
export async function setupDiscord({ token, applicationId, guildId, workerUrl, definition, apiUrl = DEFAULT_DISCORD_API_URL, fetch = globalThis.fetch }) {
  const root = apiUrl.replace(/\/+$/, "");
  async function call(method, path, body) {
    let response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers: { authorization: `Bot ${token}`, "user-agent": USER_AGENT, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new Error(`${method} ${path}: could not reach ${root} (${error.cause?.code ?? error.message})`);
    }
    const result = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${result.message ?? "failed"}`);
    return result;
  }
  const me = await call("GET", "/users/@me");
  const path = guildId ? `/applications/${applicationId}/guilds/${guildId}/commands` : `/applications/${applicationId}/commands`;
  const registered = await call("PUT", path, [definition]);
  return {
    bot: me,
    scope: guildId ? `guild ${guildId}` : "global",
    commands: registered,
    interactionsUrl: `${workerUrl.replace(/\/+$/, "")}/discord/interactions`,
    inviteUrl: inviteUrl(applicationId),
  };
}
