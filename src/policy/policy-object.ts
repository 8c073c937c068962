/**
 * The relay's policy Durable Object (one per deployment): DM policy decisions, pairing requests,
 * allowlists, the audit log and the conversations seen lately. Thin on purpose: SQL is in
 * store.ts, decisions in admission.ts.
 */
import { DurableObject } from "cloudflare:workers";
import type { ReplyTarget } from "../adapters/types";
import type { Env } from "../env";
import { admit, canonicalId, type Admission, type AdmissionRequest } from "./admission";
import { normalisePairingCode } from "./codes";
import { redactSecrets } from "./redact";
import { type AuditEntry, type ListEntry, type PairingRequest, PolicyStore } from "./store";

export type { Admission, AdmissionRequest, AuditEntry, ListEntry, PairingRequest };

/** A pairing request as callers see it: where to reply stays inside. */
export type PairingSummary = Omit<PairingRequest, "reply">;

/** An approved request, and where its sender asked: the approver tells them there. */
export type PairingApproval = PairingSummary & { reply: ReplyTarget };

/** Conversations older than this don't count towards status. */
const RECENT_MS = 24 * 3600 * 1000;

export class PolicyObject extends DurableObject<Env> {
  private readonly store: PolicyStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PolicyStore(ctx.storage.sql);
  }

  /** May this message go to the agent? Allowed conversations are remembered for status. */
  async admit(request: AdmissionRequest): Promise<Admission> {
    return this.decide(request, Date.now());
  }

  /** `admit` for a batch, in one call and one write (the intake asks for each batch it hands over). */
  async admitMany(requests: AdmissionRequest[]): Promise<Admission[]> {
    return requests.map((request) => this.decide(request, Date.now()));
  }

  async pairings(): Promise<PairingSummary[]> {
    this.store.dropExpiredPairings(Date.now());
    return this.store.pairings().map(summary);
  }

  /**
   * Approve a pending code: its sender joins the DM allowlist. Returns where they asked, for the
   * caller to tell them (the policy decides; it doesn't talk to platforms). Undefined when no
   * such code is pending.
   */
  async approvePairing(code: string, by: string): Promise<PairingApproval | undefined> {
    const request = this.pendingByCode(code);
    if (!request) return undefined;
    this.store.allowSender(request.sender, by, Date.now());
    this.store.removePairing(request.code);
    return { ...summary(request), reply: request.reply };
  }

  async denyPairing(code: string): Promise<PairingSummary | undefined> {
    const request = this.pendingByCode(code);
    if (request) this.store.removePairing(request.code);
    return request && summary(request);
  }

  async allowSender(sender: string, by: string): Promise<boolean> {
    const id = canonicalId(sender);
    const added = this.store.allowSender(id, by, Date.now());
    // Allowed now: a pending request of theirs is moot.
    const pending = this.store.pairingForSender(id);
    if (pending) this.store.removePairing(pending.code);
    return added;
  }

  async removeSender(sender: string): Promise<boolean> {
    return this.store.removeSender(canonicalId(sender));
  }

  async allowChannel(prefix: string, by: string): Promise<boolean> {
    return this.store.allowChannel(prefix, by, Date.now());
  }

  async removeChannel(prefix: string): Promise<boolean> {
    return this.store.removeChannel(prefix);
  }

  async lists(): Promise<{ senders: ListEntry[]; channels: ListEntry[] }> {
    return { senders: this.store.senders(), channels: this.store.channels() };
  }

  /** Append to the audit log. Secrets are removed here, at the storage boundary, whatever the caller sent. */
  async record(entry: Omit<AuditEntry, "id" | "at">): Promise<void> {
    const clean = (text: string) => redactSecrets(text, this.env).slice(0, 500);
    this.store.appendAudit({
      at: Date.now(),
      actor: clean(entry.actor),
      action: clean(entry.action),
      detail: clean(entry.detail),
      outcome: entry.outcome,
    });
  }

  async audit(limit = 50): Promise<AuditEntry[]> {
    return this.store.audit(Math.min(Math.max(1, limit), 500));
  }

  /** Conversations that had allowed messages in the last day, most recent first. */
  async recentConversations(limit = 20): Promise<string[]> {
    return this.store.recentConversations(Date.now() - RECENT_MS, limit);
  }

  async setting(key: string): Promise<string | undefined> {
    return this.store.setting(key);
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.store.setSetting(key, value);
  }

  private decide(request: AdmissionRequest, now: number): Admission {
    const admission = admit(this.store, this.env, request, now);
    if (admission.allowed) this.store.touchConversation(request.conversation, now);
    return admission;
  }

  private pendingByCode(code: string): PairingRequest | undefined {
    this.store.dropExpiredPairings(Date.now());
    return this.store.pairingByCode(normalisePairingCode(code));
  }
}

function summary({ reply: _reply, ...rest }: PairingRequest): PairingSummary {
  return rest;
}

/** The policy object of this deployment. */
export function policy(env: Env) {
  return env.POLICY.get(env.POLICY.idFromName("default"));
}
