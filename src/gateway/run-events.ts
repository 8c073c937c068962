/**
 * A run's event stream, as the bridge wants it: the gateway's `chat` and `agent` events for one
 * run turned into a small typed union. The subscription starts before `chat.send` so that no event
 * is lost between the send and its acknowledgement.
 */
import { asRecord, type GatewayClient, type GatewayEvent } from "./client";
import { GatewayClosedError } from "./errors";

export type RunEvent =
  | { type: "status"; phase: string }
  /** The whole reply text so far. */
  | { type: "text"; text: string }
  | { type: "tool"; phase: "start" | "result"; name: string; title?: string }
  | { type: "final"; text: string }
  | { type: "error"; message: string; kind?: string }
  | { type: "aborted"; reason?: string };

export const isTerminal = (event: RunEvent) => event.type === "final" || event.type === "error" || event.type === "aborted";

export interface RunSubscription extends AsyncIterable<RunEvent> {
  /**
   * Follow this run (call once the send is acknowledged, or to switch to another run of the
   * session). Its events seen since the subscription began are replayed first.
   */
  bind(runId: string): void;
  close(): void;
}

/** Recent run events kept for replay: the run id is only known once `chat.send` is acknowledged. */
const MAX_RECENT = 2_000;

/**
 * Subscribe to run events on `client`. The gateway reports sessions under a canonical key
 * (`agent:main:<key>`), so a run is identified by its id alone.
 */
export function subscribeRun(client: GatewayClient): RunSubscription {
  const recent: GatewayEvent[] = [];
  let queue: RunEvent[] = [];
  let runId: string | undefined;
  let text = "";
  let wake: (() => void) | undefined;
  let failure: unknown;
  let done = false;
  let closed = false;

  const push = (event: GatewayEvent) => {
    if (event.payload.runId !== runId || done) return;
    for (const parsed of parseRunEvent(event, text)) {
      if (parsed.type === "text") text = parsed.text;
      queue.push(parsed);
      if (isTerminal(parsed)) done = true;
    }
    wake?.();
  };

  const stop = client.onEvent((event) => {
    if (typeof event.payload.runId !== "string") return;
    recent.push(event);
    if (recent.length > MAX_RECENT) recent.shift();
    push(event);
  });
  client.closed.then((error) => {
    failure = error;
    wake?.();
  });

  return {
    bind(id) {
      runId = id;
      text = "";
      queue = [];
      done = false;
      for (const event of recent) push(event);
    },
    close() {
      stop();
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          if (isTerminal(next)) return;
          continue;
        }
        if (closed) return;
        if (failure) throw failure instanceof GatewayClosedError ? failure : new GatewayClosedError(1006, String(failure));
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

/** One gateway event as zero or more run events. `text` is the reply so far (for deltas). */
export function parseRunEvent(event: GatewayEvent, text: string): RunEvent[] {
  const p = event.payload;
  if (event.event === "chat") {
    switch (p.state) {
      case "status":
        return [{ type: "status", phase: String(p.phase ?? "working") }];
      case "delta": {
        // `message` carries the whole text so far; `deltaText` only the new part.
        const whole = messageText(p.message);
        if (whole !== undefined) return [{ type: "text", text: whole }];
        const delta = typeof p.deltaText === "string" ? p.deltaText : "";
        return [{ type: "text", text: p.replace === true ? delta : text + delta }];
      }
      case "final":
        return [{ type: "final", text: messageText(p.message) ?? text }];
      case "error":
        return [{ type: "error", message: String(p.errorMessage ?? "the agent failed"), kind: p.errorKind as string | undefined }];
      case "aborted":
        return [{ type: "aborted", reason: (p.stopReason ?? p.errorMessage) as string | undefined }];
      default:
        return [];
    }
  }
  if (event.event === "agent" && p.stream === "tool") {
    const data = asRecord(p.data);
    const phase = data.phase === "start" ? "start" : data.phase === "result" || data.phase === "end" ? "result" : undefined;
    const name = data.name ?? data.toolName ?? data.tool;
    if (!phase || typeof name !== "string") return [];
    const title = typeof data.title === "string" ? data.title : undefined;
    return [{ type: "tool", phase, name, ...(title ? { title } : {}) }];
  }
  return [];
}

/** The text of a chat message in any of the shapes the gateway uses (string, content parts). */
export function messageText(message: unknown): string | undefined {
  if (typeof message === "string") return message;
  const record = asRecord(message);
  if (typeof record.text === "string") return record.text;
  const content = record.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const parts = content
      .map((part) => asRecord(part))
      .filter((part) => part.type === "text" && typeof part.text === "string")
      .map((part) => part.text as string);
    if (parts.length) return parts.join("");
  }
  return undefined;
}
