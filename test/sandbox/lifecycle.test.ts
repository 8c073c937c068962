/**
 * The Sandbox path: the relay starts the real gateway in the agent's container (the SDK's own
 * Sandbox code over an emulated runtime; the container runs the real start script), pairs its own
 * device there, survives a crash and a sleep. Each test first stops the container, so none depends
 * on another; counts are read from the container the test started (the control plane counts every
 * start attempt of a process id).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { SANDBOX_ID } from "../../src/sandbox/transport";
import { agentStats, GATEWAY_ID, readyAgent, storedSleepAfter, stoppedAgent } from "../support/agent";
import { containerLogs, expectNoUnmatchedContainerCalls, host, sandboxObjectId } from "../support/container";
import { directMessage } from "../support/slack-admin";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

/** A cold start on a busy two-core machine: the gateway alone has taken over a minute to start. */
const COLD_START_MS = 480_000;

const answer = (channel: string, threadTs: string, needle: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));

/**
 * The gateway's first start in a new container: the host keeps a stopped container's counts until
 * the next start, so the count alone could be the previous container's.
 */
const gatewayStarting = (stats: Awaited<ReturnType<typeof agentStats>>, startsBefore: number) =>
  stats.running && stats.starts > startsBefore && stats.startAttempts[GATEWAY_ID] === 1;

const troubleNotice = /isn't reachable|lost|interrupted|went wrong|error/i;

afterEach(async () => {
  await expectNoUnmatchedContainerCalls();
  await expectNoUnmatchedSlackCalls();
});

describe("gateway in the Sandbox container", () => {
  it("reports a stopped gateway without waking the container", async () => {
    const before = await stoppedAgent();
    const response = await SELF.fetch("https://relay.test/healthz");
    const health = (await response.json()) as { gateway: { phase: string; mode: string } };
    expect(health.gateway).toMatchObject({ mode: "sandbox", phase: "stopped" });
    const after = await agentStats();
    expect(after.running).toBe(false);
    expect(after.starts).toBe(before.starts);
  });

  it("starts one gateway for concurrent first messages, delivers one sent while it starts, and pairs its own device", async () => {
    const stopped = await stoppedAgent();
    const [a, b, c] = [uniqueChannel(), uniqueChannel(), uniqueChannel()];
    const [first, second] = await Promise.all([mention(a, "cold one"), mention(b, "cold two")]);
    expect(first.response.status).toBe(200);
    expect(second.response.status).toBe(200);

    // The gateway is starting (its process was asked for) but not ready: a third message now.
    await eventually(async () => gatewayStarting(await agentStats(), stopped.starts), 60_000, "the gateway's start");
    expect((await gatewaySupervisor(env).status()).phase).toBe("starting");
    const third = await mention(c, "while starting");
    expect(third.response.status).toBe(200);

    // While the gateway starts, the user sees that the agent is waking up (and Slack took it).
    const waking = await eventually(
      async () => (await slackCalls(a)).find((call) => call.method === "assistant.threads.setStatus" && String(call.body.status).includes("waking")),
      10_000,
      "the waking-up status",
    );
    expect(waking).toMatchObject({ status: 200, response: { ok: true } });

    await eventually(answer(a, first.ts, "Echo: cold one"), COLD_START_MS, "the first answer");
    await eventually(answer(b, second.ts, "Echo: cold two"), COLD_START_MS, "the second answer");
    await eventually(answer(c, third.ts, "Echo: while starting"), COLD_START_MS, "the answer to the message sent while starting");
    for (const channel of [a, b, c]) expect((await slackMessages(channel)).filter((m) => troubleNotice.test(m.text))).toEqual([]);

    const stats = await agentStats();
    // Counted by the control plane: every start attempt, although a reused id would overwrite.
    expect(stats.startAttempts[GATEWAY_ID]).toBe(1);
    // The relay's device was approved from inside the container, with the gateway's auth on.
    expect(stats.execs.some((command) => command.includes("approve-device"))).toBe(true);
    const status = await gatewaySupervisor(env).status();
    expect(status).toMatchObject({ phase: "ready", mode: "sandbox" });
    expect(status.version).toBeTruthy();
    // Nothing on the relay's path added forwarded headers.
    expect(stats.forwardedSeen).toEqual([]);
    // The supervisor passed the configured idle time to the Sandbox SDK.
    expect(await storedSleepAfter()).toBe("3m");
  }, COLD_START_MS);

  it("tells the user when the gateway crashes mid-reply, restarts it, and answers once", async () => {
    const before = await readyAgent();
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "a slow answer please");
    await eventually(async () => (await slackCalls(channel)).some((call) => call.method === "chat.appendStream" || call.method === "chat.startStream"), COLD_START_MS, "streaming to start");
    await host(`/_host/${sandboxObjectId(SANDBOX_ID)}/crash`, { method: "POST" });

    const final = await eventually(answer(channel, ts, "Slow echo: a slow answer please"), COLD_START_MS - 30_000, "the answer after the restart", async () => ({
      messages: await slackMessages(channel),
      supervisor: await gatewaySupervisor(env).status(),
      turns: await (conversation(env, `slack:T0TESTTEAM:${channel}:${ts}`) as unknown as { turns(): Promise<unknown> }).turns(),
      host: await agentStats(),
      logs: (await containerLogs(SANDBOX_ID)).slice(-3000),
    }));
    expect(final).toBeDefined();
    const messages = await slackMessages(channel);
    // The user was told about the interruption, in the relay's own words: the partial answer is
    // marked (src/bridge/turn.ts), or, if nothing was shown yet, the notice says so.
    const MARK = "the connection to the agent was lost, retrying…";
    const NOTICE = "The agent was interrupted. Retrying your message…";
    expect(messages.filter((m) => m.text.includes(MARK) || m.text.includes(NOTICE)).length).toBeGreaterThanOrEqual(1);
    // ...and got exactly one answer: every message in the thread other than the notice and the
    // marked partial one counts, however little of the answer it holds and streaming or not; that
    // one must be the finished answer, and nothing may be left streaming.
    const answers = messages.filter((m) => m.thread_ts === ts && !m.text.includes(MARK) && !m.text.includes(NOTICE));
    expect(answers).toHaveLength(1);
    expect(answers[0]!.text).toContain("Slow echo: a slow answer please");
    expect(answers[0]!.streaming).toBeFalsy();
    expect(messages.filter((m) => m.streaming)).toEqual([]);
    // Same container (a crash of the processes is not a stop), one more start of the gateway.
    const after = await agentStats();
    expect(after.dir).toBe(before.dir);
    expect(after.startAttempts[GATEWAY_ID]).toBe((before.startAttempts[GATEWAY_ID] ?? 0) + 1);
  }, COLD_START_MS);

  it("restarts on demand with the model chosen by /molt model, once the old gateway let go of its port", async () => {
    const before = await readyAgent();
    await gatewaySupervisor(env).setPrimaryModel("molt/stand-in");
    const status = await gatewaySupervisor(env).restart();
    expect(status.phase).toBe("ready");
    const stats = await agentStats();
    const attempts = (before.startAttempts[GATEWAY_ID] ?? 0) + 1;
    expect(stats.startAttempts[GATEWAY_ID]).toBe(attempts);
    const gateway = stats.processes.find((p) => p.id === GATEWAY_ID)!;
    expect(gateway).toMatchObject({ status: "running", model: "molt/stand-in" });
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "after the restart");
    await eventually(answer(channel, ts, "Echo: after the restart"), COLD_START_MS - 30_000, "an answer after the restart");
    expect((await agentStats()).startAttempts[GATEWAY_ID]).toBe(attempts);
  }, COLD_START_MS);

  it("learns that the container slept, and the next message starts a new one with an empty disk", async () => {
    const awake = await readyAgent();

    // What the SDK does when the idle time runs out (onActivityExpired): stop the container.
    await runInDurableObject(env.Sandbox.get(env.Sandbox.idFromName(SANDBOX_ID)), (instance) => (instance as unknown as { stop(): Promise<void> }).stop());
    const slept = await eventually(async () => {
      const status = await gatewaySupervisor(env).status();
      return status.phase === "stopped" ? status : undefined;
    }, 30_000, "the supervisor to learn of the sleep");
    expect(slept.lastError).toMatch(/the container stopped/);
    expect((await agentStats()).running).toBe(false);

    const channel = uniqueChannel();
    const { ts } = await mention(channel, "good morning");
    await eventually(answer(channel, ts, "Echo: good morning"), COLD_START_MS, "the answer after the sleep");
    const woken = await agentStats();
    expect(woken.starts).toBe(awake.starts + 1);
    expect(woken.dir).not.toBe(awake.dir);
    expect(woken.history.at(-1)).toMatchObject({ dir: awake.dir, exitCode: 0 });
    expect(woken.startAttempts[GATEWAY_ID]).toBe(1);
  }, 2 * COLD_START_MS);

  it("never starts the container for a stranger", async () => {
    const before = await stoppedAgent();
    const dm = uniqueChannel("D");
    const stranger = `U0STRANGE${crypto.randomUUID().slice(0, 4).toUpperCase()}`;
    await directMessage(dm, stranger, "let me in");
    await eventually(async () => (await slackMessages(dm)).find((m) => /pairing code/.test(m.text)), 30_000, "the pairing code");
    const after = await agentStats();
    expect(after.running).toBe(false);
    expect(after.starts).toBe(before.starts);
  });

  it("does not start a second gateway when the supervisor is evicted while one starts", async () => {
    const stopped = await stoppedAgent();
    const supervisor = gatewaySupervisor(env);
    const firstTry = supervisor.ensureReady().catch((error: unknown) => error);
    await eventually(async () => gatewayStarting(await agentStats(), stopped.starts), 60_000, "the gateway's start");
    // The supervisor loses its memory (and its lock) mid-start.
    await runInDurableObject(supervisor, (_instance, state) => state.abort()).catch(() => undefined);
    await firstTry;
    const status = await gatewaySupervisor(env).ensureReady();
    expect(status.phase).toBe("ready");
    const stats = await agentStats();
    expect(stats.startAttempts[GATEWAY_ID]).toBe(1);
    expect(stats.processes.filter((p) => p.id === GATEWAY_ID && p.status === "running")).toHaveLength(1);
  }, COLD_START_MS);
});
