/** `npm run setup` for Telegram, run against the Bot API emulator. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM module without types
import { setupProblems, setupTelegramWebhook } from "../../scripts/telegram-webhook.mjs";

describe("Telegram set-up", () => {
  it("points the webhook at the Worker with the secret and updates, and registers /molt", async () => {
    const settings = { token: env.TELEGRAM_BOT_TOKEN, secret: env.TELEGRAM_WEBHOOK_SECRET, workerUrl: "https://relay.test/", apiRoot: env.TELEGRAM_API_URL };
    const { webhookUrl, info } = await setupTelegramWebhook(settings);
    expect(webhookUrl).toBe("https://relay.test/telegram/webhook");
    expect(info).toMatchObject({ url: webhookUrl, allowed_updates: ["message", "callback_query"] });
    const root = String(env.TELEGRAM_API_URL).replace(/\/+$/, "");
    const commands = (await (await fetch(`${root}/bot${env.TELEGRAM_BOT_TOKEN}/getMyCommands`, { method: "POST" })).json()) as {
      result: { command: string }[];
    };
    expect(commands.result.map((c) => c.command)).toEqual(["molt"]);
  });

  it("names every unusable setting before calling Telegram", () => {
    const problems: string[] = setupProblems({ token: "not-a-token", secret: "has spaces", workerUrl: "relay.test" });
    expect(problems).toHaveLength(3);
    expect(setupProblems({ token: "123:abc", secret: "s3cret_-", workerUrl: "https://relay.test" })).toEqual([]);
  });
});
