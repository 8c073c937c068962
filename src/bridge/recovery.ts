/**
 * After the gateway restarted in the middle of a turn, OpenClaw resumes the interrupted turn by
 * itself (a new run in the same session, prompted "your previous turn was interrupted"), and a
 * message sent again meanwhile is folded into that run. So before sending a turn again, and when a
 * re-sent turn ends with an empty final, the bridge looks at the session: a run still working is
 * followed, a reply already made is delivered. Only when neither exists is the message sent again.
 */
import { asRecord, type GatewayClient } from "../gateway/client";
import { chatHistory } from "../gateway/methods";
import { messageText } from "../gateway/run-events";

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
