/**
 * Telegram's Stop button: a `callback_query` from the inline keyboard under a running answer
 * becomes the command `stop <ref>` from the person who pressed it (the bridge decides whether
 * they may). Pure: nothing here calls Telegram. The press is answered in the webhook's response
 * (`answerCallbackQuery`), see index.ts.
 */
import * as v from "valibot";
import { PayloadError } from "../../errors";
import type { InboundCommand } from "../types";
import type { TelegramReplyTarget } from "./parse";

/** `callback_data` of the Stop button (Telegram allows 1-64 bytes). */
export const STOP_DATA_PREFIX = "molt:stop:";
export const stopButtonData = (ref: string) => `${STOP_DATA_PREFIX}${ref}`;

const SafeInt = v.pipe(v.number(), v.safeInteger());

const CallbackQuery = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  from: v.object({
    id: SafeInt,
    is_bot: v.optional(v.boolean()),
    first_name: v.optional(v.string()),
    last_name: v.optional(v.string()),
    username: v.optional(v.string()),
  }),
  // Absent when the message is too old for Telegram to send along: nothing to stop then.
  message: v.optional(
    v.object({
      message_id: SafeInt,
      chat: v.object({ id: SafeInt, type: v.string() }),
      message_thread_id: v.optional(SafeInt),
      is_topic_message: v.optional(v.boolean()),
    }),
  ),
  data: v.optional(v.string()),
});

/** The target of a button press: replies go to the chat, the press itself is answered by id. */
export interface TelegramCallbackTarget extends TelegramReplyTarget {
  callback_query_id: string;
}

export function isCallbackTarget(target: unknown): target is TelegramCallbackTarget {
  return typeof (target as Partial<TelegramCallbackTarget>).callback_query_id === "string";
}

/** The events of an update carrying `callback_query` (400 when it has the wrong shape). */
export function parseTelegramCallback(updateId: number, query: unknown): InboundCommand[] {
  const parsed = v.safeParse(CallbackQuery, query);
  if (!parsed.success) throw new PayloadError(`Telegram callback_query of the wrong shape: ${v.summarize(parsed.issues).split("\n")[0]}`);
  const { id, from, message, data } = parsed.output;
  if (!message || !data?.startsWith(STOP_DATA_PREFIX) || from.is_bot) return [];
  const chat = message.chat.id;
  const topic = message.is_topic_message && message.message_thread_id ? message.message_thread_id : null;
  const name = [from.first_name, from.last_name].filter(Boolean).join(" ") || from.username;
  const reply: TelegramCallbackTarget = {
    platform: "telegram",
    chat_id: chat,
    chat_type: message.chat.type,
    thread_id: topic,
    reply_to: null,
    callback_query_id: id,
  };
  return [
    {
      kind: "command",
      conversation: topic ? `telegram:${chat}:${topic}` : `telegram:${chat}`,
      dedupeKeys: [`telegram:update:${updateId}`],
      sender: { id: `telegram:${from.id}`, ...(name ? { name } : {}) },
      direct: message.chat.type === "private",
      reply,
      text: `stop ${data.slice(STOP_DATA_PREFIX.length)}`,
    },
  ];
}
