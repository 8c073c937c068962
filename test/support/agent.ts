/**
 * The relay's own container (`molt-agent`) in the `sandbox` project: bring it to a known state
 * before a test, so that each test stands alone whatever ran before it.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { openSandbox, SANDBOX_ID } from "../../src/sandbox/transport";
import { containerLogs, containerStats } from "./container";
import { eventually } from "./slack-relay";

export const GATEWAY_ID = "openclaw-gateway";

/**
 * Stop the agent's container (if it runs) the way the platform would, and wait until the supervisor
 * knows. The SDK reports a stop at the Durable Object's next alarm (or just before the next start),
 * and that alarm may be minutes away when the object has no monitor waiting on the container: the
 * alarm is run now, as the platform would run it later, so that a test never starts from a stop
 * nobody has heard of.
 *
 * Each test file has storage of its own, but the container host outlives the files: a container
 * that an earlier file left running is unknown to this file's Sandbox object and supervisor (which
 * believes the gateway stopped, and is right once it is destroyed: there is nothing to hear).
 */
export async function stoppedAgent() {
  const stoppedAt = Date.now();
  const believed = (await gatewaySupervisor(env).status()).phase;
  const destroyed = (await containerStats(SANDBOX_ID)).running;
  if (destroyed) await openSandbox(env).destroy();
  await eventually(
    async () => {
      const status = await gatewaySupervisor(env).status();
      const heard = destroyed && believed !== "stopped" ? status.since >= stoppedAt && /the container stopped/.test(status.lastError ?? "") : true;
      if (status.phase === "stopped" && heard) return true;
      await runDurableObjectAlarm(agentSandboxObject()).catch(() => false);
      return false;
    },
    60_000,
    "the supervisor to learn of the stop",
    async () => ({ believed, supervisor: await gatewaySupervisor(env).status(), container: (await containerStats(SANDBOX_ID)).running }),
  );
  return containerStats(SANDBOX_ID);
}

/** The agent's gateway up (started if it was not), whatever ran before. */
export async function readyAgent() {
  const status = await gatewaySupervisor(env).ensureReady();
  if (status.phase !== "ready") throw new Error(`the gateway did not come up: ${status.lastError}\n${(await containerLogs(SANDBOX_ID)).slice(-3000)}`);
  return containerStats(SANDBOX_ID);
}

export const agentStats = () => containerStats(SANDBOX_ID);

/** The agent's Sandbox Durable Object, for what the SDK keeps inside it. */
export const agentSandboxObject = () => env.Sandbox.get(env.Sandbox.idFromName(SANDBOX_ID));

/** What the SDK stored as this sandbox's idle time. */
export async function storedSleepAfter(): Promise<unknown> {
  return runInDurableObject(agentSandboxObject(), (_instance, state) => state.storage.get("sleepAfter"));
}
