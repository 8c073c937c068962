/** Parsing `allow`/`deny` targets: a sender `platform:userId`, or `channel <conversation prefix|here>`. */
import { UsageError } from "./registry";

export type Target = { kind: "sender"; id: string } | { kind: "channel"; prefix: string };

const SENDER = /^[a-z][a-z0-9_-]*:[^\s:]+$/i;
const CHANNEL = /^[a-z][a-z0-9_-]*:\S+$/i;

export function parseTarget(args: string[], conversation: string | undefined): Target | undefined {
  const [first, second] = args;
  if (!first) return undefined;
  if (first.toLowerCase() === "channel") {
    // `here`: the conversation the command came from. A slash command's conversation is its channel.
    const prefix = second?.toLowerCase() === "here" ? conversation : second;
    if (!prefix) throw new UsageError(second ? "`here` only works from a chat." : "Name the channel, e.g. `slack:T0123:C0456`, or say `here`.");
    if (!CHANNEL.test(prefix)) throw new UsageError(`\`${prefix}\` isn't a conversation key like \`slack:T0123:C0456\`.`);
    return { kind: "channel", prefix };
  }
  if (!SENDER.test(first)) throw new UsageError(`\`${first}\` isn't a \`platform:userId\`, e.g. \`slack:U0123ABC\`.`);
  return { kind: "sender", id: first };
}

export function describeLists(lists: { senders: { value: string }[]; channels: { value: string }[] }): string {
  const senders = lists.senders.length ? lists.senders.map((entry) => `\`${entry.value}\``).join(", ") : "nobody yet (admins may always DM)";
  const channels = lists.channels.length ? lists.channels.map((entry) => `\`${entry.value}\``).join(", ") : "every channel the bot is in";
  return `*DM allowlist:* ${senders}\n*Channels:* ${channels}`;
}
