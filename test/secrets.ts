/** Test secrets: fixtures are signed with these, so verification stays on in every test. */
export const testSecrets = {
  GATEWAY_TOKEN: "test-gateway-token-0123456789",
  SLACK_SIGNING_SECRET: "test-slack-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-test-bot-token",
  TELEGRAM_BOT_TOKEN: "7000000001:AAtest-telegram-bot-token",
  TELEGRAM_WEBHOOK_SECRET: "test-telegram-webhook-secret",
  DISCORD_APPLICATION_ID: "1000000000000000001",
  // The public key of RFC 8032's test 1; its seed signs the interaction fixtures (test/support/discord-relay.ts).
  DISCORD_PUBLIC_KEY: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  DISCORD_BOT_TOKEN: "MTAwMDAwMDAwMDAwMDAwMDAx.test.discord-bot-token",
};

/**
 * The stand-in model's key in the `sandbox` project: only the Worker holds it (a binding), and the
 * model refuses calls without it. Tests scan the container for it.
 */
export const TEST_MODEL_KEY = "sk-test-only-the-worker-knows-4f1c9a";
