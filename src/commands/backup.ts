import { stateKeeper } from "../sandbox/state-keeper";
import { describeRecord } from "../sandbox/state-core";
import { formatBytes } from "../sandbox/state-policy";
import { type Command, UsageError } from "./registry";

/** Snapshot the agent's state now; `--force` makes it current past the shrink guard or a lockout. */
export const backupCommand: Command = {
  name: "backup",
  usage: "/molt backup [--force]",
  help: "Snapshot the agent's state now (`--force`: make it current even if it is much smaller, or after a failed restore).",
  admin: true,
  async run({ env, args }) {
    if (args.some((arg) => arg !== "--force")) throw new UsageError(`Unknown argument \`${args.find((arg) => arg !== "--force")}\`.`);
    const force = args.includes("--force");
    const keeper = stateKeeper(env);
    const off = await keeper.unconfigured();
    if (off) return { ok: false, title: "Backup", text: `Nothing was done: ${off}.`, data: { persistence: false } };
    const outcome = await keeper.snapshot("backup", force);
    const now = Date.now();
    switch (outcome.kind) {
      case "published":
        return {
          ok: true,
          title: "Backup",
          text: `Snapshot ${describeRecord(outcome.record, now)} is current (${formatBytes(outcome.uploadedBytes)} uploaded).`,
          audit: `snapshot ${outcome.record.generation}${force ? " (forced)" : ""}`,
          data: { snapshot: outcome.record, uploadedBytes: outcome.uploadedBytes },
        };
      case "unchanged":
        return { ok: true, title: "Backup", text: `Nothing changed since snapshot ${describeRecord(outcome.record, now)}: nothing was uploaded.`, data: { snapshot: outcome.record, unchanged: true } };
      case "held":
        return {
          ok: false,
          title: "Backup",
          text: `Snapshot ${outcome.record.generation} was kept but not made current: ${outcome.why}. Run \`/molt backup --force\` if the smaller state is right.`,
          data: { held: outcome.record },
        };
      case "refused":
        return { ok: false, title: "Backup", text: `Nothing was saved: ${outcome.why}.`, data: { refused: outcome.why } };
      case "failed":
        return {
          ok: false,
          title: "Backup",
          text: `The snapshot failed (${outcome.error}); the current one is unchanged. It is retried at ${new Date(outcome.retryAt).toISOString().slice(11, 19)} UTC.`,
          data: { error: outcome.error, retryAt: outcome.retryAt },
        };
    }
  },
};
