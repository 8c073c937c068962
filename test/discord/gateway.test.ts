/**
 * End to end through the real parts: a message arrives over the emulator's Gateway WebSocket, is
 * stored by the intake, runs as a turn on the REAL OpenClaw gateway (stand-in model), and the
 * streamed reply (and the agent's picture, streamed from R2) reaches the emulator's channel. Then
 * the Gateway's own lifecycle: a dropped socket resumes, a zombie is replaced, a duplicate
 * dispatch is answered once, op 7 and op 9 are obeyed.
 *
 * Each test holds a Gateway connection of its own (its own bot token and connection object).
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import { listenerObject } from "../../src/bridge/listener-object";
import type { Env } from "../../src/env";
import { eventually } from "../support/slack-relay";
import {
  discordCalls,
  discordMessages,
  discordTyping,
  expectNoUnmatchedDiscordCalls,
  gatewayControl,
  gatewayRecord,
  ownGateway,
  uniqueId,
} from "../support/discord-relay";

afterAll(expectNoUnmatchedDiscordCalls);

const answer = (channel: string, needle: string) => async () => (await discordMessages(channel)).find((m) => m.content.includes(needle));
const answers = async (channel: string, needle: string) => (await discordMessages(channel)).filter((m) => m.content.includes(needle));

describe("a mention over the Gateway → bridge → real gateway → Discord", () => {
  it("answers with a streamed reply to the message and the agent's picture, uploaded from R2", { timeout: 300_000 }, async () => {
    const gateway = await ownGateway();
    const channel = uniqueId();
    const { id } = await gateway.send({ channel, content: "send me a picture please" });

    // The first turn on a cold gateway: allow for a slow machine.
    const reply = await eventually(answer(channel, "Here is the picture"), 180_000, "the reply", async () =>
      (await discordCalls(channel)).map(({ method, path, status }) => `${method} ${path} ${status}`),
    );
    expect(reply.message_reference?.message_id).toBe(id);
    const picture = await eventually(
      async () => (await discordMessages(channel)).find((m) => m.attachments.length > 0),
      30_000,
      "the picture",
      async () => (await discordCalls(channel)).map(({ method, path, status }) => `${method} ${path} ${status}`),
    );

    const stored = await env.MEDIA.list({ prefix: `media/discord:${channel}/` });
    expect(stored.objects).toHaveLength(1);
    const object = await env.MEDIA.get(stored.objects[0]!.key);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await object!.arrayBuffer()))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(picture.attachments[0]).toMatchObject({ size: stored.objects[0]!.size, sha256: digest });
    // Typing was shown while the agent worked, and the text came as one message (edited as it grew).
    expect((await discordTyping(channel)).length).toBeGreaterThan(0);
    expect(await answers(channel, "Here is the picture")).toHaveLength(1);
  });

  it("ignores channel messages that don't mention the bot, the bot's own, and malformed ones", async () => {
    const gateway = await ownGateway();
    const channel = uniqueId();
    await gateway.send({ channel, content: "just chatting, not for the bot", mention: false });
    await gateway.send({ channel, content: "echo of myself", author: gateway.botId });
    // A MESSAGE_CREATE of the wrong shape is skipped; the connection goes on.
    await gateway.control("message", { channel_id: channel, content: 42, author: { id: "not-a-snowflake" } });
    await gateway.send({ channel, content: "and now for the bot" });
    await eventually(answer(channel, "Echo: and now for the bot"), 90_000, "the reply to the mention");
    expect((await discordMessages(channel)).filter((m) => /chatting|myself/.test(m.content))).toEqual([]);
  });
});

describe("a stranger's DM under the default pairing policy", () => {
  it("gets a pairing code and never reaches the bridge or the gateway", async () => {
    const gateway = await ownGateway();
    const dm = uniqueId();
    await gateway.send({ channel: dm, dm: true, content: "hello, who are you?" });
    const notice = await eventually(answer(dm, "pairing code"), 15_000, "the pairing notice");
    expect(notice.content).toMatch(/[A-Z0-9]{8}/);
    const bridge = conversation(env, `discord:${dm}`) as unknown as { turns(): Promise<unknown[]> };
    expect(await bridge.turns()).toEqual([]);
  });
});

describe("the Gateway's lifecycle", () => {
  it("resumes a dropped socket and answers a message sent while it was down, once", async () => {
    const gateway = await ownGateway();
    const channel = uniqueId();
    // Its resume is held until the message is in, or the relay's quick reconnect could beat the send.
    await gateway.control("drop", { hold: true });
    const sent = await gateway.send({ channel, content: "sent while you were away" });
    expect(sent.delivered).toBe(false);
    await gateway.control("release");
    await eventually(async () => (await gateway.record()).resumes.length > 0 && (await gateway.status()).via === "resumed", 20_000, "the resume");
    await eventually(answer(channel, "Echo: sent while you were away"), 90_000, "the answer");
    await gateway.send({ channel, content: "and a follow-up" });
    await eventually(answer(channel, "Echo: and a follow-up"), 90_000, "the follow-up");
    expect(await answers(channel, "Echo: sent while you were away")).toHaveLength(1);
    expect((await gateway.record()).identifies).toHaveLength(1);
  });

  it("detects a zombie connection (no heartbeat ACK) and replaces it by resuming", async () => {
    const gateway = await ownGateway({ heartbeatInterval: 400 });
    await eventually(async () => (await gateway.record()).connections[0]!.heartbeats > 0, 10_000, "a first heartbeat");
    await gateway.control("stop-acks");
    await eventually(async () => (await gateway.record()).connections.length >= 2, 10_000, "a new connection");
    const record = await gateway.record();
    expect(record.connections[0]!.closeCode).toBe(4000);
    expect(record.resumes.length).toBeGreaterThan(0);
    expect((await gateway.status()).zombies).toBeGreaterThan(0);
    await eventually(async () => (await gateway.status()).via === "resumed", 10_000, "the resumed session");
  });

  it("answers a duplicate MESSAGE_CREATE once", async () => {
    const gateway = await ownGateway();
    const channel = uniqueId();
    const { id } = await gateway.send({ channel, content: "only once please" });
    await gateway.control("redispatch", { id });
    await eventually(answer(channel, "Echo: only once please"), 90_000, "the answer");
    await gateway.send({ channel, content: "next one" });
    await eventually(answer(channel, "Echo: next one"), 90_000, "the follow-up");
    expect(await answers(channel, "Echo: only once please")).toHaveLength(1);
  });

  it("resumes on op 7, and identifies afresh after a non-resumable op 9", async () => {
    const gateway = await ownGateway();
    await gateway.control("reconnect");
    await eventually(async () => (await gateway.record()).resumes.length === 1 && (await gateway.status()).via === "resumed", 10_000, "the resume after op 7");
    await gateway.control("invalid-session", { resumable: false });
    await eventually(async () => (await gateway.record()).identifies.length === 2 && (await gateway.status()).phase === "ready", 20_000, "a fresh identify");
    expect((await gateway.status()).via).toBe("identified");
  });

  it("after an eviction, the watchdog alarm resumes the stored session and answers what was missed", async () => {
    const evicted = await ownGateway();
    const channel = uniqueId();
    // Discord refuses the token (4004): the connection stops for good instead of reconnecting.
    await evicted.control("close", { code: 4004 });
    await eventually(async () => (await evicted.status()).phase === "failed", 10_000, "the failed phase");
    expect(String((await evicted.status()).lastError)).toContain("4004");
    // A fresh instance of the object (as after an eviction): nothing in memory, the storage kept.
    const stored = await runInDurableObject(evicted.stub, async (_instance, state) => state.storage.get(["platform", "session", "stats"]));
    const sent = await evicted.send({ channel, content: "sent during the eviction" });
    expect(sent.delivered).toBe(false);
    const fresh = listenerObject(env, `discord-test-${uniqueId()}`);
    await runInDurableObject(fresh, async (instance, state) => {
      const object = instance as unknown as { env: Env };
      object.env = { ...object.env, DISCORD_BOT_TOKEN: evicted.token };
      await state.storage.put(Object.fromEntries(stored));
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(fresh)).toBe(true);
    await eventually(async () => (await fresh.status("discord")).via === "resumed", 15_000, "the resumed session");
    expect((await evicted.record()).identifies).toHaveLength(1);
    await eventually(answer(channel, "Echo: sent during the eviction"), 90_000, "the answer");
    expect(await answers(channel, "Echo: sent during the eviction")).toHaveLength(1);
  });

  it("waits for the reset instead of identifying when session_start_limit is used up", async () => {
    const token = `MTE${uniqueId()}.test.rationed`;
    await gatewayControl("config", { token, identifyRemaining: 0 });
    const stub = listenerObject(env, `discord-test-${uniqueId()}`);
    await runInDurableObject(stub, (instance) => {
      const object = instance as unknown as { env: Env };
      object.env = { ...object.env, DISCORD_BOT_TOKEN: token };
    });
    await stub.ensure("discord");
    await eventually(async () => (await stub.status("discord")).phase === "waiting", 10_000, "the waiting phase");
    expect(String((await stub.status("discord")).lastError)).toContain("session_start_limit");
    // The watchdog doesn't spend an IDENTIFY it doesn't have either.
    await runDurableObjectAlarm(stub);
    const record = await gatewayRecord(token);
    expect(record.identifies).toEqual([]);
    expect(record.connections).toEqual([]);
  });

  it("reports its state on /healthz", async () => {
    const response = await SELF.fetch("https://relay.test/healthz");
    const health = (await response.json()) as { connections: Record<string, { configured: boolean; phase: string }> };
    expect(health.connections.discord).toMatchObject({ configured: true });
    expect(typeof health.connections.discord!.phase).toBe("string");
  });
});
