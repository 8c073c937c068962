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
import { eventually, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

/**
 * Which commands are for admins only, written out: a promise to users, not something to read back
 * from the registry (flipping `admin` on a command must fail this file).
 */
const ADMIN_ONLY = ["status", "restart", "pair", "allow", "deny", "model", "new", "logs", "backup", "audit", "screenshot", "backups", "restore"] as const;
const FOR_EVERYONE = ["help", "stop"] as const;

/** Audit entries of one actor, by command name and outcome. */
async function auditOf(actor: string): Promise<{ action: string; outcome: string }[]> {
  return (await policy(env).audit(500)).filter((entry) => entry.actor === actor).map(({ action, outcome }) => ({ action, outcome }));
}

describe("/molt on Slack", () => {
  it("names every command either admin-only or for everyone", () => {
    expect(commands.map((command) => command.name).sort()).toEqual([...ADMIN_ONLY, ...FOR_EVERYONE].sort());
    expect(commands.filter((command) => !command.admin).map((command) => command.name)).toEqual([...FOR_EVERYONE]);
  });

  it("refuses every admin command to a non-admin, clearly, and runs none of them", async () => {
    const sneaky = `U0SNEAKY${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    // State each command would change if it ran: a sender allowed (deny would remove them), a
    // pending pairing code (pair approve would approve it), a sender not allowed (allow would add).
    const allowed = `testchat:U0KEEP${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    await policy(env).allowSender(allowed, "slack:U0ADMIN");
    const stranger = `testchat:U0WAIT${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const pending = await policy(env).admit({ sender: { id: stranger }, direct: true, conversation: stranger, reply: { platform: "testchat" } });
    const code = pending.allowed ? undefined : /`([A-Z2-9]{8})`/.exec(pending.notice)?.[1];
    expect(code).toBeDefined();
    const args: Record<(typeof ADMIN_ONLY)[number], string> = {
      status: "",
      restart: "",
      pair: `approve ${code}`,
      allow: `slack:${sneaky}`,
      deny: allowed,
      model: "molt/stand-in",
      new: `slack:T0TESTTEAM:D0${sneaky}`,
      logs: "5",
      backup: "",
      audit: "5",
      screenshot: "https://example.com",
      backups: "",
      restore: "1",
    };
    for (const name of ADMIN_ONLY) {
      const answer = await slash(`${name} ${args[name]}`.trim(), { user: sneaky });
      expect(answer.status).toBe(200);
      expect(answer.shown, name).toMatch(new RegExp(`/molt ${name}\` is for admins only`));
    }
    // Each was refused before it ran: a run would have been audited as ok or failed, after it.
    expect(await auditOf(`slack:${sneaky}`)).toEqual(ADMIN_ONLY.map((action) => ({ action, outcome: "refused" })).reverse());
    // ...and nothing they would have changed has changed.
    const { senders } = await policy(env).lists();
    expect(senders.map((entry) => entry.value)).not.toContain(`slack:${sneaky}`);
    expect(senders.map((entry) => entry.value)).toContain(allowed);
    expect((await policy(env).pairings()).map((request) => request.code)).toContain(code);
    await policy(env).denyPairing(code!);
    await policy(env).removeSender(allowed);
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

/**
 * None of these runs `/molt restart` or anything else that would touch the gateway the other test
 * files share: the late path is taken by an acknowledgement deadline of 0 ms.
 */
describe("slow commands", () => {
  it("are acknowledged at once, and their runner posts the result to the conversation later", async () => {
    const channel = uniqueChannel();
    // No response_url: the result goes into the channel.
    const event = await slashCommand("status", { channel, responseUrl: "" });
    const ack: CommandReply = await answerChatCommand(event, env, 0);
    expect(ack.text).toMatch(/Working on `\/molt status`/);
    const messages = await eventually(async () => {
      const list = await slackMessages(channel);
      return list.length > 0 && list;
    }, 60_000, "the late status result");
    expect(messages).toEqual([expect.objectContaining({ text: expect.stringMatching(/^:information_source: \*Status\*\n.*Gateway:/) })]);
    expect(await slackCalls(channel)).toHaveLength(1);
  });

  it("are answered in the acknowledgement when they finish in time, and nothing is posted", async () => {
    const channel = uniqueChannel();
    const event = await slashCommand("help", { channel, responseUrl: "" });
    // The runner answerChatCommand uses, held here so that its end can be seen.
    const stub = env.COMMANDS.get(env.COMMANDS.newUniqueId());
    const invocation = { name: "help", args: [], actor: event.sender.id, conversation: event.conversation, direct: event.direct };
    const ack = await stub.run({ invocation, reply: event.reply }, 5_000);
    expect(ack?.title).toMatch(/commands/);
    // The runner forgets its job after it has answered (or posted): then any post has been made.
    await eventually(
      async () => (await runInDurableObject(stub, (_instance: CommandRunner, state) => state.storage.get("job"))) === undefined,
      10_000,
      "the runner to finish its job",
    );
    expect(await slackCalls(channel)).toEqual([]);
  });

  it("are never run twice: an interrupted run tells the user its result is lost", async () => {
    const channel = uniqueChannel();
    const target = `slack:U0TWICE${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const event = await slashCommand(`allow ${target}`, { channel, responseUrl: "" });
    const stub = env.COMMANDS.get(env.COMMANDS.newUniqueId());
    const job = { invocation: { name: "allow", args: [target], actor: "slack:U0ADMIN", conversation: event.conversation }, reply: event.reply };
    // As if the object had been restarted in the middle of the command.
    await runInDurableObject(stub, async (_instance: CommandRunner, state) => {
      await state.storage.put("job", { ...job, state: "running" });
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const messages = await slackMessages(channel);
    expect(messages).toEqual([expect.objectContaining({ text: expect.stringMatching(/result of `\/molt allow` was lost/) })]);
    // Not run again: the sender wasn't allowed, and no run was audited.
    expect((await policy(env).lists()).senders.map((entry) => entry.value)).not.toContain(target);
    expect((await policy(env).audit(500)).filter((entry) => entry.detail.includes(target))).toEqual([]);
    expect(await runInDurableObject(stub, (_instance: CommandRunner, state) => state.storage.get("job"))).toBeUndefined();
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
