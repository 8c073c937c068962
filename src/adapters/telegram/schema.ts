/**
 * The shape of a Telegram update, as far as the relay reads it (core.telegram.org/bots/api:
 * Update, Message, Chat, User, MessageEntity). Unknown fields pass; a field the relay reads that
 * has the wrong type is a 400. An update that carries no `message` (an edit, a channel post, a
 * callback) is not checked further here: the relay ignores it, still with a 200.
 */
import * as v from "valibot";
import { boundedText, safeInteger } from "../schema";

/** Telegram's limits are 4,096 characters of text and 1,024 of caption; leave room for odd counting. */
const TEXT_MAX = 8_192;

const user = v.looseObject({
  id: safeInteger,
  is_bot: v.optional(v.boolean()),
  first_name: v.optional(boundedText(256)),
  last_name: v.optional(boundedText(256)),
  username: v.optional(boundedText(64)),
});

const entity = v.looseObject({
  type: v.pipe(v.string(), v.maxLength(64)),
  offset: v.pipe(safeInteger, v.minValue(0)),
  length: v.pipe(safeInteger, v.minValue(0)),
  user: v.optional(v.looseObject({ id: safeInteger })),
});

const entities = v.optional(v.pipe(v.array(entity), v.maxLength(1_000)));

export const telegramMessage = v.looseObject({
  message_id: safeInteger,
  date: v.optional(safeInteger),
  chat: v.looseObject({ id: safeInteger, type: v.pipe(v.string(), v.maxLength(32)) }),
  from: v.optional(user),
  sender_chat: v.optional(v.looseObject({ id: safeInteger })),
  message_thread_id: v.optional(safeInteger),
  is_topic_message: v.optional(v.boolean()),
  text: v.optional(boundedText(TEXT_MAX)),
  caption: v.optional(boundedText(TEXT_MAX)),
  entities,
  caption_entities: entities,
  reply_to_message: v.optional(v.looseObject({ from: v.optional(v.looseObject({ id: safeInteger })) })),
});

export type TelegramMessage = v.InferOutput<typeof telegramMessage>;
export type TelegramEntity = v.InferOutput<typeof entity>;

/** Every update has its id; `message` is checked when it is there. */
export const telegramUpdate = v.looseObject({
  update_id: v.pipe(safeInteger, v.minValue(0)),
  message: v.optional(telegramMessage),
});

export type TelegramUpdate = v.InferOutput<typeof telegramUpdate>;
