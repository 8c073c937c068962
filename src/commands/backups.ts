import { describeRecord } from "../sandbox/state-core";
import { stateKeeper } from "../sandbox/state-keeper";
import type { Command } from "./registry";

export const backupsCommand: Command = {
  name: "backups",
  usage: "/molt backups",
  help: "List the snapshots of the agent's state (the current one is marked).",
  admin: true,
  async run({ env }) {
    const records = await stateKeeper(env).list();
    if (!records.length) return { ok: true, title: "Backups", text: "No snapshots yet.", data: { snapshots: [] } };
    const now = Date.now();
    const lines = [...records]
      .reverse()
      .map((record) => `• ${describeRecord(record, now)}${record.status === "current" ? " *(current)*" : record.status === "held" ? ` _(held: ${record.held})_` : ""}`);
    return { ok: true, title: "Backups", text: lines.join("\n"), data: { snapshots: records } };
  },
};
