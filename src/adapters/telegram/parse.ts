/**
 * Turning a verified Telegram update into inbound events. Pure: nothing here calls Telegram.
 *
 * - Private chats: every text (or captioned) message from a person is a message for the agent.
 * - Groups: per TELEGRAM_GROUP_MODE, only messages that mention the bot or reply to it (`mention`),
 *   every message (`all`), or none (`off`).
 * - `/molt ...` and `/molt@<our bot> ...` are admin commands, wherever the bot may listen.
 * - Edits, channel posts, other bots and service messages are ignored (the update is still acked).
 */
import type { InboundCommand, InboundEvent, InboundMessage, ReplyTarget } from "../types";
import { parseShape } from "../schema";
import type { GroupMode, TelegramBotInfo } from "./bot-info";
import { parseTelegramCallback } from "./callback";
import { type TelegramEntity, type TelegramMessage, telegramUpdate } from "./schema";

/** Where one Telegram conversation's replies go. */
export interface TelegramReplyTarget extends ReplyTarget {
  platform: "telegram";
  chat_id: number;
  chat_type: string;
  /** The forum topic, when the message was in one. */
  thread_id: number | null;
  /** In groups the answer replies to the message that asked; null in private chats. */
  reply_to: number | null;
}

export interface ParseOptions {
  bot: TelegramBotInfo;
  groupMode: GroupMode;
}

type Entity = TelegramEntity;

/**
 * The events in one update. The update is checked against Telegram's shape first (schema.ts): a
 * wrong one is a PayloadError (400); a well-formed one the relay doesn't answer gives no events.
 */
export function parseTelegramUpdate(value: unknown, options: ParseOptions): InboundEvent[] {
  const update = parseShape(telegramUpdate, value, "Telegram update");
  // A Stop button press (callback.ts checks its own shape).
  const callback = (value as { callback_query?: unknown }).callback_query;
  if (callback !== undefined) return parseTelegramCallback(update.update_id, callback);
  const message = update.message;
  if (!message || !isPersonMessage(message)) return [];
  const text = message.text ?? message.caption ?? "";
  const entities = (message.text !== undefined ? message.entities : message.caption_entities) ?? [];
  if (!text.trim()) return [];

  const direct = message.chat.type === "private";
  if (!direct && options.groupMode === "off") return [];
  const base = inboundBase(update.update_id, message, direct);

  const command = moltCommand(text, options.bot.username);
  if (command === "other-bot") return [];
  if (command !== undefined) return [{ ...base, kind: "command", text: command } satisfies InboundCommand];

  if (!direct && options.groupMode === "mention" && !addressesBot(message, text, entities, options.bot)) return [];
  const clean = direct ? text.trim() : stripMentions(text, entities, options.bot).trim();
  if (!clean) return [];
  return [{ ...base, kind: "message", text: clean, sentAt: (message.date ?? 0) * 1000 || Date.now() } satisfies InboundMessage];
}

/** Anonymous group admins and channels post as `sender_chat`; bots (ourselves included) are ignored. */
function isPersonMessage(message: TelegramMessage): message is TelegramMessage & { from: NonNullable<TelegramMessage["from"]> } {
  return Boolean(message.from && !message.from.is_bot && !message.sender_chat);
}

function inboundBase(updateId: number, message: TelegramMessage, direct: boolean) {
  const chat = message.chat.id;
  const topic = message.is_topic_message && message.message_thread_id ? message.message_thread_id : null;
  const from = message.from!;
  const name = [from.first_name, from.last_name].filter(Boolean).join(" ") || from.username;
  return {
    conversation: topic ? `telegram:${chat}:${topic}` : `telegram:${chat}`,
    dedupeKeys: [`telegram:update:${updateId}`, `telegram:msg:${chat}:${message.message_id}`],
    sender: { id: `telegram:${from.id}`, ...(name ? { name } : {}) },
    direct,
    reply: {
      platform: "telegram",
      chat_id: chat,
      chat_type: message.chat.type,
      thread_id: topic,
      reply_to: direct ? null : message.message_id,
    } satisfies TelegramReplyTarget,
  };
}

/**
 * The words after `/molt` when the text is a `/molt` command for us; `other-bot` when it is
 * `/molt@someone_else`; undefined when it is no `/molt` command at all.
 */
export function moltCommand(text: string, username: string | undefined): string | "other-bot" | undefined {
  const match = /^\/molt(?:@(\w+))?(?=\s|$)([\s\S]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const addressee = match[1]?.toLowerCase();
  if (addressee && username && addressee !== username) return "other-bot";
  return (match[2] ?? "").trim();
}

/** A mention of the bot (by @username, or a text mention of its id), or a reply to one of its messages. */
function addressesBot(message: TelegramMessage, text: string, entities: Entity[], bot: TelegramBotInfo): boolean {
  if (bot.id && message.reply_to_message?.from?.id === bot.id) return true;
  return entities.some((entity) => isBotMention(entity, text, bot));
}

function isBotMention(entity: Entity, text: string, bot: TelegramBotInfo): boolean {
  if (entity.type === "text_mention") return Boolean(bot.id) && entity.user?.id === bot.id;
  if (entity.type !== "mention" || !bot.username) return false;
  return text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === `@${bot.username}`;
}

/** Drop `@bot` mentions (offsets are UTF-16, as JavaScript strings are), last first. */
export function stripMentions(text: string, entities: Entity[], bot: TelegramBotInfo): string {
  let out = text;
  const mentions = entities.filter((entity) => entity.type === "mention" && isBotMention(entity, text, bot));
  for (const entity of mentions.sort((a, b) => b.offset - a.offset)) {
    // "@bot, do this" reads as "do this": the punctuation that addressed the bot goes with it.
    out = out.slice(0, entity.offset) + out.slice(entity.offset + entity.length).replace(/^[,:]/, "");
  }
  return out.replace(/^[\s,:]+/, "").replace(/[ \t]{2,}/g, " ");
}
