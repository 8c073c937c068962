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
import { stateKeeper } from "../sandbox/state-keeper";
import { Inbox, type Turn } from "./inbox";
import { runTurn, type TurnContext } from "./turn";

/** Tries per turn before the user is told it failed for good. */
export const MAX_ATTEMPTS = 6;
/** Wait before retry n (1-based): quick at first, then backing off. */
export const retryDelayMs = (attempt: number) => Math.min(2_000 * 2 ** (attempt - 1), 60_000);

export interface Receipt {
  seq: number;
  duplicate: boolean;
}

export class ConversationObject extends DurableObject<Env> {
  private readonly inbox: Inbox;

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

  override async alarm(): Promise<void> {
    const turn = this.inbox.next();
    if (!turn) return;
    this.inbox.begin(turn.seq, Date.now());
    this.inbox.forgetOldKeys(Date.now());
    const current = this.inbox.get(turn.seq)!;
    const context = this.turnContext(current);
    const outcome = await runTurn(current, context);
    if (outcome.kind === "retry") {
      if (current.attempts < MAX_ATTEMPTS) {
        this.inbox.requeue(turn.seq, outcome.error);
        await this.ctx.storage.setAlarm(Date.now() + retryDelayMs(current.attempts));
        return;
      }
      await context.sink.postNotice(`Sorry, I couldn't get an answer from the agent after ${current.attempts} tries.`, "error").catch(() => undefined);
      this.inbox.finish(turn.seq, "failed", Date.now(), outcome.error);
    } else {
      this.inbox.finish(turn.seq, outcome.kind, Date.now(), outcome.kind === "failed" ? outcome.error : undefined);
    }
    // The turn changed the agent's state (its session at least): a snapshot follows within a minute.
    if (!this.env.GATEWAY_URL) await stateKeeper(this.env).changed().catch((error) => console.error("state snapshot request:", String(error)));
    if (this.inbox.pending() > 0) await this.ctx.storage.setAlarm(Date.now());
  }

  private turnContext(turn: Turn): TurnContext {
    const env = this.env;
    const supervisor = gatewaySupervisor(env);
    return {
      inbox: this.inbox,
      sink: adapterFor(turn.message.reply.platform).openReply(env, turn.message.reply),
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
