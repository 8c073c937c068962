/**
 * Runs in Node before the workerd tests: starts the real helpers the tests talk to over loopback
 * and hands their addresses to the tests through vitest's provide/inject:
 * - the Slack API emulator;
 * - the Telegram Bot API emulator;
 * - the stand-in model (an OpenAI-compatible server);
 * - a real OpenClaw gateway on loopback (the `GATEWAY_URL` mode);
 * - a stand-in Cloudflare Access team domain (its JWKS, and a signer for tests);
 * - a container host that plays the Sandbox container (the Sandbox mode), which starts its own
 *   real gateway through the container's start script when the relay asks it to.
 */
import type { TestProject } from "vitest/node";
// @ts-expect-error plain ESM module without types
import { startSlackEmulator } from "./emulators/slack.mjs";
// @ts-expect-error plain ESM module without types
import { startTelegramEmulator } from "./emulators/telegram.mjs";
// @ts-expect-error plain ESM module without types
import { startAccessJwks } from "./support/access-jwks.mjs";
// @ts-expect-error plain ESM module without types
import { startContainerHost } from "./support/container-host.mjs";
// @ts-expect-error plain ESM module without types
import { startGateway } from "./support/gateway-process.mjs";
// @ts-expect-error plain ESM module without types
import { startModelServer } from "./support/model-server.mjs";
import { testSecrets } from "./secrets";

/**
 * Vitest runs this once per project (and once for the root): each project gets only the heavy
 * helper it uses, a gateway for `relay` and a container host (which starts its own) for `sandbox`.
 */
export default async function setup(project: TestProject) {
  const [slack, telegram, model, access] = await Promise.all([
    startSlackEmulator({ port: 0 }),
    startTelegramEmulator({ port: 0 }),
    startModelServer({ port: 0 }),
    startAccessJwks({ port: 0 }),
  ]);
  const [gateway, host] = await Promise.all([
    project.name === "relay" ? startGateway({ token: testSecrets.GATEWAY_TOKEN, modelUrl: model.url }) : undefined,
    project.name === "sandbox" ? startContainerHost({ env: { MOLT_MODEL_BASE_URL: model.url } }) : undefined,
  ]);
  project.provide("slackApiUrl", slack.url);
  project.provide("telegramApiUrl", telegram.url);
  project.provide("modelUrl", model.url);
  project.provide("gatewayUrl", gateway?.url ?? "");
  project.provide("containerHostUrl", host?.url ?? "");
  project.provide("accessUrl", access.url);
  return async () => {
    await Promise.allSettled([gateway?.stop(), host?.close(), slack.close(), telegram.close(), model.close(), access.close()]);
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
  }
}
