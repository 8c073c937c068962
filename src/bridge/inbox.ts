/**
 * A conversation's durable inbox in the bridge's SQLite: every accepted message, in order, with
 * where its turn stands. A message is stored before the platform is acknowledged; the keys it
 * arrived under are remembered so that a redelivery is recognised.
 */
import type { InboundMessage } from "../adapters/types";

export type TurnState = "queued" | "running" | "done" | "failed" | "stopped";

export interface Turn {
  seq: number;
  message: InboundMessage;
  state: TurnState;
  attempts: number;
  receivedAt: number;
  /** The final text reached the platform: never deliver it again. */
  delivered: boolean;
  /** Artifact ids already posted to the platform. */
  mediaPosted: string[];
  /** The user was already told that this turn is waiting or retrying. */
  noticed: boolean;
  runId?: string;
  /** Who stopped this turn (`platform:user`): once set, nothing more is sent or run for it. */
  stoppedBy?: string;
  /** Times the message was sent under a new idempotency key (see `sendTurn` in recovery.ts). */
  resends: number;
  error?: string;
  startedAt?: number;
  finishedAt?: number;
}

/** How long delivery keys are remembered (platforms retry for minutes to hours). */
const SEEN_TTL_MS = 7 * 24 * 3600 * 1000;

export class Inbox {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS turns (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      message TEXT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      received_at INTEGER NOT NULL,
      delivered INTEGER NOT NULL DEFAULT 0,
      media_posted TEXT NOT NULL DEFAULT '[]',
      noticed INTEGER NOT NULL DEFAULT 0,
      run_id TEXT,
      error TEXT,
      started_at INTEGER,
      finished_at INTEGER
    )`);
    // Stops live in a table of their own, so that bridges made before stops existed need no migration.
    sql.exec(`CREATE TABLE IF NOT EXISTS stops (seq INTEGER PRIMARY KEY, actor TEXT NOT NULL, at INTEGER NOT NULL)`);
    // Likewise the turns sent again under a new idempotency key.
    sql.exec(`CREATE TABLE IF NOT EXISTS resends (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL)`);
  }

  /** Store `message` unless one of its keys was seen; returns its turn number and whether it is new. */
  accept(message: InboundMessage, now: number): { seq: number; duplicate: boolean } {
    const keys = message.dedupeKeys;
    const hit =
      keys.length > 0
        ? this.sql.exec<{ seq: number }>(`SELECT seq FROM seen WHERE key IN (${keys.map(() => "?").join(", ")}) LIMIT 1`, ...keys).toArray()[0]
        : undefined;
    const seq =
      hit?.seq ??
      this.sql
        .exec<{ seq: number }>("INSERT INTO turns (message, state, received_at) VALUES (?, 'queued', ?) RETURNING seq", JSON.stringify(message), now)
        .one().seq;
    // All its keys are remembered, so that a redelivery under either one dedupes later.
    if (keys.length > 0) {
      this.sql.exec(`INSERT OR IGNORE INTO seen (key, seq, at) VALUES ${keys.map(() => "(?, ?, ?)").join(", ")}`, ...keys.flatMap((key) => [key, seq, now]));
    }
    return { seq, duplicate: hit !== undefined };
  }

  /** Drop delivery keys older than platforms retry for (done off the acknowledgement path). */
  forgetOldKeys(now: number): void {
    this.sql.exec("DELETE FROM seen WHERE at < ?", now - SEEN_TTL_MS);
  }

  /** The turn to work on: an interrupted one first, then the oldest queued. */
  next(): Turn | undefined {
    const row = this.sql
      .exec<TurnRow>(`${SELECT_TURNS} WHERE t.state IN ('running', 'queued') ORDER BY t.state = 'running' DESC, t.seq ASC LIMIT 1`)
      .toArray()[0];
    return row && toTurn(row);
  }

  get(seq: number): Turn | undefined {
    const row = this.sql.exec<TurnRow>(`${SELECT_TURNS} WHERE t.seq = ?`, seq).toArray()[0];
    return row && toTurn(row);
  }

  /** Record that `by` stopped the turn. The record outlives retries and restarts of the bridge. */
  markStopped(seq: number, by: string, now: number): void {
    this.sql.exec("INSERT OR IGNORE INTO stops (seq, actor, at) VALUES (?, ?, ?)", seq, by, now);
  }

  /** Who stopped the turn, if anyone did. */
  stoppedBy(seq: number): string | undefined {
    return this.sql.exec<{ actor: string }>("SELECT actor FROM stops WHERE seq = ?", seq).toArray()[0]?.actor;
  }

  /** Turns waiting behind the current one. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM turns WHERE state IN ('running', 'queued')").one().n;
  }

  begin(seq: number, now: number): void {
    this.sql.exec("UPDATE turns SET state = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE seq = ?", now, seq);
  }

  /** Remember the gateway's run for this turn (artifacts are listed by it after a restart). */
  setRun(seq: number, runId: string): void {
    this.sql.exec("UPDATE turns SET run_id = ? WHERE seq = ?", runId, seq);
  }

  /** The turn's message goes out under a new idempotency key from now on; returns how many it had. */
  renewKey(seq: number): number {
    return this.sql.exec<{ n: number }>("INSERT INTO resends (seq, n) VALUES (?, 1) ON CONFLICT (seq) DO UPDATE SET n = n + 1 RETURNING n", seq).one().n;
  }

  markDelivered(seq: number): void {
    this.sql.exec("UPDATE turns SET delivered = 1 WHERE seq = ?", seq);
  }

  markMediaPosted(seq: number, artifactId: string): void {
    const turn = this.get(seq);
    if (!turn || turn.mediaPosted.includes(artifactId)) return;
    this.sql.exec("UPDATE turns SET media_posted = ? WHERE seq = ?", JSON.stringify([...turn.mediaPosted, artifactId]), seq);
  }

  markNoticed(seq: number): void {
    this.sql.exec("UPDATE turns SET noticed = 1 WHERE seq = ?", seq);
  }

  finish(seq: number, state: "done" | "failed" | "stopped", now: number, error?: string): void {
    this.sql.exec("UPDATE turns SET state = ?, finished_at = ?, error = ? WHERE seq = ?", state, now, error ?? null, seq);
  }

  /**
   * The turn goes back in the queue. `waited`: this try only found the gateway away, so it is not
   * counted: `attempts` counts the tries that reached the gateway (a retry after one of those must
   * look for a reply the gateway may have finished on its own).
   */
  requeue(seq: number, error: string, waited = false): void {
    this.sql.exec("UPDATE turns SET state = 'running', error = ?, attempts = attempts - ? WHERE seq = ?", error, waited ? 1 : 0, seq);
  }

  /** Recent turns, newest first, for status output. */
  recent(limit: number): Turn[] {
    return this.sql.exec<TurnRow>(`${SELECT_TURNS} ORDER BY t.seq DESC LIMIT ?`, limit).toArray().map(toTurn);
  }
}

const SELECT_TURNS =
  "SELECT t.*, s.actor AS stopped_by, COALESCE(r.n, 0) AS resends FROM turns t LEFT JOIN stops s ON s.seq = t.seq LEFT JOIN resends r ON r.seq = t.seq";

type TurnRow = {
  seq: number;
  message: string;
  state: TurnState;
  attempts: number;
  received_at: number;
  delivered: number;
  media_posted: string;
  noticed: number;
  run_id: string | null;
  stopped_by: string | null;
  resends: number;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
};

function toTurn(row: TurnRow): Turn {
  return {
    seq: row.seq,
    message: JSON.parse(row.message) as InboundMessage,
    state: row.state,
    attempts: row.attempts,
    receivedAt: row.received_at,
    delivered: row.delivered === 1,
    mediaPosted: JSON.parse(row.media_posted) as string[],
    noticed: row.noticed === 1,
    resends: row.resends,
    ...(row.run_id ? { runId: row.run_id } : {}),
    ...(row.stopped_by ? { stoppedBy: row.stopped_by } : {}),
    ...(row.error ? { error: row.error } : {}),
    ...(row.started_at ? { startedAt: row.started_at } : {}),
    ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
  };
}
