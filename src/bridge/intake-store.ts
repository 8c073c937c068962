/**
 * The intake's SQLite: messages acknowledged to their platform and not yet handed to their
 * conversation's bridge, in arrival order, and the delivery keys seen lately (so that a
 * platform's retry is recognised before it is stored twice).
 */
import type { InboundMessage } from "../adapters/types";

/** How long delivery keys are remembered here. The bridge keeps them longer; this is the cheap first check. */
const SEEN_TTL_MS = 24 * 3600 * 1000;

/** A message as the intake takes it: what it reads, and the rest as JSON it stores without reading. */
export interface StoredMessage {
  conversation: string;
  dedupeKeys: string[];
  /** The whole InboundMessage, serialised. */
  json: string;
}

/** The form the intake takes: serialised once, on the Worker's side (a string crosses to the object cheaply). */
export function storedMessage(message: InboundMessage): StoredMessage {
  return { conversation: message.conversation, dedupeKeys: message.dedupeKeys, json: JSON.stringify(message) };
}

export interface Pending {
  seq: number;
  conversation: string;
  message: InboundMessage;
  attempts: number;
  notBefore: number;
}

export class IntakeStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS pending (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      conversation TEXT NOT NULL,
      message TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before INTEGER NOT NULL DEFAULT 0,
      error TEXT
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS pending_by_conversation ON pending (conversation, seq)");
    sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL)");
    sql.exec("CREATE INDEX IF NOT EXISTS seen_by_age ON seen (at)");
  }

  /** Store `message` unless one of its delivery keys was seen. True when it was stored. */
  accept(message: StoredMessage, now: number): boolean {
    const keys = message.dedupeKeys;
    if (keys.length > 0) {
      // One statement remembers every key (so that a redelivery under the other one dedupes too);
      // a key that was already there means this delivery was seen.
      const inserted = this.sql
        .exec(`INSERT OR IGNORE INTO seen (key, at) VALUES ${keys.map(() => "(?, ?)").join(", ")} RETURNING key`, ...keys.flatMap((key) => [key, now]))
        .toArray().length;
      if (inserted < new Set(keys).size) return false;
    }
    this.sql.exec("INSERT INTO pending (conversation, message) VALUES (?, ?)", message.conversation, message.json);
    return true;
  }

  /**
   * The oldest `limit` messages that may go at `now`, in arrival order: a conversation whose first
   * message waits for a retry waits as a whole, and never holds back the others.
   */
  due(now: number, limit: number): Pending[] {
    return this.sql
      .exec<{ seq: number; conversation: string; message: string; attempts: number; not_before: number }>(
        `SELECT seq, conversation, message, attempts, not_before FROM pending
         WHERE conversation NOT IN (SELECT conversation FROM pending WHERE not_before > ?)
         ORDER BY seq LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((row) => ({
        seq: row.seq,
        conversation: row.conversation,
        message: JSON.parse(row.message) as InboundMessage,
        attempts: row.attempts,
        notBefore: row.not_before,
      }));
  }

  remove(seq: number): void {
    this.sql.exec("DELETE FROM pending WHERE seq = ?", seq);
  }

  /** A hand-over failed: try this message again after `notBefore`; its conversation waits behind it. */
  postpone(seq: number, notBefore: number, error: string): void {
    this.sql.exec("UPDATE pending SET attempts = attempts + 1, not_before = ?, error = ? WHERE seq = ?", notBefore, error.slice(0, 500), seq);
  }

  /**
   * When the next hand-over is due: the earliest time at which some conversation may go on (only
   * a conversation's first message is ever postponed; the rest wait behind it). Null when empty.
   */
  nextDue(): number | null {
    return this.sql
      .exec<{ due: number | null }>("SELECT MIN(due) AS due FROM (SELECT MAX(not_before) AS due FROM pending GROUP BY conversation)")
      .one().due;
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
  }

  forgetOldKeys(now: number): void {
    this.sql.exec("DELETE FROM seen WHERE at < ?", now - SEEN_TTL_MS);
  }
}
