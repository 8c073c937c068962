/**
 * Slack's agent events into inbound events: the session stop button is the `stop` command from
 * whoever pressed it, for the thread's conversation; the split pane opening asks for prompts.
 * Malformed agent events are a 400, like any payload of the wrong shape.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { slackAdapter } from "../../src/adapters/slack";
import { slackStop, sessionTitle } from "../../src/adapters/slack/agent-session";
import { parseSlackEvents, type SlackReplyTarget } from "../../src/adapters/slack/parse";
import { PayloadError } from "../../src/errors";
import stopped from "../fixtures/slack/agent_session_stopped.json";
import threadStarted from "../fixtures/slack/assistant_thread_started.json";
import { signedSlackRequest } from "../support/slack-sign";

describe("agent_session_stopped", () => {
  it("is the stop command from the presser, for the thread's run", () => {
    const { events } = parseSlackEvents(JSON.stringify(stopped));
    expect(events).toEqual([
      {
        kind: "command",
        conversation: "slack:T0TESTTEAM:C0GENERAL:1795959990.000100",
        dedupeKeys: ["slack:event:Ev0AGENTSTOP1"],
        sender: { id: "slack:U0ALICE" },
        direct: false,
        reply: { platform: "slack", team: "T0TESTTEAM", channel: "C0GENERAL", thread_ts: "1795959990.000100", user: "U0ALICE", user_team: "T0TESTTEAM" },
        text: "stop 1795959990.000100",
      },
    ]);
    // The ref the stop names is the one the bridge gives the thread's turns.
    const target = events[0]!.reply as SlackReplyTarget;
    expect(`stop ${slackStop.stopRef(target, 7)}`).toBe(events[0]!.text);
  });

  it("in a DM, names the DM's conversation", () => {
    const event = { ...stopped, event: { ...stopped.event, channel: "D0ALICEDM" } };
    const [command] = parseSlackEvents(JSON.stringify(event)).events;
    expect(command).toMatchObject({ conversation: "slack:T0TESTTEAM:D0ALICEDM", direct: true });
  });

  it("of the wrong shape is a 400", async () => {
    const { user: _user, ...withoutUser } = stopped.event;
    expect(() => parseSlackEvents(JSON.stringify({ ...stopped, event: withoutUser }))).toThrow(PayloadError);
    const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", { ...stopped, event: { ...stopped.event, thread_ts: 17 } }));
    expect(response.status).toBe(400);
  });
});

describe("assistant_thread_started", () => {
  it("asks for the suggested prompts in the new thread, and is no message for the agent", async () => {
    const parsed = parseSlackEvents(JSON.stringify(threadStarted));
    expect(parsed).toEqual({ events: [], threadStarted: { channel: "D0ALICEDM", thread_ts: "1795959999.000100", user: "U0ALICE" } });
    // The prompts go out after the acknowledgement, never before it.
    const inbound = await slackAdapter.receive(await signedSlackRequest("https://relay.test/slack/events", threadStarted), env, Date.now());
    const later: Promise<unknown>[] = [];
    const response = inbound.ack([], (work) => later.push(work));
    expect(response.status).toBe(200);
    expect(later).toHaveLength(1);
    await Promise.all(later);
  });

  it("of the wrong shape is a 400", () => {
    const { assistant_thread: _thread, ...event } = threadStarted.event;
    expect(() => parseSlackEvents(JSON.stringify({ ...threadStarted, event }))).toThrow(PayloadError);
  });
});

describe("session titles", () => {
  it("are one line of the asker's words, within Slack's 200 characters", () => {
    expect(sessionTitle("  what is\nthe weather  ")).toBe("what is the weather");
    const long = sessionTitle("word ".repeat(100));
    expect(long).toHaveLength(200);
    expect(long.endsWith("…")).toBe(true);
    expect(sessionTitle("   ")).toBe("New conversation");
  });
});
