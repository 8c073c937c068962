/**
 * The pacing every streamed answer shares: the newest text, written at most every `intervalMs`.
 * The first write goes out at once; text offered while a write is held back replaces the held
 * text, so a slow platform sees fewer, fuller writes instead of a backlog.
 */
export interface ThrottleOptions {
  /** Least time between two writes. */
  intervalMs: number;
  now?: () => number;
}

export interface Throttle {
  /** Offer newer text: written now if the interval has passed, else once it has (if still newest). */
  update(text: string): Promise<void>;
  /**
   * A write reached the platform: the next one waits `intervalMs` from now. Called by the writer,
   * since only it knows whether a write landed (a failed or skipped one doesn't count).
   */
  wrote(): void;
  /**
   * Cancel the held write, ignore later updates, and run the final write at once, given the newest
   * text offered. Each call runs `final`: repeated finishes are the caller's to handle.
   */
  finish(final: (latest: string) => Promise<void>): Promise<void>;
}

/** @param write puts text on screen; it reports its own errors and calls `wrote()` on success. */
export function createThrottle(write: (text: string) => Promise<void>, options: ThrottleOptions): Throttle {
  const now = options.now ?? Date.now;
  let latest = "";
  let lastWrite = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;

  function flush(): Promise<void> {
    timer = undefined;
    return write(latest);
  }

  return {
    async update(text) {
      if (finished) return;
      latest = text;
      if (timer) return;
      const wait = lastWrite + options.intervalMs - now();
      if (wait <= 0) await flush();
      else timer = setTimeout(() => void flush(), wait);
    },
    wrote() {
      lastWrite = now();
    },
    finish(final) {
      finished = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      return final(latest);
    },
  };
}
