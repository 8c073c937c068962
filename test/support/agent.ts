/**
 * The relay's own container (`molt-agent`) in the `sandbox` project: bring it to a known state
 * before a test, so that each test stands alone whatever ran before it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { openSandbox, SANDBOX_ID } from "../../src/sandbox/transport";
import { containerStats } from "./container";
import { eventually } from "./slack-relay";

export const GATEWAY_ID = "openclaw-gateway";

/** Stop the agent's container (if it runs) the way the platform would, and wait until the supervisor knows. */
export async function stoppedAgent() {
  if ((await containerStats(SANDBOX_ID)).running) {
    const stoppedAt = Date.now();
    await openSandbox(env).destroy();
    await eventually(
      async () => {
        const status = await gatewaySupervisor(env).status();
        return status.phase === "stopped" && status.since >= stoppedAt && /the container stopped/.test(status.lastError ?? "");
      },
      60_000,
      "the supervisor to learn of the stop",
    );
  }
  return containerStats(SANDBOX_ID);
}

/** The agent's gateway up (started if it was not), whatever ran before. */
export async function readyAgent() {
  const status = await gatewaySupervisor(env).ensureReady();
  if (status.phase !== "ready") throw new Error(`the gateway did not come up: ${status.lastError}`);
  return containerStats(SANDBOX_ID);
}

export const agentStats = () => containerStats(SANDBOX_ID);

/** The agent's Sandbox Durable Object, for what the SDK keeps inside it. */
export const agentSandboxObject = () => env.Sandbox.get(env.Sandbox.idFromName(SANDBOX_ID));

/** What the SDK stored as this sandbox's idle time. */
export async function storedSleepAfter(): Promise<unknown> {
  return runInDurableObject(agentSandboxObject(), (_instance, state) => state.storage.get("sleepAfter"));
}
