/**
 * Slack as a native agent, end to end through the real gateway: each thread is an agent session
 * (processing while the agent works, titled by its first message), the split pane gets suggested
 * prompts, and the session's stop button really stops the run: the gateway aborts it (the model
 * request is cut off), the answer ends where it was, marked as stopped, and nothing more is
 * posted for that turn.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { SUGGESTED_PROMPTS } from "../../src/adapters/slack/agent-session";
import { conversation } from "../../src/bridge/conversation-object";
import { policy } from "../../src/policy/policy-object";
import type { Turn } from "../../src/bridge/inbox";
import { ADMIN_USER, directMessage, slash } from "../support/slack-admin";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackCalls, slackFault, slackMessages, uniqueChannel } from "../support/slack-relay";
import { signedSlackRequest } from "../support/slack-sign";
import { modelRequests, pressSlackStop, slackAppEvents, slackSessions } from "../support/stop";
import { SELF } from "cloudflare:test";

afterAll(expectNoUnmatchedSlackCalls);

const TEAM = "T0TESTTEAM";

const answer = (channel: string, threadTs: string, needle: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && !m.streaming && !m.ephemeral && m.text.includes(needle));

/** The streamed answer once it shows some text, while it is still streaming. */
const streaming = (channel: string, threadTs: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && m.streaming && m.text.length > 20);

const sessionOf = async (channel: string, threadTs: string) => (await slackSessions(channel)).sessions[threadTs];

async function turnsOf(key: string): Promise<Turn[]> {
  return (conversation(env, key) as unknown as { turns(limit?: number): Promise<Turn[]> }).turns();
}

/** Ask for a long, slow answer in a new thread and wait until it is streaming. */
async function longAnswer(channel: string, words: string, user = "U0ALICE") {
  const { ts } = await mention(channel, words, { user });
  const shown = await eventually(streaming(channel, ts), 90_000, "the long answer to stream");
  await eventually(async () => (await sessionOf(channel, ts))?.status === "processing", 10_000, "the session to be processing");
  return { ts, shown };
}

/** No answer text reached the thread between `from` (a call's index) and `to`. */
function postsBetween(calls: { method: string }[], from: number, to: number): string[] {
  const posting = new Set(["chat.appendStream", "chat.startStream", "chat.postMessage", "chat.update", "files.getUploadURLExternal", "files.completeUploadExternal"]);
  return calls.slice(from + 1, to).map((call) => call.method).filter((method) => posting.has(method));
}

describe("Slack agent sessions", () => {
  it("marks the thread's session processing while the agent works, active after, titled by the first message", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "what is the weather like");
    await eventually(answer(channel, ts, "Echo: what is the weather like"), 90_000, "the answer");
    await eventually(async () => (await sessionOf(channel, ts))?.status === "active", 10_000, "the session to be active");
    expect(await sessionOf(channel, ts)).toMatchObject({ title: "what is the weather like", history: ["processing", "active"] });

    // A follow-up in the thread moves the session again, and keeps its title.
    await mention(channel, "and tomorrow", { threadTs: ts });
    await eventually(answer(channel, ts, "Echo: and tomorrow"), 90_000, "the follow-up");
    await eventually(async () => (await sessionOf(channel, ts))?.history.length === 4, 10_000, "the second turn's statuses");
    expect(await sessionOf(channel, ts)).toMatchObject({ title: "what is the weather like", status: "active", history: ["processing", "active", "processing", "active"] });
    const renames = (await slackCalls(channel)).filter((call) => call.method === "agents.sessions.rename");
    expect(renames.map((call) => call.body.title)).toEqual(["what is the weather like"]);
  });

  it("offers the suggested prompts when the split pane opens", async () => {
    const channel = uniqueChannel("D");
    const threadTs = `${Math.floor(Date.now() / 1000)}.000777`;
    const response = await SELF.fetch(
      await signedSlackRequest("https://relay.test/slack/events", {
        team_id: TEAM,
        api_app_id: "A0TESTAPP",
        type: "event_callback",
        event_id: `Ev${crypto.randomUUID().slice(0, 8)}`,
        event_time: Math.floor(Date.now() / 1000),
        event: {
          type: "assistant_thread_started",
          assistant_thread: { user_id: "U0ALICE", channel_id: channel, thread_ts: threadTs, context: { channel_id: "C0ELSEWHERE", team_id: TEAM } },
          event_ts: threadTs,
        },
      }),
    );
    expect(response.status).toBe(200);
    const suggested = await eventually(async () => (await slackSessions(channel)).suggested[threadTs], 10_000, "the suggested prompts");
    expect(suggested.prompts).toEqual(SUGGESTED_PROMPTS.map((prompt) => ({ ...prompt })));
  });

  it("keeps today's behaviour where agent sessions are off, and answers", async () => {
    const channel = uniqueChannel();
    // An older workspace: Slack refuses the method. The turn must not notice.
    await slackFault({ method: "agents.sessions.setStatus", error: "not_allowed_token_type", channel, times: 5 });
    const { ts } = await mention(channel, "are sessions off");
    await eventually(answer(channel, ts, "Echo: are sessions off"), 90_000, "the answer");
    const methods = (await slackCalls(channel)).map((call) => call.method);
    // Asked once; after the refusal the turn went on as before: status, stream, no second try.
    expect(methods.filter((method) => method === "agents.sessions.setStatus")).toHaveLength(1);
    expect(methods).toContain("assistant.threads.setStatus");
    expect(methods).toContain("chat.stopStream");
  });

  it("answers when the app doesn't subscribe to agent_session_stopped (Slack's warning)", async () => {
    const channel = uniqueChannel();
    await slackAppEvents(channel, ["app_mention", "message.im"]);
    const { ts } = await mention(channel, "an older manifest");
    await eventually(answer(channel, ts, "Echo: an older manifest"), 90_000, "the answer");
    const calls = (await slackCalls(channel)).filter((call) => call.method === "agents.sessions.setStatus");
    expect(calls.map((call) => (call.response as { warning?: string }).warning)).toContain("missing_agent_session_stopped_event_subscription");
    await eventually(async () => (await sessionOf(channel, ts))?.status === "active", 10_000, "the session to be active");
  });
});

// Each of these waits for the real gateway's answers, some of them twice.
describe("Slack's stop button", { timeout: 240_000 }, () => {
  it("stops a long answer mid-stream: the run is aborted, the answer says stopped, nothing more is posted, the next message is answered", async () => {
    const channel = uniqueChannel();
    const words = "keep talking about the stop button";
    const { ts } = await longAnswer(channel, words);

    const response = await pressSlackStop(channel, ts, "U0ALICE");
    expect(response.status).toBe(200);

    const stopped = await eventually(answer(channel, ts, "_stopped_"), 30_000, "the answer marked stopped");
    expect(stopped.text).toMatch(/^Long reply to: keep talking/);
    expect(stopped.text).not.toContain("Paragraph 30."); // cut well short of the whole answer
    await eventually(async () => (await sessionOf(channel, ts))?.status === "active", 10_000, "the session to leave processing");
    // The gateway aborted the run: the model's streamed answer was cut off.
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");
    expect((await modelRequests(words)).some((request) => request.finished)).toBe(false);
    const [turn] = await turnsOf(`slack:${TEAM}:${channel}:${ts}`);
    expect(turn).toMatchObject({ state: "stopped", stoppedBy: "slack:U0ALICE" });

    // The next message in the thread is answered normally, and nothing came between.
    await mention(channel, "are you still there", { threadTs: ts });
    await eventually(answer(channel, ts, "Echo: are you still there"), 90_000, "the next answer");
    const calls = await slackCalls(channel);
    const stopStream = calls.findIndex((call) => call.method === "chat.stopStream" && call.body.ts === stopped.ts);
    const next = calls.findIndex((call, i) => i > stopStream && call.method === "chat.startStream");
    expect(stopStream).toBeGreaterThan(0);
    expect(postsBetween(calls, stopStream, next)).toEqual([]);
    expect((await slackMessages(channel)).find((m) => m.ts === stopped.ts)?.text).toBe(stopped.text);
  });

  it("refuses a stop from someone who didn't ask; an admin may stop it", async () => {
    const channel = uniqueChannel();
    const { ts } = await longAnswer(channel, "keep talking while mallory watches");

    await pressSlackStop(channel, ts, "U0MALLORY");
    const refusal = await eventually(
      async () => (await slackMessages(channel)).find((m) => m.ephemeral && m.to === "U0MALLORY"),
      15_000,
      "the refusal, told to the presser",
    );
    expect(refusal.text).toContain("Only the person who asked");
    expect(await eventually(streaming(channel, ts), 5_000, "the answer to go on")).toBeTruthy();

    await pressSlackStop(channel, ts, ADMIN_USER);
    await eventually(answer(channel, ts, "_stopped_"), 30_000, "the answer marked stopped");
    const [turn] = await turnsOf(`slack:${TEAM}:${channel}:${ts}`);
    expect(turn).toMatchObject({ state: "stopped", stoppedBy: `slack:${ADMIN_USER}` });
    // Both attempts are in the audit log.
    const key = `slack:${TEAM}:${channel}:${ts}`;
    const audit = (await policy(env).audit(200)).filter((entry) => entry.action === "stop" && entry.detail === key);
    expect(audit.map(({ actor, outcome }) => ({ actor, outcome }))).toEqual(
      expect.arrayContaining([
        { actor: "slack:U0MALLORY", outcome: "refused" },
        { actor: `slack:${ADMIN_USER}`, outcome: "ok" },
      ]),
    );
  });

  it("does nothing when the press comes after the answer finished", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "a quick one");
    const done = await eventually(answer(channel, ts, "Echo: a quick one"), 90_000, "the answer");
    await eventually(async () => (await sessionOf(channel, ts))?.status === "active", 10_000, "the session to be active");

    // The press crossed the answer's end on the wire.
    expect((await pressSlackStop(channel, ts, "U0ALICE", true)).status).toBe(200);
    const note = await eventually(async () => (await slackMessages(channel)).find((m) => m.ephemeral && m.to === "U0ALICE"), 15_000, "the note");
    expect(note.text).toContain("already finished");
    expect((await slackMessages(channel)).find((m) => m.ts === done.ts)?.text).toBe(done.text);
    // The turn ends as done (after looking for files), never as stopped.
    await eventually(async () => (await turnsOf(`slack:${TEAM}:${channel}:${ts}`))[0]?.state === "done", 30_000, "the turn to be done");
    expect((await turnsOf(`slack:${TEAM}:${channel}:${ts}`))[0]!.stoppedBy).toBeUndefined();
  });
});

describe("/molt stop on Slack", () => {
  it("stops the current run in a DM", async () => {
    const dm = uniqueChannel("D");
    const words = "keep talking in my DM";
    const { ts } = await directMessage(dm, ADMIN_USER, words);
    await eventually(streaming(dm, ts), 90_000, "the long answer to stream");

    const result = await slash("stop", { channel: dm, user: ADMIN_USER });
    expect(result.shown).toContain("Stopped.");
    await eventually(answer(dm, ts, "_stopped_"), 30_000, "the answer marked stopped");
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");

    // Nothing runs any more: a second stop says so.
    const again = await slash("stop", { channel: dm, user: ADMIN_USER });
    expect(again.shown).toContain("Nothing is running");
  });

  it("in a channel, stops the caller's run in one of its threads (a slash command knows only the channel)", async () => {
    const channel = uniqueChannel();
    const { ts } = await longAnswer(channel, "keep talking in a channel thread");
    const result = await slash("stop", { channel, user: "U0ALICE" });
    expect(result.shown).toContain("Stopped.");
    await eventually(answer(channel, ts, "_stopped_"), 30_000, "the answer marked stopped");
  });
});
