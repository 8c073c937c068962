/**
 * The agent's container: the Sandbox SDK's `Sandbox`, with
 * - the relay's outbound handlers (egress.ts), registered for every virtual host of that table;
 * - the Container stop hook telling the supervisor, so that a container that stopped or slept is
 *   never reported as a ready gateway (its processes and its disk are gone);
 * - the activity-expiry hook saving the agent's state before the container may sleep.
 *
 * Exported from the Worker as `Sandbox`, with the SDK's `ContainerProxy` (the runtime calls the
 * outbound handlers through it).
 */
import { Sandbox as SdkSandbox } from "@cloudflare/sandbox";
import type { Env } from "../env";
import { EGRESS_HOSTS } from "./egress";
import { stateKeeper } from "./state-keeper";
import { gatewaySupervisor } from "./supervisor";

/** Expiries in a row that may keep the container up because its state could not be saved. */
const MAX_SLEEP_DEFERRALS = 3;

type StopParams = Parameters<SdkSandbox<Env>["onStop"]>[0];

export class Sandbox extends SdkSandbox<Env> {
  private sleepDeferrals = 0;

  /**
   * The idle time ran out: the container is about to stop and lose its disk, so the agent's state
   * is saved first. If that fails it stays up (the SDK renews the timeout) and the next expiry
   * tries again, a few times at most.
   */
  override async onActivityExpired(): Promise<void> {
    const outcome = await stateKeeper(this.env)
      .snapshot("sleep")
      .catch((error: unknown) => ({ kind: "failed" as const, error: String(error) }));
    if (outcome.kind === "failed" && this.sleepDeferrals < MAX_SLEEP_DEFERRALS) {
      this.sleepDeferrals += 1;
      console.warn(`not sleeping yet: the agent's state could not be saved (${outcome.error})`);
      return;
    }
    this.sleepDeferrals = 0;
    await super.onActivityExpired();
  }

  override async onStop(params: StopParams): Promise<void> {
    await super.onStop(params);
    await gatewaySupervisor(this.env).containerStopped(params?.exitCode ?? null);
  }
}

// The static setter, not a class field: it fills the registry that the runtime's ContainerProxy
// reads by class name (a field would shadow the setter and leave the registry empty).
Sandbox.outboundByHost = EGRESS_HOSTS;
