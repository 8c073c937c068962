import { policy } from "../policy/policy-object";
import { describeLists, parseTarget } from "./allowlist";
import type { Command } from "./registry";

export const allowCommand: Command = {
  name: "allow",
  usage: "/molt allow [platform:user | channel KEY | channel here]",
  help: "Let a person DM the agent, or add a channel to the channel allowlist (which, once not empty, limits mentions to listed channels). Without arguments: show the lists.",
  admin: true,
  async run({ env, args, actor, conversation }) {
    const store = policy(env);
    const target = parseTarget(args, conversation);
    if (!target) {
      const lists = await store.lists();
      return { ok: true, title: "Allowlists", text: describeLists(lists), data: { senders: lists.senders, channels: lists.channels } };
    }
    if (target.kind === "sender") {
      const added = await store.allowSender(target.id, actor);
      return { ok: true, title: "Allow", text: added ? `\`${target.id}\` may now DM the agent.` : `\`${target.id}\` was already allowed.`, audit: `allowed ${target.id}` };
    }
    const added = await store.allowChannel(target.prefix, actor);
    return {
      ok: true,
      title: "Allow",
      text: `${added ? "Added" : "Already listed:"} \`${target.prefix}\`. Mentions now reach the agent only in listed channels.`,
      audit: `allowed channel ${target.prefix}`,
    };
  },
};
