/** Test secrets: fixtures are signed with these, so verification stays on in every test. */
export const testSecrets = {
  GATEWAY_TOKEN: "test-gateway-token-0123456789",
  SLACK_SIGNING_SECRET: "test-slack-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-test-bot-token",
  TELEGRAM_BOT_TOKEN: "7000000001:AAtest-telegram-bot-token",
  TELEGRAM_WEBHOOK_SECRET: "test-telegram-webhook-secret",
};
