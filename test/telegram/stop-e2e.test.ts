/**
 * Telegram's Stop button and `/molt stop`, end to end through the real gateway: a long answer is
 * stopped mid-stream, the gateway aborts the run (the model request is cut off), what was shown is
 * kept and marked as stopped, nothing more comes for that turn, and the next message is answered.
 * Only the person who asked (or an admin) may stop it.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { STOP_BUTTON_TEXT, WORKING_TEXT } from "../../src/adapters/telegram/stop-button";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { eventually } from "../support/slack-relay";
import { modelRequests, pressTelegramStop } from "../support/stop";
import { emulatorCall, expectNoUnmatchedTelegramCalls, postUpdate, privateText, telegramCalls, telegramChat, allowedChatId } from "../support/telegram-relay";

afterAll(expectNoUnmatchedTelegramCalls);

type Answer = { method: string; text?: string; show_alert?: boolean; callback_query_id?: string };

async function turnsOf(key: string): Promise<Turn[]> {
  return (conversation(env, key) as unknown as { turns(limit?: number): Promise<Turn[]> }).turns();
}

/** Ask for a long, slow answer and wait for its Stop button and some drafted text. */
async function longAnswer(user: number, words: string) {
  expect((await postUpdate(privateText(user, words))).status).toBe(200);
  await eventually(
    async () => (await telegramCalls(user, "sendMessageDraft")).some((call) => String(call.body.text).length > 20),
    90_000,
    "the drafted answer",
  );
  return eventually(async () => (await telegramChat(user)).messages.find((m) => m.text === WORKING_TEXT), 10_000, "the Stop button");
}

/** What the relay answered a button press with, checked against the Bot API (the emulator). */
async function pressAnswer(response: Response): Promise<Answer> {
  expect(response.status).toBe(200);
  const answer = (await response.json()) as Answer;
  expect(answer.method).toBe("answerCallbackQuery");
  const { method, ...body } = answer;
  expect(await emulatorCall(method, body)).toMatchObject({ ok: true });
  return answer;
}

// Each of these waits for the real gateway's answers, some of them twice.
describe("Telegram's Stop button", { timeout: 240_000 }, () => {
  it("stops a long answer mid-stream: the run is aborted, the answer says stopped, nothing more comes, the next message is answered", async () => {
    const user = await allowedChatId();
    const words = "keep talking to me on telegram";
    const button = await longAnswer(user, words);
    expect(button).toMatchObject({ reply_markup: { inline_keyboard: [[{ text: STOP_BUTTON_TEXT }]] } });

    const answer = await pressAnswer(await pressTelegramStop(user, button.message_id, user));
    expect(answer).toMatchObject({ text: "Stopped.", show_alert: false });

    const stopped = await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "text" && m.text.startsWith("Long reply to:")),
      30_000,
      "the answer marked stopped",
    );
    expect(stopped.text).toMatch(/stopped$/);
    expect(stopped.text).not.toContain("Paragraph 30.");
    // The button went with the run.
    await eventually(async () => !(await telegramChat(user)).messages.some((m) => m.text === WORKING_TEXT), 10_000, "the button to go");
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");
    expect((await modelRequests(words)).some((request) => request.finished)).toBe(false);
    const [turn] = await turnsOf(`telegram:${user}`);
    expect(turn).toMatchObject({ state: "stopped", stoppedBy: `telegram:${user}` });

    // The next message is answered normally; nothing of the stopped turn came in between.
    await postUpdate(privateText(user, "hello again"));
    await eventually(async () => (await telegramChat(user)).messages.find((m) => m.text.includes("Echo: hello again")), 90_000, "the next answer");
    const calls = await telegramCalls(user);
    const stoppedAt = calls.findIndex((call) => call.method === "sendMessage" && String(call.body.text).startsWith("Long reply to:"));
    const after = calls.slice(stoppedAt + 1).filter((call) => call.method === "sendMessageDraft" || (call.method === "sendMessage" && call.body.text !== WORKING_TEXT));
    for (const call of after) expect(String(call.body.text)).toMatch(/^Echo/);
    // What stays in the chat: the stopped answer and the next one (Stop buttons go with their turns).
    const texts = async () => (await telegramChat(user)).messages.filter((m) => m.kind === "text").map((m) => m.text.slice(0, 14));
    await eventually(async () => (await texts()).length === 2, 15_000, "the next turn's Stop button to go", texts);
    expect(await texts()).toEqual(["Long reply to:", "Echo: hello ag"]);
  });

  it("refuses a press from someone who didn't ask, and the answer goes on", async () => {
    const user = await allowedChatId();
    const button = await longAnswer(user, "keep talking while someone else presses");

    const refused = await pressAnswer(await pressTelegramStop(user, button.message_id, user + 1));
    expect(refused).toMatchObject({ show_alert: true });
    expect(refused.text).toContain("Only the person who asked");
    const [running] = await turnsOf(`telegram:${user}`);
    expect(running).toMatchObject({ state: "running" });
    expect(running!.stoppedBy).toBeUndefined();

    // The asker may.
    expect(await pressAnswer(await pressTelegramStop(user, button.message_id, user))).toMatchObject({ text: "Stopped." });
    await eventually(async () => (await turnsOf(`telegram:${user}`))[0]?.state === "stopped", 30_000, "the turn to be stopped");
  });
});

describe("/molt stop on Telegram", () => {
  it("stops the current run, and says so when nothing runs", async () => {
    const user = await allowedChatId();
    const words = "keep talking until told to stop";
    await longAnswer(user, words);

    const response = await postUpdate(privateText(user, "/molt stop"));
    const reply = (await response.json()) as { method: string; text: string };
    expect(reply).toMatchObject({ method: "sendMessage" });
    expect(reply.text).toContain("Stopped.");
    await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "text" && m.text.startsWith("Long reply to:") && m.text.endsWith("stopped")),
      30_000,
      "the answer marked stopped",
    );
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");

    // A stop after the answer ended does nothing.
    const late = (await (await postUpdate(privateText(user, "/molt stop"))).json()) as { text: string };
    expect(late.text).toContain("Nothing is running");
    const [turn] = await turnsOf(`telegram:${user}`);
    expect(turn).toMatchObject({ state: "stopped" });
  });

  it("does nothing after the answer finished", async () => {
    const user = await allowedChatId();
    await postUpdate(privateText(user, "just a quick hello"));
    await eventually(async () => (await telegramChat(user)).messages.find((m) => m.text.includes("Echo: just a quick hello")), 90_000, "the answer");
    const late = (await (await postUpdate(privateText(user, "/molt stop 1"))).json()) as { text: string };
    expect(late.text).toContain("already finished");
    // The turn ends as done (after looking for files), never as stopped.
    await eventually(async () => (await turnsOf(`telegram:${user}`))[0]?.state === "done", 30_000, "the turn to be done");
    expect((await turnsOf(`telegram:${user}`))[0]!.stoppedBy).toBeUndefined();
  });
});
