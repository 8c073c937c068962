/**
 * Slack's native streaming as a TextStream: `chat.startStream`, then `chat.appendStream` with only
 * the new suffix (throttled), then `chat.stopStream`. A stream expires after ~5 min and a message
 * holds ~12,000 characters, so the answer rotates to a new streamed message before either. If Slack
 * refuses to stream here, the rest of the answer goes through the post-and-edit fallback.
 */
import { PlatformApiError } from "../../errors";
import { splitText } from "../split";
import type { TextStream } from "../types";
import { isSlackRefusal, type SlackBody, type SlackCallOptions, type SlackOk } from "./api";
import { markdownToMrkdwn, SLACK_MARKDOWN_LIMIT } from "./format";
import type { SlackReplyTarget } from "./parse";
import { isRetryable } from "../retry";
import { serialQueue } from "../serial";
import { createThrottle } from "../throttle";

export type SlackCall = (method: string, body: SlackBody, options?: SlackCallOptions) => Promise<SlackOk>;

export interface SlackStreamOptions {
  now?: () => number;
  /** Least time between two writes to the stream (appendStream is Tier 4: ~100/min). */
  appendIntervalMs?: number;
  /** Rotate to a new message once a stream is this old; Slack ends streams after ~5 min. */
  maxStreamAgeMs?: number;
  /** Most Markdown one streamed message carries. */
  maxMessageChars?: number;
  /** Intermediate failures, reported but not fatal: the final text is delivered by `finish`. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_APPEND_INTERVAL_MS = 1_000;
export const DEFAULT_MAX_STREAM_AGE_MS = 270_000;
/** Tries of the final write, and the pause before the next (times the try). */
const FINAL_ATTEMPTS = 3;
const FINAL_RETRY_MS = 300;

const CLOSE_FENCE = "\n```";
const FENCE = /^\s*(```|~~~)/;

interface StreamedMessage {
  ts: string;
  startedAt: number;
  chars: number;
}

/**
 * @param fallback makes the post-and-edit stream used when Slack refuses `chat.startStream`;
 *   it is given only the part of the answer not already streamed.
 */
export function createSlackStream(
  call: SlackCall,
  target: SlackReplyTarget,
  fallback: (error: PlatformApiError) => TextStream,
  options: SlackStreamOptions = {},
): TextStream {
  const now = options.now ?? Date.now;
  const interval = options.appendIntervalMs ?? DEFAULT_APPEND_INTERVAL_MS;
  const maxAge = options.maxStreamAgeMs ?? DEFAULT_MAX_STREAM_AGE_MS;
  const maxChars = options.maxMessageChars ?? SLACK_MARKDOWN_LIMIT;
  const messages: string[] = [];
  let current: StreamedMessage | undefined;
  /** The prefix of the answer already on screen. */
  let shown = "";
  /** The code fence open at the end of `shown`, reopened in the next message. */
  let openFence: string | null = null;
  let refused: { stream: TextStream; offset: number } | undefined;
  const enqueue = serialQueue();
  let closed = false;
  const throttle = createThrottle(showPartial, { intervalMs: interval, now });

  async function start(markdown: string): Promise<void> {
    // DM channel ids start with D; elsewhere Slack wants to know whom the stream is for.
    const direct = target.channel.startsWith("D");
    const result = await call("chat.startStream", {
      channel: target.channel,
      thread_ts: target.thread_ts,
      markdown_text: markdown,
      ...(direct ? {} : { recipient_user_id: target.user, recipient_team_id: target.user_team }),
    }).catch((error) => {
      throw isSlackRefusal(error) ? new StreamRefused(error) : error;
    });
    const ts = String(result.ts);
    messages.push(ts);
    current = { ts, startedAt: now(), chars: markdown.length };
  }

  async function stop(extra?: string): Promise<void> {
    const message = current;
    current = undefined;
    if (!message) return;
    try {
      // Safe to repeat: a stop that already landed answers `message_not_in_streaming_state`, handled below.
      await call("chat.stopStream", { channel: target.channel, ts: message.ts, ...(extra ? { markdown_text: extra } : {}) }, { idempotent: true });
    } catch (error) {
      if (!isExpired(error)) throw error;
    }
  }

  /** Put `text` (which extends `shown`) on screen. */
  async function write(text: string): Promise<void> {
    let pending = text.slice(shown.length);
    while (pending) {
      if (current && now() - current.startedAt >= maxAge) await stop(openFence ? CLOSE_FENCE : undefined);
      const reopen = current || !openFence ? "" : `${openFence}\n`;
      const used = current ? current.chars : reopen.length;
      const room = maxChars - used - CLOSE_FENCE.length;
      const piece = pending.length <= room ? pending : pending.slice(0, findCut(pending, room));
      const appending = current !== undefined;
      try {
        if (current) {
          await call("chat.appendStream", { channel: target.channel, ts: current.ts, markdown_text: piece });
          current.chars += piece.length;
        } else {
          await start(reopen + piece);
        }
      } catch (error) {
        if (!appending || !isExpired(error)) throw error;
        current = undefined; // Slack ended it; carry on in a new message
        continue;
      }
      shown += piece;
      openFence = fenceAfter(piece, openFence);
      pending = pending.slice(piece.length);
      if (pending) await stop(openFence ? CLOSE_FENCE : undefined);
    }
    throttle.wrote();
  }

  /** Deliver `text` by whichever path is live; a refused start switches to the fallback. */
  async function deliver(text: string, final: boolean): Promise<void> {
    if (!refused) {
      if (!text.startsWith(shown)) {
        if (final) await rewrite(text);
        return; // a rewritten answer can't be un-appended: settle it at the end
      }
      try {
        await write(text);
        if (final) await stop();
        return;
      } catch (error) {
        if (!(error instanceof StreamRefused)) throw error;
        refused = { stream: fallback(error.refusal), offset: shown.length };
      }
    }
    const rest = text.slice(refused.offset);
    if (final) await refused.stream.finish(rest);
    else await refused.stream.update(rest);
  }

  /** The final answer differs from what was streamed: stop and replace the messages' text. */
  async function rewrite(text: string): Promise<void> {
    await stop();
    const chunks = splitText(text, maxChars);
    for (const [i, chunk] of chunks.entries()) {
      const ts = messages[i];
      const body = { channel: target.channel, text: markdownToMrkdwn(chunk) };
      if (ts) await call("chat.update", { ...body, ts }, { idempotent: true });
      else await call("chat.postMessage", { ...body, thread_ts: target.thread_ts });
    }
    shown = text;
  }

  /**
   * The final text, again after a transient failure (a dropped connection, a 5xx or 429 past the
   * call's own retries): `shown` says what is already on screen, so a retry appends only the rest
   * and stops the stream, instead of the turn starting a second message beside a stream left open.
   */
  async function deliverFinal(text: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deliver(text, true);
      } catch (error) {
        if (attempt >= FINAL_ATTEMPTS || !isRetryable(error, true)) throw error;
        await new Promise((resolve) => setTimeout(resolve, FINAL_RETRY_MS * attempt));
      }
    }
  }

  function showPartial(text: string): Promise<void> {
    return enqueue(async () => {
      if (closed || !text.trim()) return;
      await deliver(text, false).catch((error) => options.onError?.(error));
    });
  }

  function close(text: string, note?: string): Promise<void> {
    return enqueue(async () => {
      if (closed) return;
      closed = true;
      if (note === undefined) return text.trim() || shown ? deliverFinal(text) : undefined;
      if (!refused && text.startsWith(shown)) await write(text).catch((error) => options.onError?.(error));
      if (refused) {
        await refused.stream.update(text.slice(refused.offset));
        return refused.stream.abort(note);
      }
      if (shown) await stop(`${openFence ? CLOSE_FENCE : ""}\n\n_${note}_`);
    });
  }

  return {
    update: (text) => throttle.update(text),
    finish: (text) => throttle.finish(() => close(text)),
    abort: (note) => throttle.finish((latest) => close(latest, note)),
  };
}

/** Slack said no to streaming in this conversation (channel type, scope, plan). */
class StreamRefused extends Error {
  constructor(readonly refusal: PlatformApiError) {
    super(refusal.message);
  }
}

function isExpired(error: unknown): boolean {
  return error instanceof PlatformApiError && error.code === "message_not_in_streaming_state";
}

/** Where to cut `text` so the first part fits in `budget`: paragraph, line, word, or hard. */
function findCut(text: string, budget: number): number {
  const window = text.slice(0, budget + 1);
  for (const [mark, min] of [["\n\n", budget / 2], ["\n", budget / 3], [" ", budget / 3]] as const) {
    const at = window.lastIndexOf(mark);
    if (at > min) return at + mark.length;
  }
  return Math.max(1, budget);
}

function fenceAfter(piece: string, open: string | null): string | null {
  let fence = open;
  for (const line of piece.split("\n")) if (FENCE.test(line)) fence = fence ? null : line.trim();
  return fence;
}
