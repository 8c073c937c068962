/**
 * End to end through the real parts: a signed Slack event goes to the Worker, the bridge stores
 * it and runs a turn on the REAL OpenClaw gateway (stand-in model), and the reply streams into
 * the thread at the Slack API emulator, with the agent's picture uploaded from R2.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

const finalReply = (channel: string, threadTs: string, needle: string) => async () => {
  const messages = await slackMessages(channel);
  return messages.find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));
};

describe("Slack → bridge → real gateway → Slack", () => {
  afterAll(expectNoUnmatchedSlackCalls);

  it("answers a mention in its thread, streamed, after a working status", async () => {
    const channel = uniqueChannel();
    const { response, ts } = await mention(channel, "hello relay");
    expect(response.status).toBe(200);

    const reply = await eventually(finalReply(channel, ts, "Echo: hello relay"), 90_000, "the streamed reply");
    expect(reply.thread_ts).toBe(ts);

    const calls = await slackCalls(channel);
    const methods = calls.map((call) => call.method);
    expect(methods).toContain("chat.startStream");
    expect(methods).toContain("chat.stopStream");
    // A working status was shown before the answer began.
    const status = methods.indexOf("assistant.threads.setStatus");
    expect(status).toBeGreaterThanOrEqual(0);
    expect(status).toBeLessThan(methods.indexOf("chat.startStream"));
    // Exactly one answer in the thread.
    const answers = (await slackMessages(channel)).filter((m) => m.thread_ts === ts && m.text.includes("Echo:"));
    expect(answers).toHaveLength(1);
  });

  it("uploads the agent's picture into the thread, from R2", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "send me a picture");
    await eventually(finalReply(channel, ts, "Here is the picture"), 90_000, "the reply");
    const completed = await eventually(
      async () => (await slackCalls(channel)).find((call) => call.method === "files.completeUploadExternal"),
      30_000,
      "the upload",
    );
    expect(completed.body.thread_ts).toBe(ts);
    const uploads = await slackCalls(channel);
    const getUrl = uploads.find((call) => call.method === "files.getUploadURLExternal")!;
    const stored = await env.MEDIA.list({ prefix: "media/slack:" });
    const object = stored.objects.find((o) => o.size === Number(getUrl.body.length));
    expect(object, "the uploaded file is the one stored in R2").toBeDefined();
  });

  it("answers a redelivered event (Slack retry) once", async () => {
    const channel = uniqueChannel();
    const first = await mention(channel, "only once please");
    const retry = await mention(channel, "only once please", { eventId: first.payload.event_id, ts: first.ts });
    expect(retry.response.status).toBe(200);
    // The same message through another event type (same ts, new event id) is a duplicate too.
    const sameTs = await mention(channel, "only once please", { ts: first.ts });
    expect(sameTs.response.status).toBe(200);
    await eventually(finalReply(channel, first.ts, "Echo: only once please"), 90_000, "the reply");
    // Give any duplicate turn the time to show up: the next turn in the same thread is answered after it.
    await mention(channel, "and a follow-up", { threadTs: first.ts });
    await eventually(finalReply(channel, first.ts, "Echo: and a follow-up"), 90_000, "the follow-up");
    const answers = (await slackMessages(channel)).filter((m) => m.text.includes("Echo: only once please"));
    expect(answers).toHaveLength(1);
  });

  it("keeps follow-ups in order when they arrive during a turn", async () => {
    const channel = uniqueChannel();
    const first = await mention(channel, "first question");
    await mention(channel, "second question", { threadTs: first.ts });
    await mention(channel, "third question", { threadTs: first.ts });
    await eventually(finalReply(channel, first.ts, "Echo: third question"), 120_000, "the third answer");
    const answers = (await slackMessages(channel))
      .filter((m) => m.text.includes("Echo:"))
      .map((m) => m.text.match(/Echo: (\w+) question/)?.[1]);
    expect(answers).toEqual(["first", "second", "third"]);
  });
});
