import { gatewaySupervisor } from "../sandbox/supervisor";
import { stateKeeper } from "../sandbox/state-keeper";
import type { Command } from "./registry";

/** Takes ~30 s in the container: chat surfaces answer at once and post this result when it's done. */
export const restartCommand: Command = {
  name: "restart",
  usage: "/molt restart",
  help: "Restart the gateway.",
  admin: true,
  async run({ env }) {
    // Save the state first (a restart may end in a new container); a failed snapshot is retried
    // later and does not hold up the restart.
    const saved = !env.GATEWAY_URL && (await gatewaySupervisor(env).status()).phase === "ready" ? await stateKeeper(env).snapshot("restart") : undefined;
    const status = await gatewaySupervisor(env).restart();
    const ok = status.phase === "ready";
    return {
      ok,
      title: "Restart",
      text: ok ? `The gateway is back (${status.where}).` : `The gateway is ${status.phase}${status.lastError ? `: ${status.lastError}` : ""}.`,
      data: { gateway: status, snapshot: saved },
    };
  },
};
