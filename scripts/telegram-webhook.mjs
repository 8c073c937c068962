// Pointing a Telegram bot at the Worker: what `npm run setup` does for Telegram, as a function
// with no Node-only imports, so that tests run it (inside workerd) against the Bot API emulator.

// callback_query: the Stop button under a running answer.
export const ALLOWED_UPDATES = ["message", "callback_query"];
export const COMMANDS = [{ command: "molt", description: "Admin: /molt help, /molt status, /molt pair approve CODE" }];

/** What is wrong with the settings, as sentences; empty when they are usable. */
export function setupProblems({ token, secret, workerUrl }) {
  const problems = [];
  if (!/^\d+:[\w-]+$/.test(token ?? "")) problems.push("TELEGRAM_BOT_TOKEN doesn't look like a bot token (123456789:AA...) from @BotFather.");
  if (!secret || !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
    problems.push("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (try: openssl rand -hex 32).");
  }
  if (!workerUrl || !/^https?:\/\//.test(workerUrl)) problems.push("Give the Worker's URL: WORKER_URL=https://<your worker> (or --url).");
  return problems;
}

/**
 * getMe, setWebhook (the Worker's /telegram/webhook, the secret token, allowed_updates, pending
 * updates kept), setMyCommands (/molt), then getWebhookInfo. The token never appears in errors.
 */
export async function setupTelegramWebhook({ token, secret, workerUrl, apiRoot = "https://api.telegram.org", fetch = globalThis.fetch }) {
  const root = apiRoot.replace(/\/+$/, "");
  const webhookUrl = `${workerUrl.replace(/\/+$/, "")}/telegram/webhook`;
  async function call(method, body) {
    let response;
    try {
      response = await fetch(`${root}/bot${token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body ?? {}),
      });
    } catch (error) {
      throw new Error(`${method}: could not reach ${root} (${error.cause?.code ?? error.message})`);
    }
    const result = await response.json().catch(() => ({ ok: false, description: `HTTP ${response.status}` }));
    if (!result.ok) throw new Error(`${method}: ${result.error_code ?? response.status} ${result.description ?? "failed"}`);
    return result.result;
  }
  const me = await call("getMe");
  await call("setWebhook", { url: webhookUrl, secret_token: secret, allowed_updates: ALLOWED_UPDATES, drop_pending_updates: false });
  await call("setMyCommands", { commands: COMMANDS });
  const info = await call("getWebhookInfo");
  return { me, webhookUrl, info };
}
