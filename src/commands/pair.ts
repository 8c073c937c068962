import { adapterFor } from "../adapters";
import type { ReplyTarget } from "../adapters/types";
import type { Env } from "../env";
import { type PairingApproval, policy, type PairingSummary } from "../policy/policy-object";
import { type Command, UsageError } from "./registry";

export const APPROVED_NOTICE = "You're approved: you can talk to the assistant now.";

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

    const missing = { ok: false, title: "Pairing", text: `No pending request with code \`${code}\` (codes expire after an hour).` };
    if (action === "approve") {
      // Typed by hand: the RPC type of the reply target is too deep for the compiler.
      const approver = store as unknown as { approvePairing(code: string, by: string): Promise<PairingApproval | undefined> };
      const approved = await approver.approvePairing(code, actor);
      if (!approved) return missing;
      await tell(env, approved.sender, approved.reply);
      return { ok: true, title: "Pairing", text: `Approved \`${approved.sender}\`: their messages now reach the agent.`, audit: `approved ${approved.sender}`, data: { approved: approved.sender } };
    }
    const denied: PairingSummary | undefined = await store.denyPairing(code);
    if (!denied) return missing;
    return { ok: true, title: "Pairing", text: `Denied the request from \`${denied.sender}\`.`, audit: `denied ${denied.sender}`, data: { denied: denied.sender } };
  },
};

/** Tell the approved sender, where they asked. Best effort: the approval stands if the platform won't take it. */
async function tell(env: Env, sender: string, reply: ReplyTarget): Promise<void> {
  try {
    await adapterFor(reply.platform).openReply(env, reply).postNotice(APPROVED_NOTICE, "info");
  } catch (error) {
    console.warn(`pairing notice to ${sender} failed:`, error instanceof Error ? error.message : String(error));
  }
}
