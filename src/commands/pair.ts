import { policy, type PairingSummary } from "../policy/policy-object";
import { type Command, UsageError } from "./registry";

export const pairCommand: Command = {
  name: "pair",
  usage: "/molt pair [list | approve CODE | deny CODE]",
  help: "Pending DM pairing requests: list them, approve one (its sender may then DM the agent) or deny it.",
  admin: true,
  // A pending code is a credential until used: the log keeps only its first letters.
  auditArgs: ([action, code, ...rest]) => [action ?? "list", ...(code ? [`${code.slice(0, 2)}******`] : []), ...rest],
  async run({ env, args, actor }) {
    const action = (args[0] ?? "list").toLowerCase();
    const code = args[1];
    const store = policy(env);
    if (action === "list") {
      const pending: PairingSummary[] = await store.pairings();
      const now = Date.now();
      const text = pending.length
        ? pending.map((request) => `• \`${request.code}\` from \`${request.sender}\`${request.name ? ` (${request.name})` : ""}, expires in ${Math.ceil((request.expiresAt - now) / 60_000)} min`).join("\n")
        : "No pending pairing requests.";
      return { ok: true, title: "Pairing requests", text, data: { pending } };
    }
    if ((action !== "approve" && action !== "deny") || !code) throw new UsageError("Say `list`, `approve CODE` or `deny CODE`.");

    const request: PairingSummary | undefined = action === "approve" ? await store.approvePairing(code, actor) : await store.denyPairing(code);
    if (!request) return { ok: false, title: "Pairing", text: `No pending request with code \`${code}\` (codes expire after an hour).` };
    if (action === "approve") {
      return { ok: true, title: "Pairing", text: `Approved \`${request.sender}\`: their messages now reach the agent.`, audit: `approved ${request.sender}`, data: { approved: request.sender } };
    }
    return { ok: true, title: "Pairing", text: `Denied the request from \`${request.sender}\`.`, audit: `denied ${request.sender}`, data: { denied: request.sender } };
  },
};
