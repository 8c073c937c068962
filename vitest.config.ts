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
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { TEST_MODEL_KEY, testSecrets } from "./test/secrets.ts";

const compatibilityDate = "2026-08-15";

/**
 * Admins for both projects. DMs keep the default `pairing` policy on every platform (the pairing
 * tests use it); tests whose DMs must reach the bridge allow their users first, as an admin would.
 */
const policyBindings = {
  // telegram:424242: the Telegram admin of the pairing test (commands run in their own objects,
  // which read this env, so it can't be patched per test).
  ADMINS: "slack:U0ADMIN,access:admin@example.com,telegram:424242,discord:1100000000000000042",
};
/** The AUD tag of the stand-in Access application (test/support/access-jwks.mjs is its team domain). */
const TEST_ACCESS_AUD = "molt-relay-test-aud";

/** The Worker of the chaos and parallel projects: their own gateway (which the soak kills), emulators, model. */
function chaosWorker() {
  return cloudflareTest(({ inject }) => ({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        ...testSecrets,
        GATEWAY_URL: inject("chaosGatewayUrl"),
        SLACK_API_URL: inject("slackApiUrl"),
        TELEGRAM_API_URL: inject("telegramApiUrl"),
        TELEGRAM_BOT_USERNAME: "molt_test_bot",
        // The project's own Discord emulator: the Worker connects its Gateway on the first request.
        DISCORD_API_URL: inject("discordApiUrl"),
        PUBLIC_URL: "https://relay.test",
        TEST_MODEL_URL: inject("modelUrl"),
        TEST_CHAOS_CONTROL_URL: inject("chaosControlUrl"),
        ...policyBindings,
        // The soak's Telegram DMs come from ever-new users: let them through without pairing.
        DM_POLICY: "telegram:open",
      },
    },
  }));
}

/**
 * The sandbox files share one agent container on the test container host, one after the other
 * (their Durable Object storage is their own). The persistence file, the longest, stops, wipes and
 * wakes the container on purpose: it runs last, so that a failure there never leaves a container
 * in an odd state for another file.
 */
class PersistenceLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (file: TestSpecification) => file.moduleId.endsWith("test/sandbox/persistence.test.ts");
    return [...sorted.filter((file) => !last(file)), ...sorted.filter(last)];
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: PersistenceLast },
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 120_000,
    // One unhandled rejection is known and comes from the SDK, not the relay: when a container
    // stops while a response from it is still streaming, @cloudflare/containers (0.3.7,
    // `Container.containerFetch`) pipes the body with `pipeTo(...).finally(...)` and no `catch`, so
    // the runtime's "Network connection lost." escapes. The emulated runtime cuts those streams
    // exactly as a stopping container does (traced by adding the missing `catch` there: the
    // rejections went away). Only that error, with that exact message, is let through; any other
    // unhandled error still fails the run.
    onUnhandledError: (error) => (error.message === "Network connection lost." ? false : undefined),
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
                DISCORD_API_URL: inject("discordApiUrl"),
                PUBLIC_URL: "https://relay.test",
                TEST_MODEL_URL: inject("modelUrl"),
                ...policyBindings,
                ACCESS_TEAM_DOMAIN: inject("accessUrl"),
                ACCESS_AUD: TEST_ACCESS_AUD,
                // The test gateway reaches the agent's browser as a local dev gateway does: through
                // the Worker's loopback-only /__dev/browser route, on the socket below.
                DEV_BROWSER_ROUTE: "on",
              },
              // The Worker on a loopback port, so the real gateway (a process) can reach it.
              unsafeDirectSockets: [{ host: "127.0.0.1", port: inject("relayWorkerPort") }],
            },
          })),
        ],
        // stray-calls.ts: a test fails if it made a platform call the emulators don't know.
        test: { name: "relay", include: ["test/**/*.test.ts"], exclude: ["test/sandbox/**", "test/chaos/**"], setupFiles: ["./test/support/stray-calls.ts"] },
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
                DISCORD_API_URL: inject("discordApiUrl"),
                PUBLIC_URL: "https://relay.test",
                SANDBOX_SLEEP_AFTER: "3m",
                TEST_CONTAINER_HOST_URL: inject("containerHostUrl"),
                // The agent's model, reached through the Worker's llm.internal handler with a key
                // that only the Worker holds.
                OPENAI_COMPATIBLE_BASE_URL: inject("modelUrl"),
                OPENAI_COMPATIBLE_API_KEY: TEST_MODEL_KEY,
                TEST_MODEL_URL: inject("modelUrl"),
                ...policyBindings,
              },
            },
          })),
        ],
        test: {
          name: "sandbox",
          include: ["test/sandbox/**/*.test.ts"],
          setupFiles: ["./test/support/stray-calls.ts"],
          // The files share one agent container (a deployment has one): one file at a time, or one
          // file's sleep or wipe lands in the middle of another's turn.
          fileParallelism: false,
        },
      },
      {
        // The chaos soak (test/chaos/soak.test.ts): a gateway of its own that it kills mid-stream, its
        // own emulators. 100 messages in `npm test`, 1,000 with `npm run chaos`. Beside it, the
        // regression tests that need that gateway killed; one file at a time, since they share it.
        extends: true,
        plugins: [chaosWorker()],
        test: { name: "chaos", include: ["test/chaos/soak.test.ts", "test/chaos/media-restart.test.ts"], fileParallelism: false },
      },
      {
        // Twenty conversations streaming at once under every rate limit (a measurement for
        // bench/README.md, run by `npm run parallel`; not in `npm test`).
        extends: true,
        plugins: [chaosWorker()],
        test: { name: "parallel", include: ["test/chaos/parallel.test.ts"] },
      },
    ],
  },
});
