/**
 * The agent's container: the Sandbox SDK's `Sandbox`, with
 * - the relay's outbound handlers (egress.ts), registered for every virtual host of that table;
 * - the Container stop hook telling the supervisor, so that a container that stopped or slept is
 *   never reported as a ready gateway (its processes and its disk are gone).
 *
 * Exported from the Worker as `Sandbox`, with the SDK's `ContainerProxy` (the runtime calls the
 * outbound handlers through it).
 */
import { Sandbox as SdkSandbox } from "@cloudflare/sandbox";
import type { Env } from "../env";
import { EGRESS_HOSTS } from "./egress";
import { gatewaySupervisor } from "./supervisor";

type StopParams = Parameters<SdkSandbox<Env>["onStop"]>[0];

export class Sandbox extends SdkSandbox<Env> {
  override async onStop(params: StopParams): Promise<void> {
    await super.onStop(params);
    await gatewaySupervisor(this.env).containerStopped(params?.exitCode ?? null);
  }
}

// The static setter, not a class field: it fills the registry that the runtime's ContainerProxy
// reads by class name (a field would shadow the setter and leave the registry empty).
Sandbox.outboundByHost = EGRESS_HOSTS;
