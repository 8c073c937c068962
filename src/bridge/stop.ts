/**
 * Stopping a running turn: who may, which run a stop means, and ending a turn that was stopped
 * while it waited for a retry. The conversation object records the stop and signals the running
 * turn (turn.ts aborts the gateway's run and ends the answer).
 */
import type { Adapter } from "../adapters/types";
import type { Env } from "../env";
import { chatAbort } from "../gateway/methods";
import { canonicalId, isAdmin } from "../policy/admission";
import type { Turn } from "./inbox";
import type { TurnContext } from "./turn";

export interface StopRequest {
  /** Who asks (`platform:user`). */
  actor: string;
  /** The run the pressed control was made for; absent (`/molt stop`): whatever runs now. */
  ref?: string;
}

export interface StopResult {
  /** stopped: it is (or already was) stopped; refused: not the asker nor an admin; idle: nothing to stop. */
  status: "stopped" | "refused" | "idle";
  text: string;
}

/** The ref a platform's stop event carries for this turn. */
export function stopRefOf(adapter: Adapter, turn: Pick<Turn, "seq" | "message">): string {
  return adapter.stop?.stopRef(turn.message.reply, turn.seq) ?? String(turn.seq);
}

/** What a stop request means for the turn at the head of the inbox (pure: nothing is changed). */
export function decideStop(env: Pick<Env, "ADMINS">, turn: Turn | undefined, request: StopRequest, refOf = defaultRef): StopResult {
  const finished: StopResult = { status: "idle", text: "Nothing to stop: that answer is already finished." };
  if (!turn || turn.state !== "running") return request.ref ? finished : { status: "idle", text: "Nothing is running in this conversation." };
  if (request.ref !== undefined && request.ref !== refOf(turn)) return finished;
  if (turn.delivered) return finished;
  const asker = canonicalId(turn.message.sender.id);
  if (canonicalId(request.actor) !== asker && !isAdmin(env, request.actor)) {
    return { status: "refused", text: "Only the person who asked, or an admin, can stop this answer." };
  }
  if (turn.stoppedBy) return { status: "stopped", text: "Already stopped." };
  return { status: "stopped", text: "Stopped." };
}

/**
 * A turn stopped while it waited for a retry: it never runs again. If the gateway resumed it on
 * its own (after a restart), that run is aborted too; then the user is told.
 */
export async function endStoppedTurn(turn: Turn, ctx: TurnContext): Promise<void> {
  if (turn.runId && (await ctx.gatewayStatus().catch(() => undefined))?.phase === "ready") {
    try {
      const { client } = await ctx.connect();
      try {
        await chatAbort(client, { sessionKey: turn.message.conversation, runId: turn.runId });
      } finally {
        client.close();
      }
    } catch (error) {
      console.warn("chat.abort of a stopped turn failed:", error instanceof Error ? error.message : String(error));
    }
  }
  await ctx.sink.postNotice("Stopped.", "info").catch(() => undefined);
  await ctx.sink.clearStatus().catch(() => undefined);
  await ctx.stop?.control.ended("stopped").catch(() => undefined);
}

const defaultRef = (turn: Turn) => String(turn.seq);
