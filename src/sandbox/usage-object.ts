/**
 * The usage ledger (one per deployment): the container's awake time, turns and Browser Rendering
 * time, kept for the owner's console and `/molt status` to estimate what the agent costs. Thin:
 * SQL is in usage-store.ts. Recording never fails the caller: a lost record costs an estimate a
 * little accuracy, never a turn.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type AwakeMode, type DayUsage, UsageStore } from "./usage-store";

export type { DayUsage };

export interface UsageTotals {
  awakeSeconds: number;
  turns: number;
  turnSeconds: number;
  browserSeconds: number;
}

export class UsageObject extends DurableObject<Env> {
  private readonly store: UsageStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UsageStore(ctx.storage.sql);
  }

  async phase(change: "starting" | "awake" | "asleep", mode: AwakeMode, at: number): Promise<void> {
    this.store.phase(change, mode, at, sleepAfterMs(this.env));
  }

  async turn(at: number, durationMs: number): Promise<void> {
    this.store.turn(at, durationMs);
    this.store.seen(at);
  }

  async browser(at: number, durationMs: number): Promise<void> {
    this.store.browser(at, durationMs);
  }

  /** Per UTC day, oldest first, today included. */
  async days(days: number, now = Date.now()): Promise<DayUsage[]> {
    return this.store.days(Math.min(Math.max(1, days), 400), now, sleepAfterMs(this.env));
  }

  /** Totals since the first of this month (UTC). */
  async month(now = Date.now()): Promise<UsageTotals> {
    const dayOfMonth = new Date(now).getUTCDate();
    const days = this.store.days(dayOfMonth, now, sleepAfterMs(this.env));
    return {
      awakeSeconds: days.reduce((total, day) => total + day.awakeSeconds, 0),
      turns: days.reduce((total, day) => total + day.turns, 0),
      turnSeconds: days.reduce((total, day) => total + day.turnSeconds, 0),
      browserSeconds: days.reduce((total, day) => total + day.browserSeconds, 0),
    };
  }
}

/** The ledger of this deployment. */
export function usageLedger(env: Env) {
  return env.USAGE.get(env.USAGE.idFromName("default"));
}

/** The gateway's phase changed (called by the supervisor each time it saves its status). */
export async function recordGatewayPhase(env: Env, status: { phase: string; mode: AwakeMode }): Promise<void> {
  const change = status.phase === "starting" ? "starting" : status.phase === "ready" ? "awake" : "asleep";
  await quietly(usageLedger(env).phase(change, status.mode, Date.now()));
}

/** A turn finished (in whatever way): it counts, and the container was in use until now. */
export async function recordTurn(env: Env, receivedAt: number, now = Date.now()): Promise<void> {
  await quietly(usageLedger(env).turn(now, now - receivedAt));
}

/** A Browser Rendering session of `durationMs` ended. For the browser link, once there is one. */
export async function recordBrowserSession(env: Env, durationMs: number, now = Date.now()): Promise<void> {
  await quietly(usageLedger(env).browser(now, durationMs));
}

async function quietly(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    console.warn("usage record lost:", error instanceof Error ? error.message : String(error));
  }
}

/** `SANDBOX_SLEEP_AFTER` in ms (`30s`, `10m`, `1h`; a bare number is seconds); 10 min by default, as the Sandbox. */
export function sleepAfterMs(env: Pick<Env, "SANDBOX_SLEEP_AFTER">): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(env.SANDBOX_SLEEP_AFTER ?? "");
  if (!match) return 600_000;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s").toLowerCase() as "s"];
  return Number(match[1]) * unit;
}
