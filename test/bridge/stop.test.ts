/**
 * The bridge's side of stopping: who may stop which turn (pure), and a stop that comes while a
 * turn waits for a retry: it is recorded, the turn never runs again, the user is told, and the
 * turns queued behind it stay queued.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InboundMessage } from "../../src/adapters/types";
import { conversation, type ConversationObject } from "../../src/bridge/conversation-object";
import { Inbox, type Turn } from "../../src/bridge/inbox";
import { decideStop, type StopRequest, type StopResult } from "../../src/bridge/stop";
import { eventually, slackMessages, uniqueChannel } from "../support/slack-relay";
import { modelRequests, slackSessions } from "../support/stop";

const ADMINS = { ADMINS: "slack:U0ADMIN" };

function turn(fields: Partial<Turn> = {}): Turn {
  return {
    seq: 4,
    message: message("C0GENERAL", "hello"),
    state: "running",
    attempts: 1,
    receivedAt: 0,
    delivered: false,
    mediaPosted: [],
    noticed: false,
    resends: 0,
    ...fields,
  };
}

function message(channel: string, text: string, user = "U0ALICE"): InboundMessage {
  return {
    kind: "message",
    conversation: `slack:T0TESTTEAM:${channel}:1790000000.000100`,
    dedupeKeys: [`test:${channel}:${text}`],
    sender: { id: `slack:${user}` },
    direct: false,
    reply: { platform: "slack", team: "T0TESTTEAM", channel, thread_ts: "1790000000.000100", user, user_team: "T0TESTTEAM" },
    text,
    sentAt: 0,
  };
}

describe("who may stop which turn", () => {
  it("lets the asker and admins stop a running turn, and no one else", () => {
    expect(decideStop(ADMINS, turn(), { actor: "slack:U0ALICE" }).status).toBe("stopped");
    expect(decideStop(ADMINS, turn(), { actor: "slack:U0ADMIN" }).status).toBe("stopped");
    expect(decideStop(ADMINS, turn(), { actor: "slack:U0MALLORY" })).toMatchObject({ status: "refused" });
    // The same user id on another platform is someone else.
    expect(decideStop(ADMINS, turn(), { actor: "telegram:U0ALICE" }).status).toBe("refused");
  });

  it("does nothing when the answer is finished, nothing runs, or the control was for another turn", () => {
    expect(decideStop(ADMINS, turn({ delivered: true }), { actor: "slack:U0ALICE" })).toMatchObject({ status: "idle", text: expect.stringContaining("already finished") });
    expect(decideStop(ADMINS, undefined, { actor: "slack:U0ALICE" })).toMatchObject({ status: "idle", text: expect.stringContaining("Nothing is running") });
    expect(decideStop(ADMINS, turn({ state: "queued" }), { actor: "slack:U0ALICE" }).status).toBe("idle");
    expect(decideStop(ADMINS, turn(), { actor: "slack:U0ALICE", ref: "3" }).status).toBe("idle");
    expect(decideStop(ADMINS, turn(), { actor: "slack:U0ALICE", ref: "4" }).status).toBe("stopped");
  });
});

describe("a stop while the turn waits for a retry", () => {
  it("ends the turn for good: it is never sent to the agent again, and the next turn stays queued", async () => {
    const channel = uniqueChannel();
    const first = message(channel, "keep talking after a failed attempt");
    const second = message(channel, "a follow-up that must still be answered");
    const stub = conversation(env, first.conversation);
    // The first attempt failed (the agent was restarting) and a retry is a minute away.
    await runInDurableObject(stub, async (_instance: ConversationObject, state) => {
      const inbox = new Inbox(state.storage.sql);
      const { seq } = inbox.accept(first, Date.now());
      inbox.begin(seq, Date.now());
      inbox.requeue(seq, "gateway restarting");
      inbox.accept(second, Date.now());
      await state.storage.setAlarm(Date.now() + 60_000);
    });

    const bridge = stub as unknown as { stop(request: StopRequest): Promise<StopResult>; turns(): Promise<Turn[]> };
    expect(await bridge.stop({ actor: "slack:U0ALICE" })).toMatchObject({ status: "stopped" });
    await runDurableObjectAlarm(stub);

    const turns = await eventually(async () => {
      const all = await bridge.turns();
      return all.find((t) => t.seq === 1)?.state === "stopped" ? all : undefined;
    }, 30_000, "the turn to end as stopped");
    expect(turns.find((t) => t.seq === 1)).toMatchObject({ stoppedBy: "slack:U0ALICE", attempts: 1 });
    expect(await modelRequests(first.text)).toEqual([]);
    await eventually(async () => (await slackMessages(channel)).find((m) => m.text.includes("Stopped.")), 10_000, "the notice");
    // The session left `processing` for the stopped turn (the follow-up's turn moves it on after).
    expect((await slackSessions(channel)).sessions["1790000000.000100"]?.history[0]).toBe("active");
    // The follow-up was not dropped: it is answered.
    await eventually(
      async () => (await slackMessages(channel)).find((m) => !m.streaming && m.text.includes("Echo: a follow-up that must still be answered")),
      90_000,
      "the follow-up's answer",
    );
  });
});
