/**
 * Retrying platform calls: honour `Retry-After` on 429, back off on 5xx, and never repeat a call
 * that may already have taken effect (a network failure after a post was sent is not retried
 * unless the call is marked idempotent).
 */
import { PlatformApiError, PlatformNetworkError } from "../errors";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** First backoff after a 5xx; doubles each time. */
  baseDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails instead. */
  maxWaitMs: number;
  sleep(ms: number): Promise<void>;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxWaitMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Whether a failed call may be sent again without risking a duplicate. */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (error instanceof PlatformApiError) return error.status === 429 || error.status >= 500;
  if (error instanceof PlatformNetworkError) return idempotent;
  return false;
}

export async function withRetry<T>(
  call: () => Promise<T>,
  options: { idempotent?: boolean; policy?: RetryPolicy } = {},
): Promise<T> {
  const policy = options.policy ?? defaultRetryPolicy;
  let backoff = policy.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error, options.idempotent ?? false)) throw error;
      const asked = error instanceof PlatformApiError ? error.retryAfterMs : undefined;
      const wait = asked ?? backoff;
      if (wait > policy.maxWaitMs) throw error;
      await policy.sleep(wait);
      backoff *= 2;
    }
  }
}

/** Parse a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
