/** `/molt` from Slack: who may run what, what the answers say, and slow commands answered later. */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CommandReply } from "../../src/adapters/types";
import { answerChatCommand } from "../../src/commands/chat";
import { formatLogLine } from "../../src/commands/logs";
import { commands } from "../../src/commands/registry";
import type { CommandRunner } from "../../src/commands/runner";
import { policy } from "../../src/policy/policy-object";
import { percentile, summarise } from "../../src/commands/turn-stats";
import { slash, slashCommand } from "../support/slack-admin";
import { eventually, slackCalls, slackFault, slackMessages, uniqueChannel } from "../support/slack-relay";

describe("/molt on Slack", () => {
  it("refuses every admin command to a non-admin, clearly, and runs none of them", async () => {
    for (const command of commands.filter((candidate) => candidate.admin)) {
      const answer = await slash(`${command.name} slack:U0SNEAKY`, { user: "U0SNEAKY" });
      expect(answer.status).toBe(200);
      expect(answer.shown, command.name).toMatch(new RegExp(`/molt ${command.name}\` is for admins only`));
    }
    const { senders } = await (await import("../../src/policy/policy-object")).policy(env).lists();
    expect(senders.map((entry) => entry.value)).not.toContain("slack:U0SNEAKY");
  });

  it("shows help to anyone, naming every command", async () => {
    const answer = await slash("help", { user: "U0SNEAKY" });
    for (const command of commands) expect(answer.shown).toContain(command.usage);
  });

  it("gives an admin the status with queued turns and latency", async () => {
    const answer = await slash("status");
    expect(answer.shown).toMatch(/Gateway:_? (ready|stopped|starting|unreachable)/);
    expect(answer.shown).toMatch(/Queued turns:_? \d+/);
    expect(answer.shown).toMatch(/Turn latency:/);
  });

  it("tails logs for an admin without the gateway token", async () => {
    const answer = await slash("logs 30");
    expect(answer.shown).toMatch(/Gateway logs/);
    expect(answer.shown).not.toContain(env.GATEWAY_TOKEN);
  });

  it("answers an unknown command with a pointer to help", async () => {
    expect((await slash("frobnicate")).shown).toMatch(/No command `frobnicate`/);
  });
});

describe("slow commands", () => {
  it("are acknowledged at once, and their runner posts the result to the conversation later", async () => {
    const channel = uniqueChannel();
    // No response_url: the result goes into the channel.
    const event = await slashCommand("restart", { channel, responseUrl: "" });
    const ack: CommandReply = await answerChatCommand(event, env, 0);
    expect(ack.text).toMatch(/Working on `\/molt restart`/);
    const messages = await eventually(async () => {
      const list = await slackMessages(channel);
      return list.length > 0 && list;
    }, 60_000, "the late restart result");
    expect(messages).toEqual([expect.objectContaining({ text: expect.stringMatching(/^:(information_source|warning): .*Restart/) })]);
    expect(await slackCalls(channel)).toHaveLength(1);
  });

  it("are answered in the acknowledgement when they finish in time, and nothing is posted", async () => {
    const channel = uniqueChannel();
    const ack = await answerChatCommand(await slashCommand("help", { channel }), env, 5_000);
    expect(ack.title).toMatch(/commands/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await slackCalls(channel)).toEqual([]);
  });

  it("are never run twice: an interrupted run tells the user its result is lost", async () => {
    const channel = uniqueChannel();
    const event = await slashCommand("restart", { channel, responseUrl: "" });
    const stub = env.COMMANDS.get(env.COMMANDS.newUniqueId());
    const job = { invocation: { name: "restart", args: [], actor: "slack:U0ADMIN", conversation: event.conversation }, reply: event.reply };
    // As if the object had been restarted in the middle of the command.
    await runInDurableObject(stub, async (_instance: CommandRunner, state) => {
      await state.storage.put("job", { ...job, state: "running" });
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    const restarts = async () => (await policy(env).audit(100)).filter((entry) => entry.action === "restart").length;
    const before = await restarts();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const messages = await slackMessages(channel);
    expect(messages).toEqual([expect.objectContaining({ text: expect.stringMatching(/result of `\/molt restart` was lost/) })]);
    // Not run again: no restart was recorded.
    expect(await restarts()).toBe(before);
  });
});

describe("status arithmetic and log lines", () => {
  it("computes nearest-rank percentiles over finished turns of the last day, and counts queued ones", () => {
    const now = Date.now();
    const done = (ms: number, finishedAgo = 1000) => ({ state: "done" as const, receivedAt: now - finishedAgo - ms, finishedAt: now - finishedAgo });
    const turns = [...[100, 200, 300, 400, 500, 600, 700, 800, 900, 10_000].map((ms) => done(ms)), done(99_999, 2 * 86_400_000), { state: "queued" as const, receivedAt: now }, { state: "running" as const, receivedAt: now }];
    expect(summarise(turns, now)).toEqual({ queued: 2, samples: 10, p50Ms: 500, p95Ms: 10_000 });
    expect(summarise([], now)).toEqual({ queued: 0, samples: 0 });
    expect(percentile([1], 0.95)).toBe(1);
  });

  it("turns a gateway log record into time, level and message", () => {
    const line = JSON.stringify({ time: "2026-11-24T01:26:01.544+00:00", message: "config hot reload applied", _meta: { logLevelName: "INFO" } });
    expect(formatLogLine(line)).toBe("01:26:01 INFO config hot reload applied");
    expect(formatLogLine("plain text")).toBe("plain text");
  });
});
