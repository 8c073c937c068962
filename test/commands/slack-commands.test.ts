/** `/molt` from Slack: who may run what, what the answers say, and slow commands answered later. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Adapter, CommandReply, InboundCommand } from "../../src/adapters/types";
import { answerChatCommand } from "../../src/commands/chat";
import { formatLogLine } from "../../src/commands/logs";
import { commands } from "../../src/commands/registry";
import { percentile, summarise } from "../../src/commands/turn-stats";
import { slackAdapter } from "../../src/adapters/slack";
import { slash, slashCommand } from "../support/slack-admin";
import { slackCalls, slackFault, slackMessages, uniqueChannel } from "../support/slack-relay";

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
  it("are acknowledged at once and their result is posted to the conversation later", async () => {
    const notices: { text: string; kind: string }[] = [];
    const adapter = { platform: "slack", openReply: () => ({ postNotice: async (text: string, kind: string) => void notices.push({ text, kind }) }) } as unknown as Adapter;
    const pending: Promise<unknown>[] = [];
    const event: InboundCommand = {
      kind: "command",
      text: "restart",
      conversation: "slack:T0TESTTEAM:C0OPS",
      dedupeKeys: [],
      sender: { id: "slack:U0ADMIN" },
      direct: false,
      reply: { platform: "slack", channel: "C0OPS" },
    };
    const ack: CommandReply = await answerChatCommand(adapter, event, env, { waitUntil: (promise) => void pending.push(promise) }, 0);
    expect(ack.text).toMatch(/Working on `\/molt restart`/);
    expect(notices).toEqual([]);
    await Promise.all(pending);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toMatch(/Restart/);
  });
});

describe("slow commands on Slack", () => {
  /** `/molt status` by an admin in `channel`, acknowledged at once (ackMs 0); resolves once its late result is out. */
  async function lateStatus(channel: string, responseUrl?: string) {
    const event = await slashCommand("status", { channel, responseUrl });
    const pending: Promise<unknown>[] = [];
    const ack = await answerChatCommand(slackAdapter, event, env, { waitUntil: (promise) => void pending.push(promise) }, 0);
    expect(ack.text).toMatch(/Working on `\/molt status`/);
    await Promise.all(pending);
    return { event, calls: await slackCalls(channel), messages: await slackMessages(channel) };
  }

  it("post the late result to the command's response_url, for the caller only, not into the channel", async () => {
    const channel = uniqueChannel();
    const { event, calls, messages } = await lateStatus(channel);
    expect(event.reply.response_url).toMatch(new RegExp(`/_response/${channel}/`));
    expect(calls.map((call) => [call.method, call.status])).toEqual([["response_url", 200]]);
    expect(calls[0]?.body).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/^:information_source: \*Status\*\n/) });
    // The URL is the credential: the bot token is never sent with it.
    expect(calls[0]?.bearer).toBe(false);
    expect(messages).toEqual([expect.objectContaining({ ephemeral: true })]);
  });

  it("fall back to chat.postMessage when the response_url has expired", async () => {
    const channel = uniqueChannel();
    await slackFault({ method: "response_url", channel, status: 404, error: "expired_url" });
    const { calls, messages } = await lateStatus(channel);
    expect(calls.map((call) => [call.method, call.status])).toEqual([["response_url", 404], ["chat.postMessage", 200]]);
    expect(messages).toEqual([expect.objectContaining({ ephemeral: false, text: expect.stringMatching(/^:information_source: \*Status\*\n/) })]);
  });

  it("ignore a response_url on any other host and post with chat.postMessage", async () => {
    const channel = uniqueChannel();
    const { event, calls } = await lateStatus(channel, "https://hooks.example.com/commands/T0TESTTEAM/1/x");
    expect(event.reply.response_url).toBeUndefined();
    expect(calls.map((call) => [call.method, call.status])).toEqual([["chat.postMessage", 200]]);
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
