/**
 * The webhook at the edge: the secret header in constant time (401), malformed bodies (400),
 * ignored updates answered 200, redeliveries stored once, and `/molt` answered in the webhook
 * response itself as a `sendMessage` that the Bot API (emulator) accepts.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { renderCommandReplies, telegramAdapter } from "../../src/adapters/telegram";
import { telegramBotInfo } from "../../src/adapters/telegram/bot-info";
import { parseTelegramUpdate } from "../../src/adapters/telegram/parse";
import { verifyTelegramRequest } from "../../src/adapters/telegram/verify";
import { conversation } from "../../src/bridge/conversation-object";
import { VerificationError } from "../../src/errors";
import editedMessage from "../fixtures/telegram/edited_message.json";
import { emulatorCall, expectNoUnmatchedTelegramCalls, nextUpdateId, postUpdate, privateText, telegramCalls, uniqueChatId } from "../support/telegram-relay";

afterAll(expectNoUnmatchedTelegramCalls);

describe("secret token", () => {
  it("answers 401 to a missing, wrong, shorter or longer secret", async () => {
    const secret = env.TELEGRAM_WEBHOOK_SECRET!;
    for (const given of [null, "", "wrong", secret.slice(0, -1), `${secret}x`, secret.toUpperCase()]) {
      const response = await postUpdate(editedMessage, given);
      expect(response.status, `secret ${JSON.stringify(given)}`).toBe(401);
      expect(await response.text()).not.toContain(secret);
    }
  });

  it("accepts the right secret (an ignored update is still answered 200)", async () => {
    const response = await postUpdate({ ...editedMessage, update_id: nextUpdateId() });
    expect(response.status).toBe(200);
  });

  it("checks the secret before it reads the body", async () => {
    expect((await postUpdate("{not json", "wrong")).status).toBe(401);
  });

  it("throws a VerificationError directly too", async () => {
    await expect(verifyTelegramRequest(new Headers({ "x-telegram-bot-api-secret-token": "a" }), "b")).rejects.toBeInstanceOf(VerificationError);
    await expect(verifyTelegramRequest(new Headers({ "x-telegram-bot-api-secret-token": "b" }), "b")).resolves.toBeUndefined();
  });
});

describe("malformed bodies", () => {
  it("answers 400 to what is not an update", async () => {
    for (const body of ["{not json", "[]", "null", '"text"', "{}", '{"update_id":"12"}']) {
      expect((await postUpdate(body)).status, body).toBe(400);
    }
  });
});

describe("redeliveries", () => {
  it("stores an update Telegram sends twice, or the same message under a new update, once", async () => {
    const user = uniqueChatId();
    const update = privateText(user, "only once please");
    const receive = async (body: unknown) => {
      const inbound = await telegramAdapter.receive(
        new Request("https://relay.test/telegram/webhook", {
          method: "POST",
          headers: { "x-telegram-bot-api-secret-token": env.TELEGRAM_WEBHOOK_SECRET! },
          body: JSON.stringify(body),
        }),
        env,
        Date.now(),
      );
      const [event] = inbound.events;
      if (event?.kind !== "message") throw new Error("expected a message");
      return conversation(env, event.conversation).receive(event);
    };
    const first = await receive(update);
    const again = await receive(update);
    const sameMessage = await receive({ ...update, update_id: nextUpdateId() });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    expect(sameMessage).toMatchObject({ duplicate: true, seq: first.seq });
  });
});

describe("/molt", () => {
  it("answers in the webhook response with a sendMessage the Bot API accepts", async () => {
    const user = uniqueChatId();
    const response = await postUpdate(privateText(user, "/molt help"));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ method: "sendMessage", chat_id: user, parse_mode: "HTML" });
    expect(String(body.text)).toMatch(/\S/);
    const { method, ...call } = body;
    const result = await emulatorCall(String(method), call);
    expect(result.ok, result.description).toBe(true);
  });

  it("replies in a group to the command message, in its forum topic", async () => {
    const group = uniqueChatId("group");
    const update = {
      update_id: nextUpdateId(),
      message: {
        message_id: 31,
        message_thread_id: 30,
        is_topic_message: true,
        from: { id: uniqueChatId(), is_bot: false, first_name: "Bob" },
        chat: { id: group, title: "Team", type: "supergroup", is_forum: true },
        date: Math.floor(Date.now() / 1000),
        text: "/molt@molt_test_bot help",
        entities: [{ offset: 0, length: 19, type: "bot_command" }],
      },
    };
    const body = (await (await postUpdate(update)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ method: "sendMessage", chat_id: group, message_thread_id: 30, reply_parameters: { message_id: 31 } });
  });
});

describe("/molt results longer than one message", () => {
  it("are sent whole, split, through the API after the answer instead of being cut", async () => {
    const user = uniqueChatId();
    const events = parseTelegramUpdate(privateText(user, "/molt logs"), { bot: telegramBotInfo(env), groupMode: "mention" });
    const paragraphs = Array.from({ length: 60 }, (_, i) => `line ${i}: ${"x".repeat(120)}`);
    const later: Promise<unknown>[] = [];
    const response = renderCommandReplies(env, events, [{ ok: true, title: "Logs", text: paragraphs.join("\n\n") }], (work) => later.push(work));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    await Promise.all(later);
    const sent = (await telegramCalls(user, "sendMessage")).map((call) => String(call.body.text ?? ""));
    expect(sent.length).toBeGreaterThan(1);
    const all = sent.join("\n");
    for (const paragraph of paragraphs) expect(all).toContain(paragraph);
  });
});
