/**
 * Tests run inside workerd (@cloudflare/vitest-pool-workers). Two projects share one set of real
 * helpers started by test/global-setup.ts:
 * - `relay`: everything, with the relay pointed at a real gateway on loopback (GATEWAY_URL);
 * - `sandbox`: the Sandbox path, with the `Sandbox` binding served by a fake Durable Object that
 *   drives a container host running the real start script and gateway.
 */
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { testSecrets } from "./test/secrets.ts";

const compatibilityDate = "2026-08-15";

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
                PUBLIC_URL: "https://relay.test",
                TEST_MODEL_URL: inject("modelUrl"),
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
            miniflare: {
              bindings: {
                ...testSecrets,
                SLACK_API_URL: inject("slackApiUrl"),
                PUBLIC_URL: "https://relay.test",
                SANDBOX_SLEEP_AFTER: "3m",
                TEST_CONTAINER_HOST_URL: inject("containerHostUrl"),
              },
              durableObjects: { Sandbox: { className: "FakeSandbox", scriptName: "fake-sandbox" } },
              workers: [
                {
                  name: "fake-sandbox",
                  modules: true,
                  scriptPath: "./test/support/fake-sandbox.mjs",
                  compatibilityDate,
                  bindings: { CONTAINER_HOST_URL: inject("containerHostUrl") },
                  durableObjects: { FakeSandbox: "FakeSandbox" },
                },
              ],
            },
          })),
        ],
        test: { name: "sandbox", include: ["test/sandbox/**/*.test.ts"] },
      },
    ],
  },
});
