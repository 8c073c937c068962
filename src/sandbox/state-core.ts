/**
 * The keeper of the agent's snapshots: it takes them, verifies them, moves the pointer, restores
 * on start, and holds the guards that keep a bad or empty state from ever replacing a good one.
 * Everything it touches comes in `KeeperDeps`, so the same logic runs in the Durable Object and
 * in tests (with a container stand-in or a failing bucket).
 */
import { manifestKey, readManifest, verifyObjects, type Listing, type Manifest, type RestoreResult } from "./state-manifest";
import {
  backoffMs,
  formatBytes,
  partsOf,
  prunable,
  sameFiles,
  shrinkVerdict,
  totalBytes,
  type SnapshotRecord,
} from "./state-policy";

/** The container's side (container/agent-state.mjs). */
export interface StateContainer {
  snapshot(): Promise<Listing>;
  /** `none`: nothing to restore; `replace`: move live state aside first. */
  restore(generation: number | "none", replace: boolean): Promise<RestoreResult>;
}

export interface KeeperDeps {
  storage: DurableObjectStorage;
  bucket: R2Bucket;
  container: StateContainer;
  now(): number;
  /** Tell the admins (chat). */
  notify(text: string): Promise<void>;
}

export interface Lockout {
  since: number;
  attempts: number;
  nextAttemptAt: number;
  error: string;
  generation: number;
}

export interface Failure {
  at: number;
  what: "snapshot" | "restore";
  error: string;
}

export type SnapshotOutcome =
  | { kind: "published"; record: SnapshotRecord; uploadedBytes: number }
  | { kind: "unchanged"; record: SnapshotRecord }
  | { kind: "held"; record: SnapshotRecord; why: string }
  | { kind: "refused"; why: string }
  | { kind: "failed"; error: string; retryAt: number };

export interface KeeperStatus {
  current?: SnapshotRecord;
  lockout?: Lockout;
  lastFailure?: Failure;
  held?: SnapshotRecord;
  retryAt?: number;
}

const K = { pointer: "pointer", verified: "lastVerified", records: "records", next: "nextGeneration", lockout: "lockout", failure: "lastFailure", retry: "retry" };

export class StateKeeperCore {
  private inflight: Promise<SnapshotOutcome> | undefined;

  constructor(private readonly deps: KeeperDeps) {}

  private get storage() {
    return this.deps.storage;
  }

  async pointer(): Promise<number | undefined> {
    return this.storage.get<number>(K.pointer);
  }

  async records(): Promise<SnapshotRecord[]> {
    return (await this.storage.get<SnapshotRecord[]>(K.records)) ?? [];
  }

  async status(): Promise<KeeperStatus> {
    const [pointer, records, lockout, lastFailure, retry] = await Promise.all([
      this.pointer(),
      this.records(),
      this.storage.get<Lockout>(K.lockout),
      this.storage.get<Failure>(K.failure),
      this.storage.get<{ at: number; attempts: number }>(K.retry),
    ]);
    const current = records.find((record) => record.generation === pointer);
    const held = records.filter((record) => record.status === "held" && record.generation > (pointer ?? 0)).at(-1);
    return { current, lockout, lastFailure, held, retryAt: retry?.at };
  }

  /**
   * Take a snapshot and, once verified, make it current. `force` (an admin's `--force`) passes the
   * shrink guard and ends a lockout: the admin accepts the state as it is. Triggers that arrive
   * while one is being taken share it (a forced one waits for it, then takes its own).
   */
  snapshot(reason: string, force = false): Promise<SnapshotOutcome> {
    if (this.inflight && !force) return this.inflight;
    const previous = this.inflight?.catch(() => undefined);
    const run = (async () => {
      await previous;
      return this.take(reason, force);
    })().finally(() => {
      if (this.inflight === run) this.inflight = undefined;
    });
    this.inflight = run;
    return run;
  }

  private async take(reason: string, force: boolean): Promise<SnapshotOutcome> {
    const lockout = await this.storage.get<Lockout>(K.lockout);
    if (lockout && !force) {
      return { kind: "refused", why: `the last restore failed (${lockout.error}); nothing is saved over snapshot ${lockout.generation} until that is resolved` };
    }
    const expected = await this.pointer();
    const current = expected === undefined ? null : await readManifest(this.deps.bucket, expected);
    let listing: Listing;
    let manifest: Manifest;
    try {
      listing = await this.deps.container.snapshot();
      if (current && sameFiles(current.files, listing.files)) {
        await this.storage.delete(K.retry);
        const record = (await this.records()).find((r) => r.generation === expected)!;
        return { kind: "unchanged", record };
      }
      const problem = await verifyObjects(this.deps.bucket, listing.files);
      if (problem) throw new Error(`the upload is incomplete: ${problem}`);
      const generation = await this.allocate();
      manifest = {
        generation,
        createdAt: new Date(this.deps.now()).toISOString(),
        openclawVersion: listing.openclawVersion,
        reason,
        files: listing.files,
        bytes: totalBytes(listing.files),
      };
      // Never overwrite: a generation is allocated once, and its manifest written once.
      if (await this.deps.bucket.head(manifestKey(generation))) throw new Error(`snapshot ${generation} exists already`);
      await this.deps.bucket.put(manifestKey(generation), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
    } catch (error) {
      return this.failed("snapshot", error);
    }
    await this.storage.delete(K.retry);

    const record: SnapshotRecord = {
      generation: manifest.generation,
      createdAt: this.deps.now(),
      bytes: manifest.bytes,
      files: manifest.files.length,
      status: "current",
      reason,
    };
    const shrink = force ? null : shrinkVerdict(current?.files, manifest.files);
    if (shrink) {
      await this.addRecord({ ...record, status: "held", held: shrink });
      await this.deps.notify(
        `Snapshot ${record.generation} of the agent's state was kept but not made current: ${shrink}. Snapshot ${expected} stays current. If the smaller state is right, run \`/molt backup --force\`.`,
      );
      return { kind: "held", record: { ...record, status: "held", held: shrink }, why: shrink };
    }
    // Compare-and-set: the pointer moves only from where it was when this snapshot began.
    if ((await this.pointer()) !== expected) {
      await this.addRecord({ ...record, status: "held", held: "the pointer moved while it was taken" });
      return { kind: "refused", why: "another snapshot or restore moved the pointer meanwhile" };
    }
    await this.movePointer(record);
    if (force && lockout) {
      await this.storage.delete(K.lockout);
      await this.deps.notify(`An admin forced snapshot ${record.generation}: the agent's current state is kept from now on, and snapshot ${lockout.generation} is no longer current.`);
    }
    await this.prune();
    return { kind: "published", record, uploadedBytes: listing.uploadedBytes };
  }

  /**
   * Before the gateway starts in a container: restore the current snapshot into it, unless it
   * holds live state already. A failure starts a lockout (no snapshot is published over the good
   * one) with retries; the gateway starts anyway, without its memory, and the admins are told.
   */
  async beforeGatewayStart(): Promise<{ ok: boolean; result?: RestoreResult; error?: string }> {
    const pointer = await this.pointer();
    const lockout = await this.storage.get<Lockout>(K.lockout);
    try {
      // After a failed restore, live state is the agent's memory-less start: it may be replaced.
      const result = await this.deps.container.restore(pointer ?? "none", Boolean(lockout));
      if (lockout) {
        await this.storage.delete(K.lockout);
        await this.deps.notify(`The agent's state is back: snapshot ${lockout.generation} was restored after ${lockout.attempts} failed attempt(s). Snapshots resume.`);
      }
      return { ok: true, result };
    } catch (error) {
      const message = describe(error);
      const attempts = (lockout?.attempts ?? 0) + 1;
      const next: Lockout = {
        since: lockout?.since ?? this.deps.now(),
        attempts,
        nextAttemptAt: this.deps.now() + backoffMs(attempts),
        error: message,
        generation: pointer ?? 0,
      };
      await this.storage.put(K.lockout, next);
      await this.storage.put<Failure>(K.failure, { at: this.deps.now(), what: "restore", error: message });
      if (attempts === 1 || attempts % 5 === 0) {
        await this.deps.notify(
          `Restoring the agent's state failed (${message}). The agent is running without its memory, and nothing will be saved over snapshot ${next.generation}. Retrying with backoff (attempt ${attempts}); \`/molt restore <generation>\` picks another snapshot.`,
        );
      }
      return { ok: false, error: message };
    }
  }

  /**
   * Before a retry restarts the agent: can the snapshot the lockout waits for be restored now?
   * Every object must be back in R2. When it can't, the retry is put off with a longer backoff and
   * the running agent is left alone (a restart would only interrupt it and fail the same way).
   */
  async readyToRetryRestore(): Promise<boolean> {
    const lockout = await this.storage.get<Lockout>(K.lockout);
    if (!lockout) return false;
    const manifest = await readManifest(this.deps.bucket, lockout.generation).catch(() => null);
    const problem = manifest ? await verifyObjects(this.deps.bucket, manifest.files).catch((error) => describe(error)) : `snapshot ${lockout.generation} has no manifest`;
    if (!problem) return true;
    const attempts = lockout.attempts + 1;
    await this.storage.put<Lockout>(K.lockout, { ...lockout, attempts, nextAttemptAt: this.deps.now() + backoffMs(attempts), error: problem });
    await this.storage.put<Failure>(K.failure, { at: this.deps.now(), what: "restore", error: problem });
    if (attempts % 5 === 0) {
      await this.deps.notify(`The agent's state still can't be restored (${problem}). The agent runs without its memory; retrying with backoff (attempt ${attempts}).`);
    }
    return false;
  }

  /** `/molt restore <generation>`: make that snapshot the state of the (stopped) gateway's container. */
  async restoreTo(generation: number): Promise<RestoreResult> {
    const record = (await this.records()).find((r) => r.generation === generation);
    if (!record || !(await readManifest(this.deps.bucket, generation))) throw new Error(`there is no snapshot ${generation}`);
    const result = await this.deps.container.restore(generation, true);
    const previous = await this.pointer();
    await this.movePointer({ ...record, status: "current" });
    await this.storage.delete(K.lockout);
    if (previous !== generation) await this.deps.notify(`The agent's state was restored to snapshot ${generation} (it was ${previous ?? "none"}).`);
    return result;
  }

  /** When the next retry of a failed snapshot or restore is due. */
  async retryDue(): Promise<{ snapshotAt?: number; restoreAt?: number }> {
    const [retry, lockout] = await Promise.all([this.storage.get<{ at: number }>(K.retry), this.storage.get<Lockout>(K.lockout)]);
    return { snapshotAt: retry?.at, restoreAt: lockout?.nextAttemptAt };
  }

  /** Drop old snapshots (never the current or the last verified one), then unreferenced objects. */
  async prune(): Promise<number[]> {
    const records = await this.records();
    const protect = new Set([await this.pointer(), await this.storage.get<number>(K.verified)].filter((g): g is number => g !== undefined));
    const drop = prunable(records, this.deps.now(), protect);
    if (!drop.length) return [];
    const remaining = records.filter((record) => !drop.includes(record.generation));
    await this.storage.put(K.records, remaining);
    await this.deps.bucket.delete(drop.map(manifestKey));
    const referenced = new Set<string>();
    for (const record of remaining) {
      const manifest = await readManifest(this.deps.bucket, record.generation);
      for (const file of manifest?.files ?? []) for (const part of partsOf(file)) referenced.add(part.sha256);
    }
    // Objects uploaded for a snapshot that is still being taken are young: leave those.
    const youngerThan = this.deps.now() - 60 * 60_000;
    let cursor: string | undefined;
    do {
      const page = await this.deps.bucket.list({ prefix: "objects/", cursor });
      const orphans = page.objects.filter((o) => !referenced.has(o.key.slice("objects/".length)) && o.uploaded.getTime() < youngerThan).map((o) => o.key);
      if (orphans.length) await this.deps.bucket.delete(orphans);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return drop;
  }

  private async failed(what: "snapshot", error: unknown): Promise<SnapshotOutcome> {
    const message = describe(error);
    const previous = await this.storage.get<{ at: number; attempts: number }>(K.retry);
    const attempts = (previous?.attempts ?? 0) + 1;
    const retryAt = this.deps.now() + backoffMs(attempts);
    await this.storage.put(K.retry, { at: retryAt, attempts });
    await this.storage.put<Failure>(K.failure, { at: this.deps.now(), what, error: message });
    return { kind: "failed", error: message, retryAt };
  }

  private async allocate(): Promise<number> {
    const next = ((await this.storage.get<number>(K.next)) ?? 0) + 1;
    await this.storage.put(K.next, next);
    return next;
  }

  private async movePointer(record: SnapshotRecord): Promise<void> {
    const records = (await this.records()).map((r) => (r.status === "current" ? { ...r, status: "kept" as const } : r));
    const others = records.filter((r) => r.generation !== record.generation);
    await this.storage.put({
      [K.records]: [...others, { ...record, status: "current" }].sort((a, b) => a.generation - b.generation),
      [K.pointer]: record.generation,
      [K.verified]: record.generation,
    });
  }

  private async addRecord(record: SnapshotRecord): Promise<void> {
    await this.storage.put(K.records, [...(await this.records()), record]);
  }
}

export function describeRecord(record: SnapshotRecord, now: number): string {
  const age = Math.max(0, now - record.createdAt);
  const ago = age < 60_000 ? `${Math.floor(age / 1000)} s ago` : age < 3_600_000 ? `${Math.floor(age / 60_000)} min ago` : `${Math.floor(age / 3_600_000)} h ago`;
  return `${record.generation}: ${formatBytes(record.bytes)}, ${record.files} files, ${new Date(record.createdAt).toISOString().slice(0, 16).replace("T", " ")} UTC (${ago})`;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
