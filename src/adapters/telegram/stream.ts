/**
 * Streaming in private chats with `sendMessageDraft`: the growing answer is shown as an ephemeral
 * draft (throttled), and `finish` sends it for real with `sendMessage`, split at 4,096 characters.
 * A draft holds one message's worth, so a long answer drafts its last part. Drafts leave nothing
 * behind, so when Telegram refuses them the whole answer simply moves to the post-and-edit
 * fallback, with nothing to reconcile.
 */
import { splitText } from "../split";
import type { TextStream } from "../types";
import { isTelegramRefusal } from "./api";
import type { TelegramMessages } from "./messages";
import { serialQueue } from "../serial";
import { createThrottle } from "../throttle";

export interface DraftStreamOptions {
  now?: () => number;
  /** Least time between two drafts. */
  intervalMs: number;
  maxTextLength: number;
  /** Intermediate failures, reported but not fatal: `finish` still delivers the final text. */
  onError?: (error: unknown) => void;
  /** First draft id (non-zero); each part of a long answer drafts under the next one. */
  draftId?: number;
}

export function createDraftStream(
  messages: Pick<TelegramMessages, "draft" | "post">,
  fallback: (refusal: unknown) => TextStream,
  options: DraftStreamOptions,
): TextStream {
  const firstDraft = options.draftId ?? 1 + Math.floor(Math.random() * 2 ** 30);
  let refused: TextStream | undefined;
  const enqueue = serialQueue();
  let closed = false;
  const throttle = createThrottle(showPartial, { intervalMs: options.intervalMs, now: options.now });

  async function showDraft(text: string): Promise<void> {
    if (refused) return refused.update(text);
    const parts = splitText(text, options.maxTextLength);
    const last = parts.length - 1;
    try {
      await messages.draft(firstDraft + last, parts[last] ?? "");
    } catch (error) {
      if (!isTelegramRefusal(error)) throw error;
      refused = fallback(error);
      await refused.update(text);
    } finally {
      throttle.wrote();
    }
  }

  async function send(text: string): Promise<void> {
    if (refused) return refused.finish(text);
    for (const part of splitText(text, options.maxTextLength)) await messages.post(part);
  }

  function showPartial(text: string): Promise<void> {
    return enqueue(async () => {
      if (closed || !text.trim()) return;
      await showDraft(text).catch((error) => options.onError?.(error));
    });
  }

  function close(finalText: string, note?: string): Promise<void> {
    return enqueue(async () => {
      if (closed) return;
      closed = true;
      if (note !== undefined && refused) return refused.abort(note);
      if (finalText.trim()) await send(finalText);
    });
  }

  return {
    update: (text) => throttle.update(text),
    finish: (text) => throttle.finish(() => close(text)),
    // A draft vanishes: what the user saw so far is sent for real, marked as cut short.
    abort: (note) => throttle.finish((latest) => close(latest.trim() ? `${latest}\n\n_${note}_` : "", note)),
  };
}
