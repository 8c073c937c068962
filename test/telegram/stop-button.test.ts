/**
 * Telegram's Stop button as a stop control, against the Bot API emulator: it shows once a turn has
 * run for a moment, carries the turn's ref, and goes when the turn ends, also when the end comes
 * while the button is still being posted.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { STOP_BUTTON_TEXT, WORKING_TEXT, openTelegramStopButton } from "../../src/adapters/telegram/stop-button";
import type { TelegramReplyTarget } from "../../src/adapters/telegram/parse";
import { eventually } from "../support/slack-relay";
import { telegramCalls, telegramChat, uniqueChatId } from "../support/telegram-relay";

const target = (chat: number): TelegramReplyTarget => ({ platform: "telegram", chat_id: chat, chat_type: "private", thread_id: null, reply_to: null });

describe("the Stop button", () => {
  it("never shows for a turn that ends before its delay", async () => {
    const chat = uniqueChatId();
    const control = openTelegramStopButton(env, target(chat), { delayMs: 60_000 });
    await control.running({ ref: "1", title: "hi", first: true });
    await control.ended("done");
    expect(await telegramCalls(chat)).toEqual([]);
  });

  it("shows with the turn's ref, quietly, and goes when the turn ends", async () => {
    const chat = uniqueChatId();
    const control = openTelegramStopButton(env, target(chat), { delayMs: 0 });
    await control.running({ ref: "7", title: "hi", first: false });
    const shown = await eventually(async () => (await telegramChat(chat)).messages.find((m) => m.text === WORKING_TEXT), 10_000, "the button");
    expect(shown).toMatchObject({ reply_markup: { inline_keyboard: [[{ text: STOP_BUTTON_TEXT, callback_data: "molt:stop:7" }]] } });
    const [send] = await telegramCalls(chat, "sendMessage");
    expect(send!.body.disable_notification).toBe(true);

    await control.ended("stopped");
    expect((await telegramChat(chat)).messages).toEqual([]);
    expect(await telegramCalls(chat, "deleteMessage")).toHaveLength(1);
  });

  it("is taken away when the turn ends while it is being posted", async () => {
    const chat = uniqueChatId();
    const control = openTelegramStopButton(env, target(chat), { delayMs: 0 });
    await control.running({ ref: "2", title: "hi", first: false });
    // End at once: the timer may have fired and the post be in flight.
    await new Promise((resolve) => setTimeout(resolve, 1));
    await control.ended("done");
    // Whether or not the post had gone out, no button is left once `ended` resolves.
    expect((await telegramChat(chat)).messages).toEqual([]);
  });
});
