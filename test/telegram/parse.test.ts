/**
 * Telegram updates (captured shapes in test/fixtures/telegram) into inbound events: who is heard
 * where, conversation and dedupe keys, `/molt` commands, and what is ignored.
 */
import { describe, expect, it } from "vitest";
import { groupMode, telegramBotInfo } from "../../src/adapters/telegram/bot-info";
import { moltCommand, parseTelegramUpdate, type ParseOptions } from "../../src/adapters/telegram/parse";
import type { Env } from "../../src/env";
import { PayloadError } from "../../src/errors";
import channelPost from "../fixtures/telegram/channel_post.json";
import editedMessage from "../fixtures/telegram/edited_message.json";
import forumTopic from "../fixtures/telegram/forum_topic_mention.json";
import groupMention from "../fixtures/telegram/group_mention.json";
import groupPlain from "../fixtures/telegram/group_plain.json";
import groupReply from "../fixtures/telegram/group_reply_to_bot.json";
import moltCommandFixture from "../fixtures/telegram/molt_command.json";
import moltCommandGroup from "../fixtures/telegram/molt_command_group.json";
import privatePhoto from "../fixtures/telegram/private_photo.json";
import privatePhotoNoCaption from "../fixtures/telegram/private_photo_no_caption.json";
import privateText from "../fixtures/telegram/private_text.json";

const bot = { id: 7000000001, username: "molt_test_bot" };
const mention: ParseOptions = { bot, groupMode: "mention" };
const parse = (update: unknown, options = mention) => parseTelegramUpdate(update as { update_id: number }, options);

describe("private chats", () => {
  it("turns a DM into a direct message for the agent, keyed by chat, update and message", () => {
    const [event, ...rest] = parse(privateText);
    expect(rest).toEqual([]);
    expect(event).toEqual({
      kind: "message",
      conversation: "telegram:5550001",
      dedupeKeys: ["telegram:update:815000101", "telegram:msg:5550001:412"],
      sender: { id: "telegram:5550001", name: "Alice Liddell" },
      direct: true,
      reply: { platform: "telegram", chat_id: 5550001, chat_type: "private", thread_id: null, reply_to: null },
      text: "What's on my calendar tomorrow?",
      sentAt: 1760000000_000,
    });
  });

  it("takes a photo's caption as the text, and ignores a photo without one", () => {
    expect(parse(privatePhoto)).toMatchObject([{ kind: "message", text: "what is in this picture?", direct: true }]);
    expect(parse(privatePhotoNoCaption)).toEqual([]);
  });

  it("ignores edits, channel posts and messages from bots", () => {
    expect(parse(editedMessage)).toEqual([]);
    expect(parse(channelPost)).toEqual([]);
    const fromBot = structuredClone(privateText);
    (fromBot.message.from as { is_bot: boolean }).is_bot = true;
    expect(parse(fromBot)).toEqual([]);
  });
});

describe("groups", () => {
  it("hears a mention, without the mention, and replies to the asking message", () => {
    const [event] = parse(groupMention);
    expect(event).toMatchObject({
      kind: "message",
      conversation: "telegram:-1001234567890",
      direct: false,
      sender: { id: "telegram:5550002" },
      text: "summarise the thread please",
      reply: { chat_id: -1001234567890, chat_type: "supergroup", thread_id: null, reply_to: 9031 },
    });
  });

  it("hears a reply to one of the bot's messages", () => {
    expect(parse(groupReply)).toMatchObject([{ kind: "message", text: "and in French?", reply: { reply_to: 9040 } }]);
  });

  it("ignores other group chatter in mention mode, hears it in all mode, and nothing in off mode", () => {
    expect(parse(groupPlain)).toEqual([]);
    expect(parse(groupPlain, { bot, groupMode: "all" })).toMatchObject([{ text: "lunch anyone?" }]);
    expect(parse(groupMention, { bot, groupMode: "off" })).toEqual([]);
    expect(parse(moltCommandGroup, { bot, groupMode: "off" })).toEqual([]);
  });

  it("keys a forum topic as its own conversation, and matches the mention without case", () => {
    const [event] = parse(forumTopic);
    expect(event).toMatchObject({ conversation: "telegram:-1009876543210:70", text: "hey what changed?", reply: { thread_id: 70 } });
  });

  it("does not mistake a mention of another bot, or a reply to someone else, for its own", () => {
    const other = structuredClone(groupMention);
    other.message.text = "@other_bot summarise the thread please";
    expect(parse(other)).toEqual([]);
    const replyToPerson = structuredClone(groupReply);
    replyToPerson.message.reply_to_message.from.id = 5550002;
    expect(parse(replyToPerson)).toEqual([]);
  });
});

describe("/molt commands", () => {
  it("turns /molt in a DM into a command with the words after it", () => {
    expect(parse(moltCommandFixture)).toEqual([
      expect.objectContaining({ kind: "command", text: "status", direct: true, sender: expect.objectContaining({ id: "telegram:5550001" }), dedupeKeys: ["telegram:update:815000106", "telegram:msg:5550001:413"] }),
    ]);
  });

  it("accepts /molt@ourbot in a group without a mention, and ignores /molt@otherbot", () => {
    expect(parse(moltCommandGroup)).toMatchObject([{ kind: "command", text: "pair approve ABCD2345", direct: false }]);
    const other = structuredClone(moltCommandGroup);
    other.message.text = "/molt@other_bot status";
    expect(parse(other)).toEqual([]);
  });

  it("recognises only /molt itself", () => {
    expect(moltCommand("/molt", "molt_test_bot")).toBe("");
    expect(moltCommand("/MOLT help", "molt_test_bot")).toBe("help");
    expect(moltCommand("/moltbook please", "molt_test_bot")).toBeUndefined();
    expect(moltCommand("please /molt status", "molt_test_bot")).toBeUndefined();
  });
});

describe("configuration", () => {
  it("takes the bot id from the token and the username from the environment, without getMe", () => {
    expect(telegramBotInfo({ TELEGRAM_BOT_TOKEN: "123456:AAabc", TELEGRAM_BOT_USERNAME: "@Molt_Bot" } as Env)).toEqual({ id: 123456, username: "molt_bot" });
    expect(telegramBotInfo({} as Env)).toEqual({ id: 0, username: undefined });
  });

  it("defaults the group mode to mention, and ignores unknown words", () => {
    expect(groupMode({} as Env)).toBe("mention");
    expect(groupMode({ TELEGRAM_GROUP_MODE: "ALL" } as Env)).toBe("all");
    expect(groupMode({ TELEGRAM_GROUP_MODE: "everything" } as Env)).toBe("mention");
  });

  it("rejects a malformed message with a PayloadError (400) naming the field, not the value", () => {
    expect(() => parse({ update_id: 1, message: { text: "hi" } })).toThrow(PayloadError);
    expect(() => parse({ update_id: 1, message: "nonsense" })).toThrow(PayloadError);
    const numericText = structuredClone(privateText);
    (numericText.message as Record<string, unknown>).text = 12345;
    expect(() => parse(numericText)).toThrow(/message\.text/);
  });

  it("still ignores, with no error, updates it does not handle", () => {
    expect(parse({ update_id: 1, my_chat_member: { anything: [1, 2, 3] } })).toEqual([]);
    expect(parse({ update_id: 2, edited_message: "not even an object" })).toEqual([]);
  });
});
