/**
 * The usage ledger's SQLite: when the container was awake (intervals), and per UTC day the turns,
 * the time bridges spent on them and Browser Rendering time. SQL lives here only.
 *
 * The relay sees the gateway start and fail, but a Sandbox container falls asleep on its own,
 * `SANDBOX_SLEEP_AFTER` after its last activity, without telling anyone. So an open interval of a
 * sandbox container ends at the earliest of: its next start or stop, or its last activity plus
 * the sleep delay. A gateway at GATEWAY_URL never sleeps: its intervals end only when it stops.
 */

export type AwakeMode = "sandbox" | "url";

export interface DayUsage {
  /** `2026-11-29` (UTC) */
  day: string;
  awakeSeconds: number;
  turns: number;
  turnSeconds: number;
  browserSeconds: number;
}

interface Interval {
  id: number;
  mode: AwakeMode;
  start: number;
  last_seen: number;
  end: number | null;
}

const DAY_MS = 86_400_000;
/** How long the ledger keeps anything. */
const KEEP_MS = 400 * DAY_MS;

export class UsageStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS awake (
      id INTEGER PRIMARY KEY AUTOINCREMENT, mode TEXT NOT NULL, start INTEGER NOT NULL,
      last_seen INTEGER NOT NULL, end INTEGER)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS daily (
      day TEXT PRIMARY KEY, turns INTEGER NOT NULL DEFAULT 0, turn_ms INTEGER NOT NULL DEFAULT 0,
      browser_ms INTEGER NOT NULL DEFAULT 0)`);
  }

  /** The gateway started or answered (`awake`), or stopped or failed (`asleep`), at `at`. */
  phase(change: "starting" | "awake" | "asleep", mode: AwakeMode, at: number, sleepAfterMs: number): void {
    const open = this.open();
    if (change === "asleep") {
      if (open) this.close(open, at, sleepAfterMs);
      return;
    }
    if (open && change === "starting") {
      // A new start while one was open: the container slept (or died) unseen in between.
      this.close(open, at, sleepAfterMs);
    } else if (open) {
      this.seen(at);
      return;
    }
    this.sql.exec("INSERT INTO awake (mode, start, last_seen) VALUES (?, ?, ?)", mode, at, at);
    this.sql.exec("DELETE FROM awake WHERE end IS NOT NULL AND end < ?", at - KEEP_MS);
  }

  /** The container did something at `at` (it is awake at least until then). */
  seen(at: number): void {
    this.sql.exec("UPDATE awake SET last_seen = MAX(last_seen, ?) WHERE end IS NULL", at);
  }

  turn(at: number, durationMs: number): void {
    this.sql.exec(
      "INSERT INTO daily (day, turns, turn_ms) VALUES (?, 1, ?) ON CONFLICT(day) DO UPDATE SET turns = turns + 1, turn_ms = turn_ms + excluded.turn_ms",
      dayOf(at),
      Math.max(0, Math.round(durationMs)),
    );
  }

  browser(at: number, durationMs: number): void {
    this.sql.exec(
      "INSERT INTO daily (day, browser_ms) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET browser_ms = browser_ms + excluded.browser_ms",
      dayOf(at),
      Math.max(0, Math.round(durationMs)),
    );
  }

  /** Awake intervals as [start, end) overlapping [from, to), an open one ended as it must have by `now`. */
  intervals(from: number, to: number, now: number, sleepAfterMs: number): [number, number][] {
    return this.sql
      .exec<Interval & Record<string, SqlStorageValue>>("SELECT * FROM awake WHERE start < ? AND (end IS NULL OR end > ?) ORDER BY start", to, from)
      .toArray()
      .map((row): [number, number] => [row.start, row.end ?? openEnd(row, now, sleepAfterMs)])
      .map(([start, end]): [number, number] => [Math.max(start, from), Math.min(end, to)])
      .filter(([start, end]) => end > start);
  }

  /** Usage per UTC day for the `days` days up to and including today, oldest first. */
  days(days: number, now: number, sleepAfterMs: number): DayUsage[] {
    const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
    const from = today - (days - 1) * DAY_MS;
    const result = new Map<string, DayUsage>();
    for (let at = from; at <= today; at += DAY_MS) {
      const day = dayOf(at);
      result.set(day, { day, awakeSeconds: 0, turns: 0, turnSeconds: 0, browserSeconds: 0 });
    }
    for (const [start, end] of this.intervals(from, today + DAY_MS, now, sleepAfterMs)) {
      for (let dayStart = start - ((start - from) % DAY_MS); dayStart < end; dayStart += DAY_MS) {
        const entry = result.get(dayOf(dayStart));
        if (entry) entry.awakeSeconds += (Math.min(end, dayStart + DAY_MS) - Math.max(start, dayStart)) / 1000;
      }
    }
    const rows = this.sql
      .exec<{ day: string; turns: number; turn_ms: number; browser_ms: number }>("SELECT * FROM daily WHERE day >= ?", dayOf(from))
      .toArray();
    for (const row of rows) {
      const entry = result.get(row.day);
      if (!entry) continue;
      entry.turns = row.turns;
      entry.turnSeconds = row.turn_ms / 1000;
      entry.browserSeconds = row.browser_ms / 1000;
    }
    return [...result.values()];
  }

  private open(): Interval | undefined {
    return this.sql.exec<Interval & Record<string, SqlStorageValue>>("SELECT * FROM awake WHERE end IS NULL ORDER BY id DESC LIMIT 1").toArray()[0];
  }

  private close(open: Interval, at: number, sleepAfterMs: number): void {
    this.sql.exec("UPDATE awake SET end = ? WHERE id = ?", Math.max(open.start, Math.min(at, openEnd(open, at, sleepAfterMs))), open.id);
  }
}

/** Where an open interval ends, seen from `now`: a sandbox container sleeps after its last activity. */
function openEnd(row: Pick<Interval, "mode" | "last_seen">, now: number, sleepAfterMs: number): number {
  return row.mode === "sandbox" ? Math.min(now, row.last_seen + sleepAfterMs) : now;
}

export function dayOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}
