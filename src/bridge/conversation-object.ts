/**
 * The bridge: one Durable Object per conversation. It stores each message before the platform is
 * answered, keeps turns in order (follow-ups wait in the inbox), and runs them from its alarm,
 * outside any webhook request, so a turn may take as long as the agent needs.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterFor } from "../adapters";
import type { InboundMessage } from "../adapters/types";
import type { Env } from "../env";
import { connectToGateway, gatewayTransport } from "../sandbox/connect";
import { gatewaySupervisor } from "../sandbox/supervisor";
import { recordTurn } from "../sandbox/usage-object";
import { stateKeeper } from "../sandbox/state-keeper";
import { Inbox, type Turn } from "./inbox";
import { decideStop, endStoppedTurn, type StopRequest, type StopResult, stopRefOf } from "./stop";
import { runTurn, type TurnContext, type TurnOutcome } from "./turn";

/** Tries per turn before the user is told it failed for good. */
export const MAX_ATTEMPTS = 6;
/** Wait before retry n (1-based): quick at first, then backing off. */
export const retryDelayMs = (attempt: number) => Math.min(2_000 * 2 ** (attempt - 1), 60_000);
/**
 * How long a turn waits for a gateway that isn't reachable (restarting, its container starting)
 * before the user is told it failed. Those tries don't count against MAX_ATTEMPTS: the user was
 * told the message is kept and will be answered when the agent is back.
 */
export const MAX_GATEWAY_WAIT_MS = 30 * 60_000;

/**
 * Whether a turn that asked for a retry gets one. `attempts` counts only the tries that reached
 * the gateway (a try that found it away is given back: Inbox.requeue), so a turn that waited out
 * a long restart still has its tries once the gateway is back.
 */
export function mayRetry(outcome: Extract<TurnOutcome, { kind: "retry" }>, turn: Pick<Turn, "attempts" | "startedAt">, now: number): boolean {
  if (outcome.waitingForGateway === true) return now - (turn.startedAt ?? now) < MAX_GATEWAY_WAIT_MS;
  return turn.attempts < MAX_ATTEMPTS;
}

/** Wait before the next look at a gateway that is away: a few seconds, longer the longer it has been away. */
export const gatewayWaitMs = (waitedMs: number) => Math.min(2_000 + Math.max(0, waitedMs) / 10, 15_000);

export interface Receipt {
  seq: number;
  duplicate: boolean;
}

export class ConversationObject extends DurableObject<Env> {
  private readonly inbox: Inbox;
  /** The turn this instance is running now, and how to stop it. */
  private active: { seq: number; controller: AbortController } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.inbox = new Inbox(ctx.storage.sql);
  }

  /** Store a message (or recognise a redelivery) and make sure a turn will run. */
  async receive(message: InboundMessage): Promise<Receipt> {
    const { seq, duplicate } = this.inbox.accept(message, Date.now());
    // The first turn of a conversation can start at once; otherwise an alarm is already set (the
    // running turn's, or a retry's backoff, which must not be cut short).
    if (!duplicate && (seq === 1 || (await this.ctx.storage.getAlarm()) === null)) await this.ctx.storage.setAlarm(Date.now());
    return { seq, duplicate };
  }

  /** Turns of this conversation, newest first, for status output and tests. */
  async turns(limit = 20): Promise<Turn[]> {
    return this.inbox.recent(limit);
  }

  /**
   * Stop the running turn (a stop button, or `/molt stop`). Only its asker or an admin may. The
   * stop is recorded before the run is told, so no retry or restart brings the turn back; turns
   * queued behind it stay queued.
   */
  async stop(request: StopRequest): Promise<StopResult> {
    const turn = this.inbox.next();
    const decision = decideStop(this.env, turn, request, (t) => stopRefOf(adapterFor(t.message.reply.platform), t));
    if (decision.status !== "stopped" || !turn || turn.stoppedBy) return decision;
    this.inbox.markStopped(turn.seq, request.actor, Date.now());
    if (this.active?.seq === turn.seq) this.active.controller.abort();
    // Waiting for a retry: end it now rather than at the retry.
    else await this.ctx.storage.setAlarm(Date.now());
    return decision;
  }

  override async alarm(): Promise<void> {
    const turn = this.inbox.next();
    if (!turn) return;
    if (turn.stoppedBy) {
      await endStoppedTurn(turn, this.turnContext(turn));
      this.inbox.finish(turn.seq, "stopped", Date.now(), `stopped by ${turn.stoppedBy}`);
      if (this.inbox.pending() > 0) await this.ctx.storage.setAlarm(Date.now());
      return;
    }
    this.inbox.begin(turn.seq, Date.now());
    this.inbox.forgetOldKeys(Date.now());
    const current = this.inbox.get(turn.seq)!;
    const controller = new AbortController();
    const context = { ...this.turnContext(current), signal: controller.signal };
    this.active = { seq: turn.seq, controller };
    let outcome: TurnOutcome;
    try {
      outcome = await runTurn(current, context);
    } finally {
      this.active = undefined;
    }
    const stoppedBy = this.inbox.stoppedBy(turn.seq);
    if (stoppedBy && outcome.kind !== "done") {
      // A stop that came while an attempt was failing still ends the turn: it never runs again.
      this.inbox.finish(turn.seq, "stopped", Date.now(), `stopped by ${stoppedBy}`);
    } else if (outcome.kind === "retry") {
      const now = Date.now();
      if (mayRetry(outcome, current, now)) {
        const waited = outcome.waitingForGateway === true;
        if (!waited) console.log(`bridge: ${current.message.conversation} #${turn.seq} try ${current.attempts} to be retried: ${outcome.error}`);
        this.inbox.requeue(turn.seq, outcome.error, waited);
        await this.ctx.storage.setAlarm(now + (waited ? gatewayWaitMs(now - (current.startedAt ?? now)) : retryDelayMs(current.attempts)));
        return;
      }
      console.error(`bridge: gave up on a turn after ${current.attempts} tries: ${outcome.error}`);
      const why = outcome.waitingForGateway
        ? `Sorry, the agent didn't come back within ${MAX_GATEWAY_WAIT_MS / 60_000} minutes, so your message was not answered.`
        : `Sorry, I couldn't get an answer from the agent after ${current.attempts} tries.`;
      await context.sink.postNotice(why, "error").catch(() => undefined);
      this.inbox.finish(turn.seq, "failed", Date.now(), outcome.error);
    } else {
      this.inbox.finish(turn.seq, outcome.kind, Date.now(), outcome.kind === "failed" ? outcome.error : undefined);
    }
    await recordTurn(this.env, current.startedAt ?? current.receivedAt);
    // The turn changed the agent's state (its session at least): a snapshot follows within a minute.
    if (!this.env.GATEWAY_URL) await stateKeeper(this.env).changed().catch((error) => console.error("state snapshot request:", String(error)));
    if (this.inbox.pending() > 0) await this.ctx.storage.setAlarm(Date.now());
  }

  private turnContext(turn: Turn): TurnContext {
    const env = this.env;
    const supervisor = gatewaySupervisor(env);
    const adapter = adapterFor(turn.message.reply.platform);
    return {
      inbox: this.inbox,
      sink: adapter.openReply(env, turn.message.reply),
      ...(adapter.stop ? { stop: { control: adapter.stop.openStopControl(env, turn.message.reply), ref: stopRefOf(adapter, turn) } } : {}),
      gatewayStatus: () => supervisor.status(),
      ensureGateway: () => supervisor.ensureReady(),
      reportGatewayFailure: (message) => supervisor.reportFailure(message),
      async connect() {
        const transport = gatewayTransport(env);
        return { client: await connectToGateway(env, transport), transport };
      },
      media: { bucket: env.MEDIA, token: env.GATEWAY_TOKEN, publicUrl: env.PUBLIC_URL },
    };
  }
}

export function conversation(env: Env, key: string) {
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(key));
}
