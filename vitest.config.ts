/**
 * Tests run inside workerd (@cloudflare/vitest-pool-workers). Two projects share one set of real
 * helpers started by test/global-setup.ts:
 * - `relay`: everything, with the relay pointed at a real gateway on loopback (GATEWAY_URL);
 * - `sandbox`: the Sandbox path: the SDK's own `Sandbox` class (the relay's subclass) over an
 *   emulated container runtime (test/support/sandbox-worker.ts), whose containers are real
 *   processes on a test container host running the real start script and gateway.
 */
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { testSecrets } from "./test/secrets.ts";

const compatibilityDate = "2026-08-15";

/**
 * Admins and DM policy for both projects. Slack DMs keep the default `pairing` policy (the pairing
 * tests use it); Telegram's DM tests expect their messages to reach the bridge, so it is `open` here.
 */
const policyBindings = {
  // telegram:424242: the Telegram admin of the pairing test (commands run in their own objects,
  // which read this env, so it can't be patched per test).
  ADMINS: "slack:U0ADMIN,access:admin@example.com,telegram:424242",
  DM_POLICY: "telegram:open",
};
/** The AUD tag of the stand-in Access application (test/support/access-jwks.mjs is its team domain). */
const TEST_ACCESS_AUD = "molt-relay-test-aud";

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...testSecrets,
                GATEWAY_URL: inject("gatewayUrl"),
                SLACK_API_URL: inject("slackApiUrl"),
                TELEGRAM_API_URL: inject("telegramApiUrl"),
                TELEGRAM_BOT_USERNAME: "molt_test_bot",
                PUBLIC_URL: "https://relay.test",
                TEST_MODEL_URL: inject("modelUrl"),
                ...policyBindings,
                ACCESS_TEAM_DOMAIN: inject("accessUrl"),
                ACCESS_AUD: TEST_ACCESS_AUD,
              },
            },
          })),
        ],
        test: { name: "relay", include: ["test/**/*.test.ts"], exclude: ["test/sandbox/**"] },
      },
      {
        extends: true,
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            // The relay with its production Sandbox class over an emulated container runtime.
            main: "./test/support/sandbox-worker.ts",
            // Re-exported through `export *`, which the pool's static export scan does not follow.
            additionalExports: { ContainerProxy: "WorkerEntrypoint" },
            miniflare: {
              bindings: {
                ...testSecrets,
                SLACK_API_URL: inject("slackApiUrl"),
                TELEGRAM_API_URL: inject("telegramApiUrl"),
                TELEGRAM_BOT_USERNAME: "molt_test_bot",
                PUBLIC_URL: "https://relay.test",
                SANDBOX_SLEEP_AFTER: "3m",
                TEST_CONTAINER_HOST_URL: inject("containerHostUrl"),

                ...policyBindings,
              },
            },
          })),
        ],
        test: { name: "sandbox", include: ["test/sandbox/**/*.test.ts"] },
      },
    ],
  },
});
