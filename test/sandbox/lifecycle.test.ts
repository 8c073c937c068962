/**
 * The Sandbox path: the relay starts the real gateway in the "container" (a container host on this
 * machine that runs the real start script), pairs its own device there, and survives a crash.
 * The tests run in order and share one container, as a deployment would.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import { PRIMARY_MODEL_SETTING } from "../../src/commands/model";
import { policy } from "../../src/policy/policy-object";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

const host = (path: string, init?: RequestInit) => fetch(`${env.TEST_CONTAINER_HOST_URL}${path}`, init);
const hostStats = async () =>
  (await (await host("/_host/stats")).json()) as { starts: number; running: number; execs: string[]; lastModel: string | null };

const COLD_START_MS = 300_000;

const answer = (channel: string, threadTs: string, needle: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));

describe("gateway in the Sandbox container", () => {
  it("reports a stopped gateway without waking the container", async () => {
    const response = await SELF.fetch("https://relay.test/healthz");
    const health = (await response.json()) as { gateway: { phase: string; mode: string } };
    expect(health.gateway).toMatchObject({ mode: "sandbox", phase: "stopped" });
    expect((await hostStats()).starts).toBe(0);
  });

  it("starts one gateway for two concurrent first messages, shows a status while it wakes, and answers both", async () => {
    const [a, b] = [uniqueChannel(), uniqueChannel()];
    const [first, second] = await Promise.all([mention(a, "cold one"), mention(b, "cold two")]);
    expect(first.response.status).toBe(200);
    expect(second.response.status).toBe(200);

    // While the gateway starts, the user sees that the agent is waking up.
    const waking = await eventually(
      async () => (await slackCalls(a)).find((call) => call.method === "assistant.threads.setStatus" && String(call.body.status).includes("waking")),
      10_000,
      "the waking-up status",
    );
    expect(waking).toBeDefined();

    await eventually(answer(a, first.ts, "Echo: cold one"), COLD_START_MS, "the first answer");
    await eventually(answer(b, second.ts, "Echo: cold two"), COLD_START_MS, "the second answer");
    expect((await hostStats()).starts).toBe(1);
    // The supervisor passed the configured idle time to the Sandbox SDK.
    const sandbox = env.Sandbox.get(env.Sandbox.idFromName("molt-agent")) as unknown as { configuration(): Promise<{ sleepAfter?: string } | null> };
    expect((await sandbox.configuration())?.sleepAfter).toBe("3m");
  }, COLD_START_MS);

  it("paired its own device from inside the container, with the gateway's auth on", async () => {
    const stats = await hostStats();
    expect(stats.execs.some((command) => command.includes("approve-device"))).toBe(true);
    const status = await gatewaySupervisor(env).status();
    expect(status).toMatchObject({ phase: "ready", mode: "sandbox" });
    expect(status.version).toBeTruthy();
  });

  it("tells the user when the gateway crashes mid-reply, restarts it, and answers once", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "a slow answer please");
    // Crash once the reply has started streaming.
    await eventually(async () => (await slackCalls(channel)).some((call) => call.method === "chat.appendStream" || call.method === "chat.startStream"), 60_000, "streaming to start");
    await host("/_host/crash", { method: "POST" });

    const final = await eventually(answer(channel, ts, "Slow echo: a slow answer please"), COLD_START_MS - 30_000, "the answer after the restart", async () => ({
      messages: await slackMessages(channel),
      supervisor: await gatewaySupervisor(env).status(),
      turns: await (conversation(env, `slack:T0TESTTEAM:${channel}:${ts}`) as unknown as { turns(): Promise<unknown> }).turns(),
      host: await hostStats(),
      logs: ((await (await host("/_host/logs")).json()) as { logs: string }).logs.slice(-3000),
    }));
    expect(final).toBeDefined();
    const messages = await slackMessages(channel);
    // The user was told about the interruption...
    expect(messages.some((m) => /lost|interrupted|retrying/i.test(m.text))).toBe(true);
    // ...and got exactly one complete answer.
    const complete = messages.filter((m) => !m.streaming && m.text.includes("Slow echo: a slow answer please") && !/retrying/i.test(m.text));
    expect(complete).toHaveLength(1);
    expect((await hostStats()).starts).toBe(2);
    await expectNoUnmatchedSlackCalls();
  }, COLD_START_MS);

  it("restarts on demand with the model chosen by /molt model", async () => {
    await policy(env).setSetting(PRIMARY_MODEL_SETTING, "molt/stand-in");
    const before = (await hostStats()).starts;
    const status = await gatewaySupervisor(env).restart();
    expect(status.phase).toBe("ready");
    const stats = await hostStats();
    expect(stats.starts).toBe(before + 1);
    expect(stats.lastModel).toBe("molt/stand-in");
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "after the restart");
    await eventually(answer(channel, ts, "Echo: after the restart"), COLD_START_MS - 30_000, "an answer after the restart");
  }, COLD_START_MS);
});
