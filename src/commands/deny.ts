import { policy } from "../policy/policy-object";
import { parseTarget } from "./allowlist";
import { type Command, UsageError } from "./registry";

export const denyCommand: Command = {
  name: "deny",
  usage: "/molt deny platform:user | channel KEY | channel here",
  help: "Take a person off the DM allowlist, or a channel off the channel allowlist.",
  admin: true,
  async run({ env, args, conversation }) {
    const store = policy(env);
    const target = parseTarget(args, conversation);
    if (!target) throw new UsageError("Name who or which channel.");
    if (target.kind === "sender") {
      const removed = await store.removeSender(target.id);
      return { ok: true, title: "Deny", text: removed ? `\`${target.id}\` may no longer DM the agent.` : `\`${target.id}\` wasn't on the allowlist.`, audit: `removed ${target.id}` };
    }
    const removed = await store.removeChannel(target.prefix);
    const { channels } = await store.lists();
    const rest = channels.length ? "" : " The channel allowlist is empty again: every channel the bot is in may mention it.";
    return { ok: true, title: "Deny", text: `${removed ? "Removed" : "Not listed:"} \`${target.prefix}\`.${rest}`, audit: `removed channel ${target.prefix}` };
  },
};
