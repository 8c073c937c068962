/**
 * Regressions found by the chaos soak (test/chaos): a platform that drops the connection while
 * the finished answer is delivered must not lose the answer, nor show it twice. Through the real
 * gateway, with the emulators dropping exactly one call.
 */
import { describe, expect, it } from "vitest";
import { eventually, mention, slackCalls, slackFault, slackMessages, uniqueChannel } from "../support/slack-relay";
import { allowedChatId, postUpdate, privateText, telegramCalls, telegramChat, telegramFault } from "../support/telegram-relay";

describe("a dropped connection while the answer is delivered", () => {
  it("Telegram: the final sendMessage is dropped once, and the answer still arrives, once", async () => {
    const user = await allowedChatId();
    await telegramFault({ method: "sendMessage", chat_id: user, disconnect: true, times: 1 });
    expect((await postUpdate(privateText(user, "dropped final please"))).status).toBe(200);

    const answer = await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "text" && m.text.includes("Echo: dropped final please")),
      120_000,
      "the answer after the dropped send",
    );
    expect(answer.text).toContain("Echo: dropped final please");
    // The dropped call was made, and exactly one answer is visible.
    expect((await telegramCalls(user, "sendMessage")).some((call) => call.status === 0)).toBe(true);
    const answers = (await telegramChat(user)).messages.filter((m) => m.text.includes("dropped final please"));
    expect(answers).toHaveLength(1);
  });

  it("Slack: chat.stopStream is dropped once, and the stream is still stopped with the whole answer", async () => {
    const channel = uniqueChannel();
    await slackFault({ method: "chat.stopStream", channel, disconnect: true, times: 1 });
    const { response } = await mention(channel, "dropped stop please");
    expect(response.status).toBe(200);

    const stopped = await eventually(
      async () => (await slackMessages(channel)).find((m) => m.text.includes("Echo: dropped stop please") && m.streaming === false),
      120_000,
      "the stopped stream",
    );
    expect(stopped.text).toContain("Echo: dropped stop please");
    const stops = (await slackCalls(channel)).filter((call) => call.method === "chat.stopStream");
    expect(stops.map((call) => call.status)).toEqual([0, 200]);
    expect((await slackMessages(channel)).filter((m) => m.text.includes("dropped stop please"))).toHaveLength(1);
  });
});
