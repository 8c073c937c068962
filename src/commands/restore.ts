import { gatewaySupervisor } from "../sandbox/supervisor";
import { stateKeeper } from "../sandbox/state-keeper";
import { type Command, UsageError } from "./registry";

/** Snapshots the current state first (so it can be undone), restores, and restarts the gateway. */
export const restoreCommand: Command = {
  name: "restore",
  usage: "/molt restore <generation>",
  help: "Restore the agent's state from a snapshot (`/molt backups` lists them). The current state is snapshotted first.",
  admin: true,
  async run({ env, args }) {
    const generation = Number(args[0]);
    if (args.length !== 1 || !Number.isSafeInteger(generation) || generation < 1) throw new UsageError("Name one snapshot by its generation.");
    if (env.GATEWAY_URL) return { ok: false, title: "Restore", text: "The gateway runs elsewhere (`GATEWAY_URL`): its state is not kept here." };
    const { before, result } = await stateKeeper(env).restoreTo(generation);
    const status = await gatewaySupervisor(env).restart();
    const saved = before.kind === "published" || before.kind === "unchanged" ? ` The state before it is snapshot ${before.record.generation}.` : "";
    return {
      ok: status.phase === "ready",
      title: "Restore",
      text: `Restored snapshot ${generation} (${result.files ?? 0} files).${saved} The gateway is ${status.phase}.`,
      audit: `restored ${generation}`,
      data: { generation, before, gateway: status },
    };
  },
};
