/**
 * The agent's state across a container that loses its disk: the real start script and gateway in
 * the emulated container, the real `agent-state.mjs` reaching the Worker's `state.internal`
 * handler through the container's egress, R2 and the keeper. The tests run in order and share the
 * agent's container, as a deployment would.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/commands/registry";
import { objectKey, readManifest } from "../../src/sandbox/state-manifest";
import { partsOf } from "../../src/sandbox/state-policy";
import { stateKeeper } from "../../src/sandbox/state-keeper";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { openSandbox } from "../../src/sandbox/transport";
import { agentSandboxObject, agentStats, readyAgent, stoppedAgent } from "../support/agent";
import { slash } from "../support/slack-admin";
import { eventually, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

/** A cold start: the restore, then the gateway's own start (minutes on a loaded 2-core machine). */
const COLD_START_MS = 480_000;
const admin = (name: string, args: string[] = []) => runCommand(env, { name, args, actor: "slack:U0ADMIN" });

const answer = (channel: string, threadTs: string, needle: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));

/** The conversation the tests come back to. */
const thread = { channel: uniqueChannel(), ts: "" };
let generation = 0;

describe("the agent's state across a wiped container", () => {
  it("snapshots a conversation on /molt backup, with a manifest of verified objects", async () => {
    await stoppedAgent();
    const first = await mention(thread.channel, "remember the word kumquat");
    thread.ts = first.ts;
    await eventually(answer(thread.channel, thread.ts, "Echo: remember the word kumquat"), COLD_START_MS, "the first answer");

    const backup = await admin("backup");
    expect(backup.result).toMatchObject({ ok: true });
    generation = (backup.result.data!.snapshot as { generation: number }).generation;
    expect(backup.result.text).toContain(`Snapshot ${generation}:`);
    const manifest = (await readManifest(env.STATE!, generation))!;
    const paths = manifest.files.map((file) => file.path);
    expect(paths).toContain("state/openclaw.sqlite");
    expect(paths).toContain("agents/main/agent/openclaw-agent.sqlite");
    expect(paths.some((path) => path.startsWith("workspace/"))).toBe(true);
    expect(paths.some((path) => /\.(log|json)$/.test(path) && !path.startsWith("workspace/") && !path.startsWith("credentials/"))).toBe(false);
    expect(manifest.openclawVersion).toMatch(/^\d{4}\.\d+\.\d+/);

    // Only what changed is uploaded (the live gateway keeps writing a little to its databases).
    const again = await admin("backup");
    expect(again.result.ok).toBe(true);
    const data = again.result.data as { unchanged?: boolean; uploadedBytes?: number; snapshot: { generation: number; bytes: number } };
    if (!data.unchanged) {
      // Every part the second snapshot shares with the first stayed in R2: what went up is at most
      // the parts that are new (a database the live gateway wrote to goes up whole, or by chunks).
      const next = (await readManifest(env.STATE!, data.snapshot.generation))!;
      const before = new Set(manifest.files.flatMap((file) => partsOf(file).map((part) => part.sha256)));
      const parts = next.files.flatMap((file) => partsOf(file));
      const fresh = parts.filter((part) => !before.has(part.sha256)).reduce((sum, part) => sum + part.size, 0);
      expect(data.uploadedBytes!).toBeLessThanOrEqual(fresh);
      expect(parts.some((part) => before.has(part.sha256))).toBe(true);
    }
    generation = data.snapshot.generation;
    expect((await stateKeeper(env).status()).current?.generation).toBe(generation);
  }, COLD_START_MS);

  it("comes back after the disk is gone: the history is there, the relay's device connects, the conversation continues", async () => {
    const before = await stoppedAgent();
    expect(before.running).toBe(false);
    const { ts } = await mention(thread.channel, "recall what I said", { threadTs: thread.ts });
    const recalled = await eventually(answer(thread.channel, thread.ts, "Recall:"), COLD_START_MS, "the answer in the old conversation", async () => ({
      messages: await slackMessages(thread.channel),
      keeper: await stateKeeper(env).status(),
    }));
    expect(recalled!.text).toContain("remember the word kumquat");
    expect(ts).toBeTruthy();
    const stats = await agentStats();
    // The restore ran before the gateway, in the new container.
    const restore = stats.execs.findIndex((command) => command.includes("agent-state.mjs restore"));
    expect(restore).toBeGreaterThanOrEqual(0);
    // The relay's paired device came back with the state: no new pairing was needed.
    expect(stats.execs.some((command) => command.includes("approve-device"))).toBe(false);
    const keeper = await stateKeeper(env).status();
    expect(keeper.current?.generation).toBe(generation);
    expect(keeper.lockout).toBeUndefined();
  }, COLD_START_MS);

  it("takes one snapshot for two triggers at the same time", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "something new to keep");
    await eventually(answer(channel, ts, "Echo: something new to keep"), COLD_START_MS, "the answer");
    const snapshotsBefore = (await agentStats()).execs.filter((command) => command.includes("agent-state.mjs snapshot")).length;
    const [a, b] = await Promise.all([stateKeeper(env).snapshot("turns"), stateKeeper(env).snapshot("sleep")]);
    expect(a).toEqual(b);
    expect(a.kind === "published" || a.kind === "unchanged").toBe(true);
    const snapshotsAfter = (await agentStats()).execs.filter((command) => command.includes("agent-state.mjs snapshot")).length;
    expect(snapshotsAfter - snapshotsBefore).toBe(1);
    generation = (await stateKeeper(env).status()).current!.generation;
  }, COLD_START_MS);

  it("saves the state when the idle time runs out, before the container sleeps, and wakes with it", async () => {
    await readyAgent();
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "remember the word persimmon");
    await eventually(answer(channel, ts, "Echo: remember the word persimmon"), COLD_START_MS, "the answer");
    const before = (await stateKeeper(env).status()).current!;
    const awake = await agentStats();

    // The idle time runs out the way the SDK sees it: a short `sleepAfter`, then the Container's
    // own alarm, which finds the activity expired and calls `onActivityExpired` (the relay's hook
    // saves the state, then the SDK stops the container).
    const sandbox = agentSandboxObject();
    await runInDurableObject(sandbox, (instance) => (instance as unknown as { setSleepAfter(s: string): Promise<void> }).setSleepAfter("1s"));
    try {
      await eventually(async () => {
        await runInDurableObject(sandbox, async (instance) => {
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          await (instance as unknown as { alarm(): Promise<void> }).alarm();
        });
        return (await agentStats()).running ? undefined : true;
      }, 120_000, "the container to sleep");
    } finally {
      await runInDurableObject(sandbox, (instance) => (instance as unknown as { setSleepAfter(s: string): Promise<void> }).setSleepAfter("3m"));
    }
    const saved = (await stateKeeper(env).status()).current!;
    expect(saved.reason).toBe("sleep");
    expect(saved.generation).toBeGreaterThan(before.generation);
    // The snapshot was taken in the container that then slept.
    const asleep = await agentStats();
    expect(asleep.history.at(-1)).toMatchObject({ dir: awake.dir });
    generation = saved.generation;

    // The next message wakes a new container on an empty disk; the conversation goes on.
    await mention(channel, "recall it", { threadTs: ts });
    const recalled = await eventually(answer(channel, ts, "Recall:"), COLD_START_MS, "the answer after the sleep");
    expect(recalled!.text).toContain("remember the word persimmon");
    expect((await agentStats()).dir).not.toBe(awake.dir);
  }, 2 * COLD_START_MS);

  it("keeps a much smaller snapshot (the agent database gone) without making it current", async () => {
    await readyAgent();
    const sandbox = openSandbox(env);
    const db = '"${OPENCLAW_STATE_DIR:-$HOME/.openclaw}/agents/main/agent/openclaw-agent.sqlite"';
    const current = (await stateKeeper(env).status()).current!;
    expect((await sandbox.exec(`mv ${db} ${db}.aside`)).exitCode).toBe(0);
    try {
      const backup = await admin("backup");
      expect(backup.result.ok).toBe(false);
      expect(backup.result.text).toMatch(/kept but not made current/);
      const held = (backup.result.data as { held: { generation: number } }).held;
      const status = await stateKeeper(env).status();
      expect(status.current?.generation).toBe(current.generation);
      expect(status.held?.generation).toBe(held.generation);
    } finally {
      expect((await sandbox.exec(`mv ${db}.aside ${db}`)).exitCode).toBe(0);
    }
  }, COLD_START_MS);

  it("cannot delete or replace a snapshot from inside the container", async () => {
    const manifest = (await readManifest(env.STATE!, generation))!;
    const object = manifest.files.find((file) => file.path === "agents/main/agent/openclaw-agent.sqlite")!;
    const sandbox = openSandbox(env);
    const curl = async (args: string) => (await sandbox.exec(`curl -s -o /dev/null -w '%{http_code}' ${args}`)).stdout.trim();
    expect(await curl(`-X DELETE http://state.internal/objects/${object.sha256}`)).toBe("405");
    expect(await curl(`-X DELETE http://state.internal/snapshots/${generation}`)).toBe("405");
    expect(await curl(`-X PUT --data-binary '{"generation":${generation},"files":[]}' http://state.internal/snapshots/${generation}`)).toBe("405");
    expect(await curl(`-X PUT --data-binary 'not the database' http://state.internal/objects/${object.sha256}`)).toBe("200");
    const stored = await env.STATE!.head(objectKey(object.sha256));
    expect(stored?.size).toBe(object.size);
    expect((await readManifest(env.STATE!, generation))!.files).toEqual(manifest.files);
  }, COLD_START_MS);

  it("after a failed restore publishes nothing, keeps the pointer, and tells the admins; a retry brings the state back", async () => {
    // An admin uses /molt in a channel: notices about the agent's state go there.
    const adminChannel = uniqueChannel();
    await slash("status", { channel: adminChannel });
    const manifest = (await readManifest(env.STATE!, generation))!;
    const object = manifest.files.find((file) => file.path === "agents/main/agent/openclaw-agent.sqlite")!;
    const saved = await (await env.STATE!.get(objectKey(object.sha256)))!.arrayBuffer();
    // R2 lost the agent database's object.
    await env.STATE!.delete(objectKey(object.sha256));
    await stoppedAgent();

    const { ts } = await mention(thread.channel, "recall anything?", { threadTs: thread.ts });
    // The agent answers, without its memory.
    await eventually(answer(thread.channel, thread.ts, "Recall: nothing"), COLD_START_MS, "an answer without memory", async () => ({
      messages: await slackMessages(thread.channel),
      keeper: await stateKeeper(env).status(),
    }));
    expect(ts).toBeTruthy();
    const keeper = await stateKeeper(env).status();
    expect(keeper.lockout).toMatchObject({ generation, attempts: expect.any(Number) });
    expect(keeper.current?.generation).toBe(generation);
    const notice = await eventually(
      async () => (await slackCalls(adminChannel)).find((call) => JSON.stringify(call.body).includes("running without its memory")),
      30_000,
      "the admins' notice",
    );
    expect(notice).toBeDefined();
    const status = await admin("status");
    expect(status.result.text).toMatch(/running without its memory/);

    // Nothing of the memory-less state replaces the good snapshot.
    const records = (await stateKeeper(env).list()).length;
    expect((await stateKeeper(env).snapshot("turns")).kind).toBe("refused");
    expect((await admin("backup")).result.ok).toBe(false);
    expect((await stateKeeper(env).list()).length).toBe(records);

    // R2 has the object again; the keeper's retry (a restart) restores it over the empty start.
    await env.STATE!.put(objectKey(object.sha256), saved, { sha256: object.sha256 });
    expect((await gatewaySupervisor(env).restart()).phase).toBe("ready");
    expect((await stateKeeper(env).status()).lockout).toBeUndefined();
    const recalls = async () => (await slackMessages(thread.channel)).filter((m) => m.thread_ts === thread.ts && !m.streaming && m.text.startsWith("Recall:"));
    const seen = (await recalls()).length;
    const channelAfter = await mention(thread.channel, "recall again", { threadTs: thread.ts });
    const back = await eventually(async () => (await recalls())[seen], COLD_START_MS, "the answer with memory");
    expect(channelAfter.ts).toBeTruthy();
    expect(back!.text).toContain("remember the word kumquat");
  }, COLD_START_MS * 3);
});
