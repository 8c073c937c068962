/**
 * Queued turns and turn latency across conversations, for `status`. The policy object remembers
 * which conversations had messages lately; their bridges already keep every turn's timings
 * (`turns()`), so nothing new is recorded on the turn path.
 */
import { conversation } from "../bridge/conversation-object";
import type { Turn } from "../bridge/inbox";
import type { Env } from "../env";
import { policy } from "../policy/policy-object";

export interface TurnStats {
  /** Turns waiting or running now. */
  queued: number;
  /** Finished turns measured (received → answered), over the last day. */
  samples: number;
  p50Ms?: number;
  p95Ms?: number;
}

const CONVERSATIONS = 20;
const TURNS_EACH = 50;
const WINDOW_MS = 24 * 3600 * 1000;

export async function turnStats(env: Env, now = Date.now()): Promise<TurnStats> {
  const keys = await policy(env).recentConversations(CONVERSATIONS);
  // Typed by hand: the RPC type of Turn (recursive Json inside) is too deep for the compiler.
  const bridge = (key: string) => conversation(env, key) as unknown as { turns(limit: number): Promise<Turn[]> };
  const lists = await Promise.all(keys.map((key) => bridge(key).turns(TURNS_EACH).catch((): Turn[] => [])));
  return summarise(lists.flat(), now);
}

export function summarise(turns: Pick<Turn, "state" | "receivedAt" | "finishedAt">[], now: number): TurnStats {
  const queued = turns.filter((turn) => turn.state === "queued" || turn.state === "running").length;
  const latencies = turns
    .filter((turn) => turn.state === "done" && turn.finishedAt !== undefined && turn.finishedAt > now - WINDOW_MS)
    .map((turn) => turn.finishedAt! - turn.receivedAt)
    .sort((a, b) => a - b);
  if (latencies.length === 0) return { queued, samples: 0 };
  return { queued, samples: latencies.length, p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95) };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
