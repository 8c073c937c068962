/**
 * The rules of the agent's persistence, as pure functions: when a snapshot is too small to be
 * made current, which snapshots pruning may remove, and how long to wait before a retry.
 */

export interface SnapshotFile {
  path: string;
  size: number;
  sha256: string;
  /** A SQLite database (copied with the backup API, integrity-checked in the container). */
  sqlite?: boolean;
  /** A large file is stored as chunks, each an object named by its SHA-256, in order. */
  chunks?: { sha256: string; size: number }[];
}

/** The objects a file is stored as: its chunks, or itself. */
export function partsOf(file: SnapshotFile): { sha256: string; size: number }[] {
  return file.chunks ?? [{ sha256: file.sha256, size: file.size }];
}

export interface SnapshotRecord {
  generation: number;
  createdAt: number;
  bytes: number;
  files: number;
  /** `current`: the pointer's; `kept`: was current once; `held`: refused by the shrink guard. */
  status: "current" | "kept" | "held";
  reason: string;
  /** Why it was held. */
  held?: string;
}

/** A snapshot under this share of the current one's size is held for an admin. */
export const SHRINK_RATIO = 0.5;

/**
 * Why `next` may not replace `current` without an admin's `--force`, or null when it may: a
 * database the current snapshot has is missing, or the snapshot is under half the size.
 */
export function shrinkVerdict(current: SnapshotFile[] | undefined, next: SnapshotFile[]): string | null {
  if (!current?.length) return null;
  const present = new Set(next.map((file) => file.path));
  const lost = current.filter((file) => file.sqlite && !present.has(file.path)).map((file) => file.path);
  if (lost.length) return `it lacks ${lost.join(", ")}`;
  const before = totalBytes(current);
  const after = totalBytes(next);
  if (before > 0 && after < before * SHRINK_RATIO) return `it is ${formatBytes(after)}, under half of the current ${formatBytes(before)}`;
  return null;
}

export function totalBytes(files: SnapshotFile[]): number {
  return files.reduce((sum, file) => sum + file.size, 0);
}

/** Same paths with the same contents. */
export function sameFiles(a: SnapshotFile[] | undefined, b: SnapshotFile[]): boolean {
  if (!a || a.length !== b.length) return false;
  const key = (files: SnapshotFile[]) => files.map((file) => `${file.path}\0${file.sha256}`).sort().join("\n");
  return key(a) === key(b);
}

export interface Retention {
  /** The newest snapshot of each of the last N hours is kept... */
  hourly: number;
  /** ...and of each of the last N days. */
  daily: number;
  /** Held snapshots kept for an admin to look at. */
  held: number;
}

export const RETENTION: Retention = { hourly: 24, daily: 7, held: 3 };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The generations pruning removes. Never the `protect`ed ones (the current snapshot and the last
 * verified one); of the rest, the newest per hour for `hourly` hours and per day for `daily` days
 * stay, and the newest `held` held ones.
 */
export function prunable(records: SnapshotRecord[], now: number, protect: Set<number>, retention: Retention = RETENTION): number[] {
  const keep = new Set(protect);
  const newestFirst = [...records].sort((a, b) => b.generation - a.generation);
  const published = newestFirst.filter((record) => record.status !== "held");
  const buckets = (size: number, count: number) => {
    const seen = new Set<number>();
    for (const record of published) {
      const bucket = Math.floor(record.createdAt / size);
      if (now - record.createdAt >= count * size || seen.has(bucket)) continue;
      seen.add(bucket);
      keep.add(record.generation);
    }
  };
  buckets(HOUR, retention.hourly);
  buckets(DAY, retention.daily);
  for (const record of newestFirst.filter((r) => r.status === "held").slice(0, retention.held)) keep.add(record.generation);
  return newestFirst.filter((record) => !keep.has(record.generation)).map((record) => record.generation);
}

/** Retry delays: 30 s, 1, 2, 4... minutes, at most 30 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 30 * 60_000);
}

/** How long after a state-changing turn its snapshot is taken (changes meanwhile share it). */
export const DEBOUNCE_MS = 60_000;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
