/**
 * End to end through the real parts: a signed Slack event goes to the Worker, the bridge stores
 * it and runs a turn on the REAL OpenClaw gateway (stand-in model), and the reply streams into
 * the thread at the Slack API emulator, with the agent's picture uploaded from R2.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { slackAdapter } from "../../src/adapters/slack";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { intakeHolds, sweepIntakeKeys } from "../support/intake-keys";
import { eventually, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";
import { signedSlackRequest } from "../support/slack-sign";

async function sha256(bytes: ArrayBuffer): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const finalReply = (channel: string, threadTs: string, needle: string) => async () => {
  const messages = await slackMessages(channel);
  return messages.find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));
};

describe("Slack → bridge → real gateway → Slack", () => {
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
      90_000,
      "the upload",
    );
    expect(completed.body.thread_ts).toBe(ts);
    // The one object this conversation stored in R2...
    const stored = await env.MEDIA.list({ prefix: `media/slack:T0TESTTEAM:${channel}:` });
    expect(stored.objects).toHaveLength(1);
    const object = await env.MEDIA.get(stored.objects[0]!.key);
    const digest = await sha256(await object!.arrayBuffer());
    // ...is the file shared in the thread, byte for byte.
    const shared = (await slackMessages(channel)).filter((m) => (m.files as unknown[] | undefined)?.length);
    expect(shared).toHaveLength(1);
    expect(shared[0]!.thread_ts).toBe(ts);
    expect(shared[0]!.files).toEqual([expect.objectContaining({ size: stored.objects[0]!.size, sha256: digest })]);
  });

  it("answers a redelivered event (Slack retry) once, whichever layer recognises it", async () => {
    const channel = uniqueChannel();
    const first = await mention(channel, "only once please");
    // The intake recognises a retry (the same event id), and the same message through another
    // event type (the same ts, a new event id).
    const retry = await mention(channel, "only once please", { eventId: first.payload.event_id, ts: first.ts });
    expect(retry.response.status).toBe(200);
    const sameTs = await mention(channel, "only once please", { ts: first.ts });
    expect(sameTs.response.status).toBe(200);
    await eventually(finalReply(channel, first.ts, "Echo: only once please"), 90_000, "the reply");

    // A retry that comes after the intake swept its keys gets past it: the bridge alone must
    // recognise it.
    const [event] = (await slackAdapter.receive(await signedSlackRequest("https://relay.test/slack/events", first.payload), env, Date.now())).events;
    await sweepIntakeKeys(event!);
    expect((await intakeHolds(event!)).keys).toBe(0);
    const late = await mention(channel, "only once please", { eventId: first.payload.event_id, ts: first.ts });
    expect(late.response.status).toBe(200);
    // Taken as new by the intake, and handed to the bridge.
    expect((await intakeHolds(event!)).keys).toBe(event!.dedupeKeys.length);
    await eventually(async () => (await intakeHolds(event!)).pending === 0, 30_000, "the hand-over to the bridge");

    // The next turn in the same thread is answered after any duplicate would have been.
    await mention(channel, "and a follow-up", { threadTs: first.ts });
    await eventually(finalReply(channel, first.ts, "Echo: and a follow-up"), 90_000, "the follow-up");
    const answers = (await slackMessages(channel)).filter((m) => m.text.includes("Echo: only once please"));
    expect(answers).toHaveLength(1);
    const turns = await (conversation(env, event!.conversation) as unknown as { turns(): Promise<Turn[]> }).turns();
    expect(turns.map((turn) => turn.message.text)).toEqual(["and a follow-up", "only once please"]);
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
