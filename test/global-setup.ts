/**
 * Runs in Node before the workerd tests: starts the real helpers the tests talk to over loopback
 * and hands their addresses to the tests through vitest's provide/inject:
 * - the Slack API emulator;
 * - the Telegram Bot API emulator;
 * - the Discord emulator (REST and the Gateway WebSocket);
 * - the stand-in model (an OpenAI-compatible server);
 * - a real OpenClaw gateway on loopback (the `GATEWAY_URL` mode);
 * - a stand-in Cloudflare Access team domain (its JWKS, and a signer for tests);
 * - a container host that plays the Sandbox container (the Sandbox mode), which starts its own
 *   real gateway through the container's start script when the relay asks it to.
 * - a real headless Chromium behind miniflare's local Browser Rendering binding (`BROWSER`), from
 *   `@sparticuz/chromium`, through a test-owned XDG cache home (test/support/chromium.mjs).
 */
import path from "node:path";
import type { TestProject } from "vitest/node";
// @ts-expect-error plain ESM module without types
import { startDiscordEmulator } from "./emulators/discord.mjs";
// @ts-expect-error plain ESM module without types
import { startSlackEmulator } from "./emulators/slack.mjs";
// @ts-expect-error plain ESM module without types
import { startTelegramEmulator } from "./emulators/telegram.mjs";
// @ts-expect-error plain ESM module without types
import { startAccessJwks } from "./support/access-jwks.mjs";
// @ts-expect-error plain ESM module without types
import { startChromiumLauncher } from "./support/chromium-console.mjs";
// @ts-expect-error plain ESM module without types
import { installLocalBrowserRendering } from "./support/chromium.mjs";
// @ts-expect-error plain ESM module without types
import { startTestPage } from "./support/test-page.mjs";
// @ts-expect-error plain ESM module without types
import { startContainerHost } from "./support/container-host.mjs";
// @ts-expect-error plain ESM module without types
import { freePort, startGateway } from "./support/gateway-process.mjs";
// @ts-expect-error plain ESM module without types
import { startModelServer } from "./support/model-server.mjs";
import { TEST_MODEL_KEY, testSecrets } from "./secrets";
// @ts-expect-error plain ESM module without types
import { startChaosGateway } from "./support/chaos-gateway.mjs";

/**
 * Vitest runs this once per project (and once for the root): each project gets only the heavy
 * helper it uses, a gateway for `relay` and a container host (which starts its own) for `sandbox`.
 */
export default async function setup(project: TestProject) {
  // miniflare reads XDG_CACHE_HOME when a test first asks the BROWSER binding for a browser.
  process.env.XDG_CACHE_HOME = path.resolve("node_modules/.cache/molt-relay-test-xdg");
  // A failure here fails the browser tests (they check it) instead of every test.
  const browserSetupError = await installLocalBrowserRendering(process.env.XDG_CACHE_HOME, {
    extraFlags: [`--host-resolver-rules=MAP *.molt.test 127.0.0.1`],
  }).then(
    () => "",
    (error: Error) => error.message,
  );
  const [slack, telegram, model, access, discord, testPage] = await Promise.all([
    startSlackEmulator({ port: 0 }),
    startTelegramEmulator({ port: 0 }),
    // In the sandbox project the model wants a key that only the Worker holds (keys at the edge).
    startModelServer({ port: 0, apiKey: project.name === "sandbox" ? TEST_MODEL_KEY : undefined }),
    startAccessJwks({ port: 0 }),
    startDiscordEmulator({ port: 0 }),
    startTestPage({ port: 0 }),
  ]);
  // The relay project's Worker listens here too (vitest.config.ts), for the gateway's browser.
  const relayWorkerPort = await freePort();
  const [gateway, host] = await Promise.all([
    project.name === "relay"
      ? startGateway({
          token: testSecrets.GATEWAY_TOKEN,
          modelUrl: model.url,
          timeoutMs: 180_000,
          env: {
            // 0.0.0.0 reaches this machine only; OpenClaw takes it for a remote CDP endpoint (a
            // loopback URL would make it expect a browser it launched itself).
            BROWSER_CDP_URL: `http://0.0.0.0:${relayWorkerPort}/__dev/browser`,
            BROWSER_ALLOW_PRIVATE_NETWORK: "1",
          },
        })
      : undefined,
    project.name === "sandbox"
      ? startContainerHost({
          env: {
            // The image's own setting (container/Dockerfile): the browser is the Worker's
            // pass-through on the virtual host browser.internal.
            BROWSER_CDP_URL: "http://browser.internal",
            // Test-only: the test page is on this machine's loopback, and browser.internal
            // resolves to the emulated container's loopback address.
            BROWSER_ALLOW_PRIVATE_NETWORK: "1",
          },
        })
      : undefined,
  ]);
  project.provide("slackApiUrl", slack.url);
  project.provide("telegramApiUrl", telegram.url);
  project.provide("modelUrl", model.url);
  project.provide("gatewayUrl", gateway?.url ?? "");
  project.provide("containerHostUrl", host?.url ?? "");
  project.provide("accessUrl", access.url);
  project.provide("browserSetupError", browserSetupError);
  project.provide("testPageUrl", testPage.url);
  project.provide("relayWorkerPort", relayWorkerPort);
  // Starts a Chromium only when a test asks (the console's browser test).
  const chromium = await startChromiumLauncher();
  project.provide("chromiumConsoleUrl", chromium.url);
  project.provide("discordApiUrl", discord.url);
  // The chaos run's own gateway, which it kills and restarts (test/chaos; the parallel run uses one
  // too, unkilled); CHAOS_MESSAGES from `npm run chaos`.
  const chaos = project.name === "chaos" || project.name === "parallel" ? await startChaosGateway({ token: testSecrets.GATEWAY_TOKEN, modelUrl: model.url }) : undefined;
  project.provide("chaosGatewayUrl", chaos?.url ?? "");
  project.provide("chaosControlUrl", chaos?.controlUrl ?? "");
  project.provide("chaosMessages", Number(process.env.CHAOS_MESSAGES) || 0);
  // `npm run fuzz` sets these; zeros mean the fuzz test's own defaults.
  project.provide("fuzz", { seed: Number(process.env.FUZZ_SEED) || 0, cases: Number(process.env.FUZZ_CASES) || 0 });
  return async () => {
    await Promise.allSettled([chaos?.close(), gateway?.stop(), host?.close(), slack.close(), telegram.close(), model.close(), access.close(), testPage.close(), chromium.close(), discord.close()]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    slackApiUrl: string;
    telegramApiUrl: string;
    modelUrl: string;
    gatewayUrl: string;
    containerHostUrl: string;
    /** A stand-in Cloudflare Access team domain (JWKS + a signer for tests). */
    accessUrl: string;
    /** Starts headless Chromium for the console's browser test (test/support/chromium-console.mjs). */
    chromiumConsoleUrl: string;
    /** The Discord emulator's API base (`.../api/v10`); its Gateway URL comes from `GET /gateway/bot`. */
    discordApiUrl: string;
    /** Why the local Browser Rendering binding has no Chromium ("" when it has one). */
    browserSetupError: string;
    /** A page with known content (test/support/test-page.mjs), as the test Chromium reaches it. */
    testPageUrl: string;
    /** Loopback port the relay project's Worker also listens on (for the gateway's browser). */
    relayWorkerPort: number;
    /** The chaos project's own gateway, and the server that kills and restarts it. */
    chaosGatewayUrl: string;
    chaosControlUrl: string;
    /** Messages in the chaos run (0: the test's default). */
    chaosMessages: number;
  }
}
