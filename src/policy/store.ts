/**
 * The policy object's SQLite: DM allowlist, channel allowlist, pending pairing requests, the audit
 * log, recently active conversations (for status) and relay settings. SQL lives here only.
 */
import type { ReplyTarget } from "../adapters/types";

export interface PairingRequest {
  code: string;
  /** `platform:userId` */
  sender: string;
  platform: string;
  name?: string;
  /** Where the stranger wrote from: told there when approved. */
  reply: ReplyTarget;
  createdAt: number;
  expiresAt: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  /** `slack:U123`, `access:alice@example.com`, or `relay` for the edge's own actions. */
  actor: string;
  action: string;
  detail: string;
  outcome: "ok" | "failed" | "refused";
}

export interface ListEntry {
  value: string;
  addedBy: string;
  addedAt: number;
}

/** Audit rows kept; older ones are dropped. */
const AUDIT_KEEP = 10_000;

export class PolicyStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS allowed_senders (sender TEXT PRIMARY KEY, added_by TEXT NOT NULL, added_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS allowed_channels (prefix TEXT PRIMARY KEY, added_by TEXT NOT NULL, added_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS pairing (
      code TEXT PRIMARY KEY, sender TEXT NOT NULL UNIQUE, platform TEXT NOT NULL, name TEXT,
      reply TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
      action TEXT NOT NULL, detail TEXT NOT NULL, outcome TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS conversations (key TEXT PRIMARY KEY, last_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  // ---- DM allowlist
  senderAllowed(sender: string): boolean {
    return this.sql.exec("SELECT 1 FROM allowed_senders WHERE sender = ?", sender).toArray().length > 0;
  }
  allowSender(sender: string, by: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO allowed_senders VALUES (?, ?, ?)", sender, by, now).rowsWritten > 0;
  }
  removeSender(sender: string): boolean {
    return this.sql.exec("DELETE FROM allowed_senders WHERE sender = ?", sender).rowsWritten > 0;
  }
  senders(): ListEntry[] {
    return this.sql
      .exec<{ sender: string; added_by: string; added_at: number }>("SELECT * FROM allowed_senders ORDER BY added_at")
      .toArray()
      .map((row) => ({ value: row.sender, addedBy: row.added_by, addedAt: row.added_at }));
  }

  // ---- channel allowlist (conversation-key prefixes; empty means every channel)
  channels(): ListEntry[] {
    return this.sql
      .exec<{ prefix: string; added_by: string; added_at: number }>("SELECT * FROM allowed_channels ORDER BY added_at")
      .toArray()
      .map((row) => ({ value: row.prefix, addedBy: row.added_by, addedAt: row.added_at }));
  }
  allowChannel(prefix: string, by: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO allowed_channels VALUES (?, ?, ?)", prefix, by, now).rowsWritten > 0;
  }
  removeChannel(prefix: string): boolean {
    return this.sql.exec("DELETE FROM allowed_channels WHERE prefix = ?", prefix).rowsWritten > 0;
  }

  // ---- pairing
  dropExpiredPairings(now: number): void {
    this.sql.exec("DELETE FROM pairing WHERE expires_at <= ?", now);
  }
  pairingForSender(sender: string): PairingRequest | undefined {
    const row = this.sql.exec<PairingRow>("SELECT * FROM pairing WHERE sender = ?", sender).toArray()[0];
    return row && toPairing(row);
  }
  pairingByCode(code: string): PairingRequest | undefined {
    const row = this.sql.exec<PairingRow>("SELECT * FROM pairing WHERE code = ?", code).toArray()[0];
    return row && toPairing(row);
  }
  pendingCount(platform: string): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pairing WHERE platform = ?", platform).one().n;
  }
  pairings(): PairingRequest[] {
    return this.sql.exec<PairingRow>("SELECT * FROM pairing ORDER BY created_at").toArray().map(toPairing);
  }
  addPairing(request: PairingRequest): void {
    this.sql.exec(
      "INSERT INTO pairing VALUES (?, ?, ?, ?, ?, ?, ?)",
      request.code,
      request.sender,
      request.platform,
      request.name ?? null,
      JSON.stringify(request.reply),
      request.createdAt,
      request.expiresAt,
    );
  }
  removePairing(code: string): void {
    this.sql.exec("DELETE FROM pairing WHERE code = ?", code);
  }

  // ---- audit
  appendAudit(entry: Omit<AuditEntry, "id">): void {
    this.sql.exec(
      "INSERT INTO audit (at, actor, action, detail, outcome) VALUES (?, ?, ?, ?, ?)",
      entry.at,
      entry.actor,
      entry.action,
      entry.detail,
      entry.outcome,
    );
    this.sql.exec("DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", AUDIT_KEEP);
  }
  audit(limit: number): AuditEntry[] {
    return this.sql.exec<AuditEntry & Record<string, SqlStorageValue>>("SELECT * FROM audit ORDER BY id DESC LIMIT ?", limit).toArray();
  }

  // ---- conversations seen (for status: queued turns and latency)
  touchConversation(key: string, now: number): void {
    this.sql.exec("INSERT INTO conversations VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET last_at = excluded.last_at", key, now);
  }
  recentConversations(since: number, limit: number): string[] {
    this.sql.exec("DELETE FROM conversations WHERE last_at < ?", since);
    return this.sql
      .exec<{ key: string }>("SELECT key FROM conversations ORDER BY last_at DESC LIMIT ?", limit)
      .toArray()
      .map((row) => row.key);
  }

  // ---- settings
  setting(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = ?", key).toArray()[0]?.value;
  }
  setSetting(key: string, value: string): void {
    this.sql.exec("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }
}

type PairingRow = {
  code: string;
  sender: string;
  platform: string;
  name: string | null;
  reply: string;
  created_at: number;
  expires_at: number;
};

function toPairing(row: PairingRow): PairingRequest {
  return {
    code: row.code,
    sender: row.sender,
    platform: row.platform,
    ...(row.name ? { name: row.name } : {}),
    reply: JSON.parse(row.reply) as ReplyTarget,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
