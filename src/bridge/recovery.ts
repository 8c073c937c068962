/**
 * After the gateway restarted in the middle of a turn, OpenClaw resumes the interrupted turn by
 * itself (a new run in the same session, prompted "your previous turn was interrupted"), and a
 * message sent again meanwhile is folded into that run. So before sending a turn again, and when a
 * re-sent turn ends with an empty final, the bridge looks at the session: a run still working is
 * followed, a reply already made is delivered. Only when neither exists is the message sent again,
 * under the same idempotency key, or under a new one when the gateway refuses the old one for good.
 */
import { asRecord, type GatewayClient } from "../gateway/client";
import { GatewayError, isPendingInputOrphaned } from "../gateway/errors";
import { chatHistory, chatSend, finishedRunText } from "../gateway/methods";
import { messageText } from "../gateway/run-events";
import type { Inbox, Turn } from "./inbox";

export type Recovered = { kind: "active"; runId: string } | { kind: "done"; runId?: string; text: string };

export async function recoveredReply(client: GatewayClient, sessionKey: string, userText: string): Promise<Recovered | undefined> {
  const history = await chatHistory(client, { sessionKey, limit: 40 });
  const messages = Array.isArray(history.messages) ? (history.messages as Record<string, unknown>[]) : [];
  const asked = messages.findLastIndex((m) => m.role === "user" && (messageText(m) ?? "").includes(userText));
  if (asked < 0) return undefined;
  // A reply already made answers the message; only without one is a working run followed.
  const reply = messages
    .slice(asked + 1)
    .findLast((m) => m.role === "assistant" && m.stopReason !== "error" && (messageText(m) ?? "").trim() !== "");
  if (reply) {
    const runId = asRecord(reply.__openclaw).runId;
    return { kind: "done", text: messageText(reply)!, ...(typeof runId === "string" ? { runId } : {}) };
  }
  const info = asRecord(history.sessionInfo);
  const active = Array.isArray(info.activeRunIds) ? info.activeRunIds.filter((id): id is string => typeof id === "string") : [];
  if (info.hasActiveRun === true && active.length > 0) return { kind: "active", runId: active[active.length - 1]! };
  return undefined;
}

/**
 * The idempotency key of a turn's message: the same on every retry, so that the gateway joins a
 * re-sent message to its first run; a new one only after the gateway refused the old one for good.
 */
export const idempotencyKey = (turn: Turn) => `molt:${turn.message.conversation}:${turn.seq}${turn.resends > 0 ? `:${turn.resends}` : ""}`;

export type Sent = { kind: "running"; runId: string } | { kind: "done"; runId: string; text: string };

/**
 * Send the turn's message: a run to follow, or the reply of one that finished meanwhile (sent before
 * under the same key). When the gateway refuses the key for good (`isPendingInputOrphaned`: it was
 * killed holding the message as pending input), the input may still come back by itself: OpenClaw
 * resumes interrupted turns after a restart, late. So the session is watched for a reply or a run
 * for it first (up to `waitMs`), and only when none comes does the message go out once more, under
 * a new key: never twice answered, never lost.
 */
export async function sendTurn(client: GatewayClient, turn: Turn, inbox: Inbox, options: { waitMs: number; signal?: AbortSignal }): Promise<Sent> {
  const sessionKey = turn.message.conversation;
  // The acknowledgement, or "orphaned" when the gateway refuses the key for good (it says so in the
  // acknowledgement; a refused request is taken the same way).
  const send = () =>
    chatSend(client, { sessionKey, message: turn.message.text, idempotencyKey: idempotencyKey(turn) }).then(
      (ack) => (isPendingInputOrphaned(ack) ? ("orphaned" as const) : ack),
      (error: unknown) => {
        if (isPendingInputOrphaned(error)) return "orphaned" as const;
        throw error;
      },
    );
  let ack = await send();
  if (ack === "orphaned") {
    const found = await awaitReplyOrRun(client, sessionKey, turn.message.text, options);
    if (found?.kind === "done") return { kind: "done", runId: found.runId ?? idempotencyKey(turn), text: found.text };
    if (found?.kind === "active") return { kind: "running", runId: found.runId };
    if (options.signal?.aborted) throw new GatewayError("stopped while the message's own run was awaited", false);
    turn.resends = inbox.renewKey(turn.seq);
    ack = await send();
    if (ack === "orphaned") throw new GatewayError("the gateway refused the message under a new key too", true);
  }
  if (ack.status !== "ok") return { kind: "running", runId: ack.runId };
  // Sent before and finished meanwhile (same idempotency key): no events will follow.
  const text = await finishedRunText(client, sessionKey, ack.runId);
  if (text === undefined) throw new GatewayError("the finished run's reply is not in the session history", false);
  return { kind: "done", runId: ack.runId, text };
}

/** A reply or a working run for the message, polled until `waitMs` passed (or the turn is stopped). */
async function awaitReplyOrRun(client: GatewayClient, sessionKey: string, text: string, options: { waitMs: number; signal?: AbortSignal }) {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const found = await recoveredReply(client, sessionKey, text);
    if (found || Date.now() >= deadline || options.signal?.aborted) return found;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
