/**
 * Turning verified Discord input into inbound events. Pure: nothing here calls Discord.
 *
 * - Interactions (HTTP): PING, `/molt <sub-command>` as an admin command, and a press on a Stop
 *   button (a MESSAGE_COMPONENT) as the command `stop <ref>`. Other types are answered but carry
 *   no event.
 * - Gateway MESSAGE_CREATE: a DM to the bot, or a channel message that mentions the bot or replies
 *   to it, is a message for the agent. Bots (ourselves included), webhooks and system messages are
 *   ignored. One conversation per channel; a thread is a channel of its own, and so is a DM.
 */
import * as v from "valibot";
import { PayloadError } from "../../errors";
import type { InboundCommand, InboundMessage, ReplyTarget } from "../types";
import { commandText } from "./commands";
import { ComponentInteraction, Interaction, issueSummary, type MessageCreate } from "./schemas";
import { STOP_CUSTOM_ID_PREFIX } from "./stop-button";

export const PLATFORM = "discord";

/** Where one Discord conversation's replies go. */
export interface DiscordReplyTarget extends ReplyTarget {
  platform: "discord";
  channel_id: string;
  guild_id: string | null;
  /** The message the answer replies to (`message_reference`); null for slash commands. */
  reply_to: string | null;
  /** A slash command's interaction: its result edits the original response. */
  interaction: { application_id: string; token: string } | null;
}

export type ParsedInteraction =
  | { kind: "ping" }
  | { kind: "command"; event: InboundCommand }
  /** A press on a Stop button: the command `stop <ref>` from the person who pressed it. */
  | { kind: "press"; event: InboundCommand }
  | { kind: "autocomplete" }
  | { kind: "unsupported"; type: number };

/** Interaction types (Discord's numbers). */
const PING = 1;
const APPLICATION_COMMAND = 2;
const MESSAGE_COMPONENT = 3;
const AUTOCOMPLETE = 4;
/** Component types (Discord's numbers). */
const BUTTON = 2;

/** A checked interaction; a MESSAGE_COMPONENT one is checked against its own, stricter shape. */
export type CheckedInteraction = Interaction | ComponentInteraction;

export function parseInteractionBody(body: string): CheckedInteraction {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PayloadError("Discord interaction is not JSON");
  }
  const result = v.safeParse(Interaction, value);
  if (!result.success) throw new PayloadError(`Discord interaction: ${issueSummary(result.issues)}`);
  if (result.output.type !== MESSAGE_COMPONENT) return result.output;
  const component = v.safeParse(ComponentInteraction, value);
  if (!component.success) throw new PayloadError(`Discord component interaction: ${issueSummary(component.issues)}`);
  return component.output;
}

export function parseInteraction(interaction: CheckedInteraction): ParsedInteraction {
  if (interaction.type === MESSAGE_COMPONENT) return parsePress(interaction as ComponentInteraction);
  interaction = interaction as Interaction;
  if (interaction.type === PING) return { kind: "ping" };
  if (interaction.type === AUTOCOMPLETE) return { kind: "autocomplete" };
  if (interaction.type !== APPLICATION_COMMAND || interaction.data?.name !== "molt") return { kind: "unsupported", type: interaction.type };
  const user = interaction.member?.user ?? interaction.user;
  const channel = interaction.channel_id ?? interaction.channel?.id;
  if (!user || !channel || !interaction.token) throw new PayloadError("Discord command without a user, channel or token");
  return { kind: "command", event: commandFrom({ ...interaction, token: interaction.token }, user, channel, commandText(interaction.data.options) ?? "help") };
}

/** The command an interaction carries, answered through that interaction. */
function commandFrom(
  interaction: { id: string; application_id: string; token: string; guild_id?: string | null },
  user: { id: string; global_name?: string | null; username?: string },
  channel: string,
  text: string,
): InboundCommand {
  const name = user.global_name ?? user.username;
  return {
    kind: "command",
    text,
    conversation: `discord:${channel}`,
    dedupeKeys: [`discord:interaction:${interaction.id}`],
    sender: { id: `discord:${user.id}`, ...(name ? { name } : {}) },
    direct: !interaction.guild_id,
    reply: {
      platform: PLATFORM,
      channel_id: channel,
      guild_id: interaction.guild_id ?? null,
      reply_to: null,
      interaction: { application_id: interaction.application_id, token: interaction.token },
    } satisfies DiscordReplyTarget,
  };
}

/**
 * A press on a Stop button (`molt:stop:<ref>`) under an answer: the command `stop <ref>` in that
 * channel's conversation, from the person who pressed it (the bridge decides whether they may).
 * Its result answers the press itself (index.ts). Other components are not the relay's.
 */
function parsePress(interaction: ComponentInteraction): ParsedInteraction {
  const { custom_id: customId, component_type: componentType } = interaction.data;
  if (componentType !== BUTTON || !customId.startsWith(STOP_CUSTOM_ID_PREFIX)) return { kind: "unsupported", type: interaction.type };
  const user = interaction.member?.user ?? interaction.user;
  const channel = interaction.channel_id ?? interaction.channel?.id ?? interaction.message.channel_id;
  if (!user || !channel) throw new PayloadError("Discord button press without a user or channel");
  if (user.bot) return { kind: "unsupported", type: interaction.type };
  return { kind: "press", event: commandFrom(interaction, user, channel, `stop ${customId.slice(STOP_CUSTOM_ID_PREFIX.length)}`.trim()) };
}

/** Message types that people write: DEFAULT and REPLY. */
const PERSON_MESSAGE_TYPES = new Set([0, 19]);

/** A message for the agent, or undefined when the bot should not answer it. */
export function parseGatewayMessage(message: MessageCreate, botId: string | undefined): InboundMessage | undefined {
  if (message.author.bot || message.webhook_id || !PERSON_MESSAGE_TYPES.has(message.type)) return undefined;
  if (botId && message.author.id === botId) return undefined;
  const direct = !message.guild_id;
  if (!direct) {
    if (!botId) return undefined;
    const mentioned = message.mentions.some((user) => user.id === botId) || new RegExp(`<@!?${botId}>`).test(message.content);
    const repliedTo = message.referenced_message?.author?.id === botId;
    if (!mentioned && !repliedTo) return undefined;
  }
  const text = stripBotMention(message.content, botId).trim();
  if (!text) return undefined;
  const name = message.author.global_name ?? message.author.username;
  const sentAt = message.timestamp ? Date.parse(message.timestamp) : NaN;
  return {
    kind: "message",
    text,
    sentAt: Number.isFinite(sentAt) ? sentAt : Date.now(),
    conversation: `discord:${message.channel_id}`,
    dedupeKeys: [`discord:msg:${message.id}`],
    sender: { id: `discord:${message.author.id}`, ...(name ? { name } : {}) },
    direct,
    reply: {
      platform: PLATFORM,
      channel_id: message.channel_id,
      guild_id: message.guild_id ?? null,
      reply_to: message.id,
      interaction: null,
    } satisfies DiscordReplyTarget,
  };
}

/** `<@bot> do this` reads as `do this`: the mention and the punctuation that addressed the bot go. */
export function stripBotMention(content: string, botId: string | undefined): string {
  if (!botId) return content;
  return content
    .replace(new RegExp(`<@!?${botId}>[,:]?`, "g"), "")
    .replace(/^[\s,:]+/, "")
    .replace(/[ \t]{2,}/g, " ");
}
