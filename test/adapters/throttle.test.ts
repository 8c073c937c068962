/**
 * The shared pacing of streamed answers, on its own: a fake clock for `now()` and fake timers for
 * the held write, so every step is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createThrottle, type Throttle } from "../../src/adapters/throttle";

const INTERVAL = 1_000;

let clock = 0;
function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

/** A throttle whose writes land at once (unless `failing`) and are recorded. */
function recorded(options: { failing?: boolean } = {}) {
  const writes: string[] = [];
  const throttle: Throttle = createThrottle(
    async (text) => {
      writes.push(text);
      if (!options.failing) throttle.wrote();
    },
    { intervalMs: INTERVAL, now: () => clock },
  );
  return { throttle, writes };
}

beforeEach(() => {
  clock = 1_000_000;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("throttle", () => {
  it("writes the first text at once", async () => {
    const { throttle, writes } = recorded();
    await throttle.update("Hello");
    expect(writes).toEqual(["Hello"]);
  });

  it("holds later text until the interval has passed, then writes only the newest", async () => {
    const { throttle, writes } = recorded();
    await throttle.update("a");
    for (const text of ["ab", "abc", "abcd"]) {
      advance(100);
      await throttle.update(text);
    }
    expect(writes).toEqual(["a"]);
    advance(INTERVAL - 300 - 1);
    expect(writes).toEqual(["a"]);
    advance(1);
    expect(writes).toEqual(["a", "abcd"]);
  });

  it("counts the interval from the last write that landed", async () => {
    const { throttle, writes } = recorded();
    await throttle.update("one");
    advance(INTERVAL);
    await throttle.update("one two");
    expect(writes).toEqual(["one", "one two"]);
    advance(INTERVAL - 1);
    await throttle.update("one two three");
    expect(writes).toHaveLength(2);
    advance(1);
    expect(writes).toEqual(["one", "one two", "one two three"]);
  });

  it("doesn't hold back the next text after a write that didn't land", async () => {
    const { throttle, writes } = recorded({ failing: true });
    await throttle.update("a");
    await throttle.update("ab");
    expect(writes).toEqual(["a", "ab"]);
  });

  it("finish writes the held text at once and cancels the held write", async () => {
    const { throttle, writes } = recorded();
    await throttle.update("a");
    await throttle.update("ab");
    const finals: string[] = [];
    await throttle.finish(async (latest) => void finals.push(latest));
    expect(finals).toEqual(["ab"]);
    advance(INTERVAL * 5);
    expect(writes).toEqual(["a"]);
  });

  it("writes nothing after finish", async () => {
    const { throttle, writes } = recorded();
    const finals: string[] = [];
    await throttle.finish(async (latest) => void finals.push(latest));
    await throttle.update("too late");
    advance(INTERVAL * 5);
    expect(writes).toEqual([]);
    expect(finals).toEqual([""]);
  });
});
