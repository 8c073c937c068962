import { policy } from "../policy/policy-object";
import { type Command, UsageError } from "./registry";

export const auditCommand: Command = {
  name: "audit",
  usage: "/molt audit [n]",
  help: "The last n admin actions (default 20): who, what, when, outcome.",
  admin: true,
  async run({ env, args }) {
    const n = args[0] === undefined ? 20 : Number(args[0]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError("`n` is a whole number of entries.");
    const entries = await policy(env).audit(Math.min(n, 200));
    const text = entries.length
      ? entries.map((e) => `• ${new Date(e.at).toISOString().slice(0, 19)}Z \`${e.actor}\` ${e.action} ${e.detail} (${e.outcome})`).join("\n")
      : "Nothing recorded yet.";
    return { ok: true, title: "Audit log", text, data: { entries } };
  },
};
