/**
 * The intake: where a webhook's message is stored before the platform is answered.
 *
 * The acknowledgement waits for one write in a warm Durable Object and nothing else. A fixed set
 * of intake shards (a conversation always maps to the same one) takes the messages; each shard's
 * alarm then asks the policy whether they may reach the agent, in one call for the batch, and
 * hands the admitted ones to their conversation's bridge in arrival order. A refused message gets
 * its notice from here and never reaches a bridge, the gateway or the container.
 *
 * Why not store straight into the bridge: a bridge is one Durable Object per conversation, and on
 * Slack every channel mention starts a new thread, so each would create a new object (and its
 * SQLite database) before the ack; the policy check, one object for the whole deployment, would
 * be a second call in series. Both now happen after the ack (bench/README.md has the numbers).
 */
import { DurableObject } from "cloudflare:workers";
import { adapterFor } from "../adapters";
import type { InboundMessage } from "../adapters/types";
import type { Env } from "../env";
import { type Admission, policy } from "../policy/policy-object";
import { conversation } from "./conversation-object";
import { type Pending, IntakeStore, type StoredMessage } from "./intake-store";

export { storedMessage } from "./intake-store";

/** Intake shards. More spread the load over more objects; changing it only moves where new messages wait. */
export const INTAKE_SHARDS = 16;
/** Messages handed over per alarm run; more wait for the next run, which follows at once. */
export const INTAKE_BATCH = 100;
/** Hand-over tries before a message is given up (with the backoff below, about half an hour). */
export const MAX_HANDOVER_ATTEMPTS = 10;
/** How long a run waits for its refusal notices after the hand-over (they go on after it). */
const NOTICE_WAIT_MS = 5_000;
/** How often a shard drops delivery keys it no longer needs. */
const SWEEP_EVERY_MS = 10 * 60_000;
export const handoverDelayMs = (attempt: number) => Math.min(500 * 2 ** attempt, 5 * 60_000);

/** What draining needs from the world: the policy, the bridges and the platforms. */
export interface HandOver {
  admit(messages: InboundMessage[]): Promise<Admission[]>;
  forward(message: InboundMessage): Promise<void>;
  notify(message: InboundMessage, text: string, kind: "info" | "error"): Promise<void>;
}

export class IntakeObject extends DurableObject<Env> {
  private readonly store: IntakeStore;
  /** When the alarm is set for, as far as this instance knows (undefined: not read yet). */
  private wake: number | null | undefined;
  private draining = false;
  /** Alarm runs in a row that failed as a whole (the policy unreachable, say). */
  private failures = 0;
  private sweptAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new IntakeStore(ctx.storage.sql);
  }

  /**
   * Store a message for its bridge. Resolves once it is durable; false for a redelivery. The
   * caller serialises it (`storedMessage`): a string crosses to the object more cheaply than the
   * object itself, and is stored as it is.
   */
  async accept(message: StoredMessage): Promise<boolean> {
    const stored = this.store.accept(message, Date.now());
    if (stored && !this.draining) await this.wakeAt(Date.now());
    return stored;
  }

  /** Messages waiting for their bridge, for status output and tests. */
  async waiting(): Promise<number> {
    return this.store.size();
  }

  override async alarm(): Promise<void> {
    this.draining = true;
    this.wake = null;
    let notBefore = 0;
    try {
      await drain(this.store, handOver(this.env), Date.now());
      this.failures = 0;
      if (Date.now() - this.sweptAt > SWEEP_EVERY_MS) {
        this.store.forgetOldKeys(Date.now());
        this.sweptAt = Date.now();
      }
    } catch (error) {
      this.failures += 1;
      notBefore = Date.now() + handoverDelayMs(this.failures);
      warn("hand-over failed, will retry", error);
    } finally {
      this.draining = false;
      // Messages that arrived while draining, a batch left over, or a postponed hand-over.
      const due = this.store.nextDue();
      if (due !== null) await this.wakeAt(Math.max(due, Date.now(), notBefore));
    }
  }

  private async wakeAt(at: number): Promise<void> {
    if (this.wake === undefined) this.wake = await this.ctx.storage.getAlarm();
    if (this.wake !== null && this.wake <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.wake = at;
  }
}

/**
 * Hand the oldest waiting messages over: one policy call for all of them, then each admitted one
 * to its bridge (conversations in parallel, each in order; a failure holds back the rest of its
 * conversation) and each refused one answered with its notice. Notices don't hold up the
 * hand-over: a rate-limited platform (strangers can make many) must not delay the admitted. They
 * get `noticeWaitMs` after the hand-over to finish in this run, and go on without it after that.
 */
export async function drain(store: IntakeStore, world: HandOver, now: number, noticeWaitMs = NOTICE_WAIT_MS): Promise<void> {
  const items = store.due(now, INTAKE_BATCH);
  if (items.length === 0) return;
  const conversations = new Map<string, Pending[]>();
  for (const item of items) {
    const line = conversations.get(item.conversation) ?? [];
    line.push(item);
    conversations.set(item.conversation, line);
  }
  const admissions = await world.admit(items.map((item) => item.message));
  const decision = new Map(items.map((item, index) => [item.seq, admissions[index]!]));
  const notices: Promise<void>[] = [];
  const notify = (item: Pending, text: string, kind: "info" | "error") =>
    void notices.push(world.notify(item.message, text, kind).catch((error) => warn(`notice to ${item.conversation} failed`, error)));
  await Promise.all([...conversations.values()].map((line) => handOverLine(store, world, line, decision, now, notify)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(notices), new Promise((resolve) => (timer = setTimeout(resolve, noticeWaitMs)))]);
  clearTimeout(timer);
}

async function handOverLine(
  store: IntakeStore,
  world: HandOver,
  line: Pending[],
  decision: Map<number, Admission>,
  now: number,
  notify: (item: Pending, text: string, kind: "info" | "error") => void,
): Promise<void> {
  for (const item of line) {
    const admission = decision.get(item.seq)!;
    if (!admission.allowed) {
      store.remove(item.seq);
      notify(item, admission.notice, "info");
      continue;
    }
    try {
      await world.forward(item.message);
      store.remove(item.seq);
    } catch (error) {
      if (item.attempts + 1 >= MAX_HANDOVER_ATTEMPTS) {
        console.error(`intake: gave up handing a message to ${item.conversation}:`, describe(error));
        store.remove(item.seq);
        notify(item, "Sorry, your message couldn't be handed to the assistant. Please send it again.", "error");
        continue;
      }
      store.postpone(item.seq, now + handoverDelayMs(item.attempts), describe(error));
      return;
    }
  }
}

function handOver(env: Env): HandOver {
  return {
    admit: (messages) =>
      policy(env).admitMany(
        messages.map(({ sender, direct, conversation: key, reply }) => ({ sender, direct, conversation: key, reply })),
      ),
    forward: async (message) => {
      await conversation(env, message.conversation).receive(message);
    },
    notify: (message, text, kind) => adapterFor(message.reply.platform).openReply(env, message.reply).postNotice(text, kind),
  };
}

/** The intake shard for a conversation (FNV-1a of its key). */
export function intake(env: Env, conversationKey: string) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < conversationKey.length; i++) hash = Math.imul(hash ^ conversationKey.charCodeAt(i), 0x01000193);
  return env.INTAKE.get(env.INTAKE.idFromName(`shard-${(hash >>> 0) % INTAKE_SHARDS}`));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function warn(what: string, error: unknown): void {
  console.warn(`intake: ${what}:`, describe(error));
}
