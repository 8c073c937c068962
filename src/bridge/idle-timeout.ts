/** A run's events with a limit on silence: a hung run must not block its conversation. */
import { GatewayError } from "../gateway/errors";

/** Fail an iteration that goes quiet for too long (a hung run must not block the conversation). */
export async function* withIdleTimeout<T>(source: AsyncIterable<T>, ms: number, signal?: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // Ends the iteration at once when the turn is stopped, without waiting for the next event.
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    if (signal?.aborted) resolve({ done: true, value: undefined });
    signal?.addEventListener("abort", () => resolve({ done: true, value: undefined }), { once: true });
  });
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GatewayError(`no word from the agent for ${ms / 1000} s`, true)), ms);
      });
      const next = await Promise.race([iterator.next(), timeout, aborted]).finally(() => clearTimeout(timer));
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a source blocked on its next event would hold us here.
    void iterator.return?.();
  }
}
