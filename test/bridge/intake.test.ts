/**
 * The intake: what the acknowledgement waits for (one durable write), and what happens after it:
 * one policy call per batch, admitted messages handed to their bridge in order, refused ones
 * answered, failed hand-overs retried without reordering a conversation. The full path (signed
 * webhook → intake → bridge → real gateway → platform) is in slack-e2e.test.ts and the Telegram
 * and pairing end-to-end tests.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InboundMessage } from "../../src/adapters/types";
import type { Turn } from "../../src/bridge/inbox";
import { conversation } from "../../src/bridge/conversation-object";
import { drain, type HandOver, handoverDelayMs, INTAKE_BATCH, IntakeObject, MAX_HANDOVER_ATTEMPTS, storedMessage } from "../../src/bridge/intake-object";
import { IntakeStore } from "../../src/bridge/intake-store";
import type { Admission } from "../../src/policy/policy-object";
import { eventually } from "../support/slack-relay";

const freshIntake = () => env.INTAKE.get(env.INTAKE.idFromName(`test-${crypto.randomUUID()}`));

let counter = 0;
function message(conversationKey: string, text: string, keys = [`evt-${++counter}`]): InboundMessage {
  return {
    kind: "message",
    conversation: conversationKey,
    dedupeKeys: keys,
    sender: { id: "testchat:U1" },
    direct: false,
    reply: { platform: "testchat", channel: conversationKey },
    text,
    sentAt: 1_700_000_000_000,
  };
}

const stored = (...args: Parameters<typeof message>) => storedMessage(message(...args));

/** A recording stand-in for the policy, the bridges and the platforms. */
function world({ refuse = new Set<string>(), failing = new Map<string, number>() } = {}) {
  const calls = { admit: [] as string[][], forwarded: [] as string[], notices: [] as string[] };
  const handOver: HandOver = {
    async admit(messages) {
      calls.admit.push(messages.map((m) => m.text));
      return messages.map((m): Admission =>
        refuse.has(m.text) ? { allowed: false, reason: "not-allowed", notice: `refused ${m.text}` } : { allowed: true },
      );
    },
    async forward(m) {
      const left = failing.get(m.conversation) ?? 0;
      if (left > 0) {
        failing.set(m.conversation, left - 1);
        throw new Error("bridge unavailable");
      }
      calls.forwarded.push(m.text);
    },
    async notify(_m, text) {
      calls.notices.push(text);
    },
  };
  return { calls, handOver };
}

/** Run `body` against the SQLite of a fresh intake object. */
function withStore<T>(body: (store: IntakeStore) => Promise<T> | T): Promise<T> {
  return runInDurableObject(freshIntake(), (_instance: IntakeObject, state) => body(new IntakeStore(state.storage.sql)));
}

describe("intake store", () => {
  it("stores a message once, whichever of its delivery keys comes back", () =>
    withStore((store) => {
      expect(store.accept(stored("c1", "hi", ["evt-A", "ts-1"]), 1000)).toBe(true);
      expect(store.accept(stored("c1", "hi", ["evt-A"]), 1001)).toBe(false);
      // The same message through another event type: another event id, the same message ts.
      expect(store.accept(stored("c1", "hi", ["evt-B", "ts-1"]), 1002)).toBe(false);
      // ...and that event id is now known too.
      expect(store.accept(stored("c1", "hi", ["evt-B"]), 1003)).toBe(false);
      expect(store.size()).toBe(1);
      expect(store.due(Number.MAX_SAFE_INTEGER, 10).map((p) => p.message.text)).toEqual(["hi"]);
    }));

  it("is due when the first message of some conversation may go, not earlier", () =>
    withStore((store) => {
      expect(store.nextDue()).toBeNull();
      store.accept(stored("c1", "one"), 0);
      store.accept(stored("c1", "two"), 0);
      const [first] = store.due(Number.MAX_SAFE_INTEGER, 10);
      store.postpone(first!.seq, 5_000, "bridge unavailable");
      // "two" alone would be due now, but it waits behind "one".
      expect(store.nextDue()).toBe(5_000);
      store.accept(stored("c2", "other"), 0);
      expect(store.nextDue()).toBe(0);
    }));
});

describe("hand-over", () => {
  it("asks the policy once per batch and hands each conversation's messages over in order", () =>
    withStore(async (store) => {
      for (const text of ["a1", "a2", "a3"]) store.accept(stored("conv-a", text), 0);
      for (const text of ["b1", "b2"]) store.accept(stored("conv-b", text), 0);
      const { calls, handOver } = world();
      await drain(store, handOver, 10);
      expect(calls.admit).toEqual([["a1", "a2", "a3", "b1", "b2"]]);
      expect(calls.forwarded.filter((t) => t.startsWith("a"))).toEqual(["a1", "a2", "a3"]);
      expect(calls.forwarded.filter((t) => t.startsWith("b"))).toEqual(["b1", "b2"]);
      expect(store.size()).toBe(0);
    }));

  it("answers a refused message and never hands it to a bridge", () =>
    withStore(async (store) => {
      store.accept(stored("conv-a", "stranger"), 0);
      store.accept(stored("conv-a", "friend"), 0);
      const { calls, handOver } = world({ refuse: new Set(["stranger"]) });
      await drain(store, handOver, 10);
      expect(calls.notices).toEqual(["refused stranger"]);
      expect(calls.forwarded).toEqual(["friend"]);
      expect(store.size()).toBe(0);
    }));

  it("doesn't let a slow refusal notice hold up the hand-over", () =>
    withStore(async (store) => {
      store.accept(stored("conv-stranger", "stranger"), 0);
      store.accept(stored("conv-friend", "friend"), 0);
      const { calls, handOver } = world({ refuse: new Set(["stranger"]) });
      // A platform that keeps the notice waiting (say, a long Retry-After).
      let release: () => void = () => undefined;
      handOver.notify = (_m, text) => new Promise<void>((resolve) => (release = () => (calls.notices.push(text), resolve())));
      // Returns although the notice is still held (awaiting it would never return).
      await drain(store, handOver, 10, 50);
      expect(calls.forwarded).toEqual(["friend"]);
      expect(store.size()).toBe(0);
      release();
      await Promise.resolve();
      expect(calls.notices).toEqual(["refused stranger"]);
    }));

  it("holds a conversation back behind a failed hand-over, lets the others through, and retries later", () =>
    withStore(async (store) => {
      store.accept(stored("conv-a", "a1"), 0);
      store.accept(stored("conv-a", "a2"), 0);
      store.accept(stored("conv-b", "b1"), 0);
      const { calls, handOver } = world({ failing: new Map([["conv-a", 1]]) });
      await drain(store, handOver, 100);
      expect(calls.forwarded).toEqual(["b1"]);
      expect(store.due(Number.MAX_SAFE_INTEGER, 10).map((p) => [p.message.text, p.attempts])).toEqual([["a1", 1], ["a2", 0]]);
      const retryAt = 100 + handoverDelayMs(0);
      expect(store.nextDue()).toBe(retryAt);
      // Too early: nothing moves, and the policy isn't asked again.
      await drain(store, handOver, retryAt - 1);
      expect(calls.admit).toHaveLength(1);
      await drain(store, handOver, retryAt);
      expect(calls.forwarded).toEqual(["b1", "a1", "a2"]);
      expect(store.size()).toBe(0);
    }));

  it("never lets more than a batch of postponed conversations hold back the others", () =>
    withStore(async (store) => {
      const failing = new Map<string, number>();
      for (let i = 0; i <= INTAKE_BATCH; i++) {
        store.accept(stored(`down-${i}`, `d${i}`), 0);
        failing.set(`down-${i}`, 99);
      }
      store.accept(stored("up", "fine"), 0);
      const { calls, handOver } = world({ failing });
      await drain(store, handOver, 100);
      await drain(store, handOver, 100);
      expect(calls.forwarded).toEqual(["fine"]);
      expect(store.size()).toBe(INTAKE_BATCH + 1);
      expect(store.nextDue()).toBe(100 + handoverDelayMs(0));
    }));

  it(`gives a message up after ${MAX_HANDOVER_ATTEMPTS} failed hand-overs, and says so`, () =>
    withStore(async (store) => {
      store.accept(stored("conv-a", "a1"), 0);
      store.accept(stored("conv-a", "a2"), 0);
      const { calls, handOver } = world({ failing: new Map([["conv-a", MAX_HANDOVER_ATTEMPTS]]) });
      let now = 0;
      for (let attempt = 0; attempt < MAX_HANDOVER_ATTEMPTS; attempt++) {
        await drain(store, handOver, now);
        now = store.nextDue() ?? now;
      }
      expect(calls.notices).toEqual(["Sorry, your message couldn't be handed to the assistant. Please send it again."]);
      expect(calls.forwarded).toEqual(["a2"]);
      expect(store.size()).toBe(0);
    }));
});

describe("intake object", () => {
  it("stores a message once and its alarm hands it to the conversation's bridge", async () => {
    const stub = freshIntake();
    const key = `slack:T0TESTTEAM:D0ADMINDM:${crypto.randomUUID()}`;
    // An admin's DM: admitted by the deployment's real policy object.
    const dm: InboundMessage = { ...message(key, "hello from intake"), sender: { id: "slack:U0ADMIN" }, direct: true, reply: { platform: "slack", channel: "D0ADMINDM" } };
    expect(await stub.accept(storedMessage(dm))).toBe(true);
    expect(await stub.accept(storedMessage(dm))).toBe(false);
    const bridge = conversation(env, key) as unknown as { turns(): Promise<Turn[]> };
    const turns = await eventually(async () => {
      const list = await bridge.turns();
      return list.length > 0 && list;
    }, 10_000, "the message in its bridge");
    expect(turns.map((turn) => turn.message.text)).toEqual(["hello from intake"]);
    expect(await stub.waiting()).toBe(0);
    // Nothing left to hand over: no alarm is left set.
    expect(await runInDurableObject(stub, (_instance: IntakeObject, state) => state.storage.getAlarm())).toBeNull();
  });
});
