/**
 * The keeper's logic against real Durable Object storage and a real R2 bucket, with the container
 * played by a map of files that talks to the real `state.internal` handler. Each test has its own
 * keeper and its own corner of the bucket.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { StateKeeperCore } from "../../src/sandbox/state-core";
import { manifestKey, objectKey, readManifest, verifyObjects } from "../../src/sandbox/state-manifest";
import { StateKeeper } from "../../src/sandbox/state-keeper";
import { DEBOUNCE_MS } from "../../src/sandbox/state-policy";
import { flakyBucket, MapContainer, prefixedBucket, sha } from "../support/state-container";

const HOUR = 3_600_000;

interface Rig {
  core: StateKeeperCore;
  container: MapContainer;
  bucket: R2Bucket;
  notices: string[];
  clock: { now: number };
  storage: DurableObjectStorage;
}

/** A fresh keeper (its own Durable Object storage), bucket corner and container. */
async function withKeeper<T>(body: (rig: Rig) => Promise<T>, wrap: (bucket: R2Bucket) => R2Bucket = (b) => b): Promise<T> {
  const stub = env.STATE_KEEPER.get(env.STATE_KEEPER.idFromName(crypto.randomUUID()));
  const bucket = wrap(prefixedBucket(env.STATE!));
  return runInDurableObject(stub, async (_instance: StateKeeper, state) => {
    const notices: string[] = [];
    const clock = { now: Date.UTC(2026, 10, 1, 12) };
    const container = new MapContainer(() => bucket);
    const core = new StateKeeperCore({ storage: state.storage, bucket, container, now: () => clock.now, notify: async (text) => void notices.push(text) });
    return body({ core, container, bucket, notices, clock, storage: state.storage });
  });
}

/** A container that started fresh and has an agent with some history. */
async function started(rig: Rig, history = "hello") {
  expect((await rig.core.beforeGatewayStart()).ok).toBe(true);
  rig.container.set("state/openclaw.sqlite", `device identity and paired devices ${"x".repeat(2000)}`, true);
  rig.container.set("agents/main/agent/openclaw-agent.sqlite", `sessions: ${history} ${"y".repeat(4000)}`, true);
  rig.container.set("workspace/MEMORY.md", "The owner likes tea.\n");
}

describe("snapshots", () => {
  it("publishes a verified snapshot with a manifest and moves the pointer to it", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      const outcome = await rig.core.snapshot("backup");
      expect(outcome).toMatchObject({ kind: "published" });
      expect(await rig.core.pointer()).toBe(1);
      const manifest = await readManifest(rig.bucket, 1);
      expect(manifest).toMatchObject({ generation: 1, openclawVersion: "2026.9.6", reason: "backup", createdAt: new Date(rig.clock.now).toISOString() });
      expect(manifest!.files.map((file) => file.path).sort()).toEqual(["agents/main/agent/openclaw-agent.sqlite", "state/openclaw.sqlite", "workspace/MEMORY.md"]);
      for (const file of manifest!.files) {
        const object = await rig.bucket.get(objectKey(file.sha256));
        expect(object?.size).toBe(file.size);
        expect(await sha(new Uint8Array(await object!.arrayBuffer()))).toBe(file.sha256);
      }
    });
  });

  it("uploads nothing and publishes nothing when nothing changed, and only the changed file otherwise", async () => {
    await withKeeper(
      async (rig) => {
        await started(rig);
        await rig.core.snapshot("turns");
        const counted = rig.bucket as unknown as { puts: number };
        const puts = counted.puts;
        const again = await rig.core.snapshot("turns");
        expect(again.kind).toBe("unchanged");
        expect(counted.puts).toBe(puts);
        expect(await rig.core.pointer()).toBe(1);

        rig.container.set("workspace/MEMORY.md", "The owner likes tea and rain.\n");
        const changed = await rig.core.snapshot("turns");
        expect(changed).toMatchObject({ kind: "published", uploadedBytes: 30 });
        // One object and one manifest.
        expect(counted.puts).toBe(puts + 2);
        expect(await rig.core.pointer()).toBe(2);
      },
      (bucket) => flakyBucket(bucket, Infinity),
    );
  });

  it("takes one snapshot for two triggers at the same time", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      let release!: () => void;
      rig.container.gate = new Promise<void>((resolve) => (release = resolve));
      const both = Promise.all([rig.core.snapshot("turns"), rig.core.snapshot("sleep")]);
      release();
      const [a, b] = await both;
      expect(rig.container.snapshots).toBe(1);
      expect(a).toEqual(b);
      expect((await rig.core.records()).map((record) => record.generation)).toEqual([1]);
    });
  });

  it("keeps the pointer when R2 fails in the middle of a snapshot, and publishes on the retry", async () => {
    let flaky!: ReturnType<typeof flakyBucket>;
    await withKeeper(
      async (rig) => {
        await started(rig);
        // The second object's upload fails.
        const outcome = await rig.core.snapshot("turns");
        expect(outcome.kind).toBe("failed");
        expect(await rig.core.pointer()).toBeUndefined();
        expect((await rig.core.records()).length).toBe(0);
        const due = await rig.core.retryDue();
        expect(due.snapshotAt).toBeGreaterThan(rig.clock.now);
        expect((await rig.core.status()).lastFailure).toMatchObject({ what: "snapshot" });

        flaky.heal();
        rig.clock.now = due.snapshotAt!;
        const retried = await rig.core.snapshot("retry");
        expect(retried.kind).toBe("published");
        expect(await rig.core.pointer()).toBe(1);
        expect((await rig.core.retryDue()).snapshotAt).toBeUndefined();
      },
      (bucket) => (flaky = flakyBucket(bucket, 1)),
    );
  });

  it("moves the pointer only from where it was when the snapshot began (compare-and-set)", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      // An hour later (the history keeps the newest snapshot of each hour).
      rig.clock.now += HOUR;
      rig.container.set("workspace/MEMORY.md", "second\n");
      await rig.core.snapshot("turns");
      expect(await rig.core.pointer()).toBe(2);
      // A snapshot is under way when an admin restores snapshot 1.
      rig.container.set("workspace/MEMORY.md", "third\n");
      let release!: () => void;
      rig.container.gate = new Promise<void>((resolve) => (release = resolve));
      const pending = rig.core.snapshot("turns");
      await rig.core.restoreTo(1);
      release();
      expect(await pending).toMatchObject({ kind: "refused", why: expect.stringMatching(/moved the pointer/) });
      expect(await rig.core.pointer()).toBe(1);
    });
  });

  it("never publishes a snapshot whose objects are not all there", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      // An object of the next snapshot vanishes between upload and verification.
      rig.container.set("workspace/USER.md", "Name: Ada\n");
      const realSnapshot = rig.container.snapshot.bind(rig.container);
      rig.container.snapshot = async () => {
        const listing = await realSnapshot();
        const user = listing.files.find((file) => file.path === "workspace/USER.md")!;
        await rig.bucket.delete(objectKey(user.sha256));
        return listing;
      };
      const outcome = await rig.core.snapshot("turns");
      expect(outcome).toMatchObject({ kind: "failed", error: expect.stringMatching(/USER\.md is missing/) });
      expect(await rig.core.pointer()).toBe(1);
    });
  });
});

describe("verification of a large file's chunks", () => {
  it("wants every chunk, with its size and hash, adding up to the file", async () => {
    const bucket = prefixedBucket(env.STATE!);
    const parts = [new TextEncoder().encode("first chunk "), new TextEncoder().encode("second")];
    const chunks = await Promise.all(parts.map(async (bytes) => ({ sha256: await sha(bytes), size: bytes.byteLength })));
    const whole = await sha(new TextEncoder().encode("first chunk second"));
    const file = { path: "agents/main/agent/openclaw-agent.sqlite", size: 18, sha256: whole, sqlite: true, chunks };
    await bucket.put(objectKey(chunks[0]!.sha256), parts[0]!, { sha256: chunks[0]!.sha256 });
    expect(await verifyObjects(bucket, [file])).toMatch(/chunk 1\) is missing/);
    await bucket.put(objectKey(chunks[1]!.sha256), parts[1]!, { sha256: chunks[1]!.sha256 });
    expect(await verifyObjects(bucket, [file])).toBeNull();
    expect(await verifyObjects(bucket, [{ ...file, size: 19 }])).toMatch(/do not add up/);
  });
});

describe("restore on start", () => {
  it("brings a wiped container back to the pointer's snapshot", async () => {
    await withKeeper(async (rig) => {
      await started(rig, "a long conversation");
      await rig.core.snapshot("turns");
      const before = new Map(rig.container.files);
      rig.container.wipe();
      const start = await rig.core.beforeGatewayStart();
      expect(start).toMatchObject({ ok: true, result: { restored: true, generation: 1 } });
      expect([...rig.container.files.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [path, file] of before) expect(rig.container.files.get(path)!.bytes).toEqual(file.bytes);
    });
  });

  it("leaves live state alone when only the gateway restarted", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      rig.container.set("workspace/MEMORY.md", "newer than the snapshot\n");
      expect(await rig.core.beforeGatewayStart()).toMatchObject({ ok: true, result: { restored: false } });
      expect(new TextDecoder().decode(rig.container.files.get("workspace/MEMORY.md")!.bytes)).toBe("newer than the snapshot\n");
    });
  });

  it("after a failed restore publishes nothing, keeps the pointer, tells the admins, and retries with backoff", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      const manifest = (await readManifest(rig.bucket, 1))!;
      const agentDb = manifest.files.find((file) => file.path.endsWith("openclaw-agent.sqlite"))!;
      // The agent database's object is lost: the restore cannot verify.
      const saved = await (await rig.bucket.get(objectKey(agentDb.sha256)))!.arrayBuffer();
      await rig.bucket.delete(objectKey(agentDb.sha256));
      rig.container.wipe();

      const start = await rig.core.beforeGatewayStart();
      expect(start.ok).toBe(false);
      const status = await rig.core.status();
      expect(status.lockout).toMatchObject({ attempts: 1, generation: 1 });
      expect(rig.notices.at(-1)).toMatch(/running without its memory, and nothing will be saved over snapshot 1/);

      // The agent runs on an empty state; nothing of it may replace snapshot 1.
      rig.container.live = true;
      rig.container.set("workspace/MEMORY.md", "empty start\n");
      expect((await rig.core.snapshot("turns")).kind).toBe("refused");
      expect((await rig.core.snapshot("sleep")).kind).toBe("refused");
      expect(await rig.core.pointer()).toBe(1);
      expect((await rig.core.records()).map((r) => r.generation)).toEqual([1]);
      expect(await rig.bucket.head(manifestKey(2))).toBeNull();

      // Backoff grows while it keeps failing.
      const first = status.lockout!.nextAttemptAt - rig.clock.now;
      rig.clock.now = status.lockout!.nextAttemptAt;
      await rig.core.beforeGatewayStart();
      const second = (await rig.core.status()).lockout!;
      expect(second.attempts).toBe(2);
      const secondGap = second.nextAttemptAt - rig.clock.now;
      expect(secondGap).toBeGreaterThan(first);

      // A retry that is due while the object is still missing puts itself off (longer backoff)
      // instead of restarting the running agent for a restore that would fail the same way.
      rig.clock.now = second.nextAttemptAt;
      expect(await rig.core.readyToRetryRestore()).toBe(false);
      const third = (await rig.core.status()).lockout!;
      expect(third).toMatchObject({ attempts: 3, error: expect.stringMatching(/openclaw-agent\.sqlite is missing/) });
      expect(third.nextAttemptAt - rig.clock.now).toBeGreaterThan(secondGap);

      // The object is back (say R2 recovered): the retry replaces the memory-less state.
      await rig.bucket.put(objectKey(agentDb.sha256), saved, { sha256: agentDb.sha256 });
      expect(await rig.core.readyToRetryRestore()).toBe(true);
      expect(await rig.core.beforeGatewayStart()).toMatchObject({ ok: true, result: { restored: true, generation: 1 } });
      expect((await rig.core.status()).lockout).toBeUndefined();
      expect(rig.container.files.has("agents/main/agent/openclaw-agent.sqlite")).toBe(true);
      expect(rig.notices.at(-1)).toMatch(/state is back/);
      expect((await rig.core.snapshot("turns")).kind).toBe("unchanged");
    });
  });
});

describe("the shrink guard", () => {
  it("keeps a snapshot without the agent database but does not make it current", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      rig.container.files.delete("agents/main/agent/openclaw-agent.sqlite");
      rig.container.set("workspace/MEMORY.md", "different\n");
      const outcome = await rig.core.snapshot("turns");
      expect(outcome).toMatchObject({ kind: "held", why: expect.stringMatching(/lacks agents\/main\/agent\/openclaw-agent\.sqlite/) });
      expect(await rig.core.pointer()).toBe(1);
      expect(await readManifest(rig.bucket, 2)).not.toBeNull();
      expect(rig.notices.at(-1)).toMatch(/--force/);
      expect((await rig.core.status()).held?.generation).toBe(2);

      const forced = await rig.core.snapshot("backup", true);
      expect(forced.kind).toBe("published");
      expect(await rig.core.pointer()).toBe(3);
    });
  });

  it("holds a snapshot under half the current size", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      rig.container.set("agents/main/agent/openclaw-agent.sqlite", "tiny", true);
      expect(await rig.core.snapshot("turns")).toMatchObject({ kind: "held", why: expect.stringMatching(/under half/) });
      expect(await rig.core.pointer()).toBe(1);
      // A modest change passes.
      rig.container.set("agents/main/agent/openclaw-agent.sqlite", `sessions: hello ${"y".repeat(3000)}`, true);
      expect((await rig.core.snapshot("turns")).kind).toBe("published");
    });
  });
});

describe("pruning", () => {
  it("keeps a bounded history and never the current snapshot's objects", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      // Three days of hourly snapshots.
      for (let hour = 0; hour < 72; hour += 2) {
        rig.container.set("workspace/MEMORY.md", `hour ${hour}\n`);
        expect((await rig.core.snapshot("turns")).kind).toBe("published");
        rig.clock.now += 2 * HOUR;
      }
      const records = await rig.core.records();
      expect(records.length).toBeLessThanOrEqual(24 + 7);
      expect(records.length).toBeGreaterThanOrEqual(12);
      const current = (await rig.core.pointer())!;
      expect(records.some((r) => r.generation === current && r.status === "current")).toBe(true);
      // Pruned manifests are gone; every kept one is whole.
      expect(await rig.bucket.head(manifestKey(1))).toBeNull();
      for (const record of records) {
        const manifest = await readManifest(rig.bucket, record.generation);
        for (const file of manifest!.files) expect(await rig.bucket.head(objectKey(file.sha256))).not.toBeNull();
      }
    });
  });

  it("keeps the current snapshot however old it is, while held ones pile up", async () => {
    await withKeeper(async (rig) => {
      await started(rig);
      await rig.core.snapshot("turns");
      // Ten days of snapshots the shrink guard holds back: snapshot 1 stays current.
      rig.container.files.delete("agents/main/agent/openclaw-agent.sqlite");
      for (let day = 0; day < 10; day += 1) {
        rig.clock.now += 24 * HOUR;
        rig.container.set("workspace/MEMORY.md", `day ${day}\n`);
        expect((await rig.core.snapshot("turns")).kind).toBe("held");
        await rig.core.prune();
      }
      expect(await rig.core.pointer()).toBe(1);
      const records = await rig.core.records();
      expect(records.map((r) => r.generation)).toContain(1);
      expect(records.filter((r) => r.status === "held").length).toBe(3);
      const manifest = (await readManifest(rig.bucket, 1))!;
      for (const file of manifest.files) expect(await rig.bucket.head(objectKey(file.sha256))).not.toBeNull();
      // And it still restores.
      rig.container.wipe();
      expect(await rig.core.beforeGatewayStart()).toMatchObject({ ok: true, result: { restored: true, generation: 1 } });
    });
  });
});

describe("the keeper object", () => {
  it("debounces state-changing turns into one snapshot about a minute after the first", async () => {
    const stub = env.STATE_KEEPER.get(env.STATE_KEEPER.idFromName(crypto.randomUUID()));
    await runInDurableObject(stub, async (_instance: StateKeeper, state) => {
      // The Sandbox mode (no GATEWAY_URL), where the keeper works.
      const keeper = new StateKeeper(state, { ...env, GATEWAY_URL: undefined });
      const before = Date.now();
      await keeper.changed();
      const first = [await state.storage.get<number>("due"), await state.storage.getAlarm()];
      await keeper.changed();
      await keeper.changed();
      const later = [await state.storage.get<number>("due"), await state.storage.getAlarm()];
      expect(first[0]).toBeGreaterThanOrEqual(before + DEBOUNCE_MS);
      expect(first[0]).toBeLessThanOrEqual(Date.now() + DEBOUNCE_MS);
      // Later changes share the first one's snapshot instead of pushing it back.
      expect(later).toEqual(first);
      expect(first[1]).toBe(first[0]);
    });
  });

  it("does nothing where the gateway runs elsewhere", async () => {
    const stub = env.STATE_KEEPER.get(env.STATE_KEEPER.idFromName(crypto.randomUUID()));
    await stub.changed();
    expect(await stub.snapshot("backup")).toMatchObject({ kind: "refused", why: expect.stringMatching(/runs elsewhere/) });
    expect(await runInDurableObject(stub, (_instance: StateKeeper, state) => state.storage.getAlarm())).toBeNull();
  });
});
