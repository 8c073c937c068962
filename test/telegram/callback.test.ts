/**
 * Telegram's Stop button presses (`callback_query`) into inbound events, and how the relay answers
 * a press in the webhook's response.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { renderCommandReplies } from "../../src/adapters/telegram";
import { parseTelegramUpdate } from "../../src/adapters/telegram/parse";
import { PayloadError } from "../../src/errors";
import press from "../fixtures/telegram/callback_stop.json";
import { postUpdate } from "../support/telegram-relay";

const options = { bot: { id: 7000000001, username: "molt_test_bot" }, groupMode: "mention" as const };
const parse = (update: unknown) => parseTelegramUpdate(update as { update_id: number }, options);

describe("Stop button presses", () => {
  it("are the stop command from the presser, naming the turn the button was made for", () => {
    expect(parse(press)).toEqual([
      {
        kind: "command",
        conversation: "telegram:111222333",
        dedupeKeys: ["telegram:update:800000001"],
        sender: { id: "telegram:111222333", name: "Tess" },
        direct: true,
        reply: { platform: "telegram", chat_id: 111222333, chat_type: "private", thread_id: null, reply_to: null, callback_query_id: "4382bfdwdsb323b2d9" },
        text: "stop 3",
      },
    ]);
  });

  it("in a forum topic, name the topic's conversation", () => {
    const message = { ...press.callback_query.message, chat: { id: -1001234, type: "supergroup" }, message_thread_id: 9, is_topic_message: true };
    const [event] = parse({ ...press, callback_query: { ...press.callback_query, message } });
    expect(event).toMatchObject({ conversation: "telegram:-1001234:9", direct: false });
  });

  it("ignore other buttons and presses without their message", () => {
    expect(parse({ ...press, callback_query: { ...press.callback_query, data: "something:else" } })).toEqual([]);
    const { message: _message, ...withoutMessage } = press.callback_query;
    expect(parse({ ...press, callback_query: withoutMessage })).toEqual([]);
  });

  it("of the wrong shape are a 400", async () => {
    expect(() => parse({ ...press, callback_query: { ...press.callback_query, from: { id: "x" } } })).toThrow(PayloadError);
    const response = await postUpdate({ update_id: 800000002, callback_query: { id: 5 } });
    expect(response.status).toBe(400);
  });

  it("are answered on the presser's screen: a notice, or an alert when refused", async () => {
    const events = parse(press);
    const ok = await renderCommandReplies(env, events, [{ ok: true, title: "Stop", text: "Stopped." }], () => undefined).json();
    expect(ok).toEqual({ method: "answerCallbackQuery", callback_query_id: "4382bfdwdsb323b2d9", text: "Stopped.", show_alert: false });
    const refused = await renderCommandReplies(env, events, [{ ok: false, title: "Stop", text: "Only the person who asked…" }], () => undefined).json();
    expect(refused).toMatchObject({ show_alert: true });
  });
});

describe("the webhook", () => {
  it("takes a press of a Stop button whose turn is long over, and answers it", async () => {
    const update = { ...press, update_id: 800000003 + Math.floor(Math.random() * 1000), callback_query: { ...press.callback_query, data: "molt:stop:999" } };
    const response = await SELF.fetch("https://relay.test/telegram/webhook", {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": env.TELEGRAM_WEBHOOK_SECRET! },
      body: JSON.stringify(update),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: "answerCallbackQuery", text: expect.stringContaining("already finished") });
  });
});
