/**
 * The shared streaming fallback: post a message, then edit it as the answer grows, no more often
 * than the platform allows. An answer longer than one message continues in new messages. Used by
 * every adapter without native streaming, and by native ones when the platform refuses a stream.
 */
import { splitText } from "./split";
import type { PlatformLimits, TextStream } from "./types";
import { serialQueue } from "./serial";
import { createThrottle } from "./throttle";

/** The two calls the fallback needs from a platform. Text is Markdown within `maxTextLength`. */
export interface MessageEditor {
  /** Post a new message; returns its id. */
  post(text: string): Promise<string>;
  edit(id: string, text: string): Promise<void>;
}

export interface EditStreamOptions {
  now?: () => number;
  /** Shown after the text while it is still streaming. */
  cursor?: string;
  /** Called when an intermediate edit fails; the final text is still delivered by `finish`. */
  onError?: (error: unknown) => void;
}

export function createEditStream(
  editor: MessageEditor,
  limits: Pick<PlatformLimits, "maxTextLength" | "minEditIntervalMs">,
  options: EditStreamOptions = {},
): TextStream {
  const cursor = options.cursor ?? " …";
  const posted: { id: string; shown: string }[] = [];
  const enqueue = serialQueue();
  let closed = false;
  const throttle = createThrottle(showPartial, { intervalMs: limits.minEditIntervalMs, now: options.now });

  /** Make the conversation show `text`: edit what changed, post what is new. */
  async function render(text: string): Promise<void> {
    const chunks = splitText(text, limits.maxTextLength);
    for (const [i, chunk] of chunks.entries()) {
      const message = posted[i];
      if (!message) posted.push({ id: await editor.post(chunk), shown: chunk });
      else if (message.shown !== chunk) {
        await editor.edit(message.id, chunk);
        message.shown = chunk;
      }
    }
    throttle.wrote();
  }

  function showPartial(text: string): Promise<void> {
    return enqueue(async () => {
      if (closed || !text.trim()) return;
      const withCursor = text.length + cursor.length <= limits.maxTextLength ? text + cursor : text;
      await render(withCursor).catch((error) => options.onError?.(error));
    });
  }

  function close(text: string): Promise<void> {
    return enqueue(async () => {
      closed = true;
      if (text.trim()) await render(text);
    });
  }

  return {
    update: (text) => throttle.update(text),
    finish: (text) => throttle.finish(() => close(text)),
    abort: (note) => throttle.finish((latest) => close(latest.trim() ? `${latest}\n\n_${note}_` : "")),
  };
}
