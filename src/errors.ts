/**
 * The relay's error hierarchy. Request errors carry their HTTP status; one handler in the router
 * turns them into responses. Messages never contain secrets.
 */

/** An error that maps to an HTTP response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request's signature, token or timestamp did not check out: 401. */
export class VerificationError extends HttpError {
  constructor(message: string) {
    super(401, message);
  }
}

/** The request was authentic but its body could not be understood: 400. */
export class PayloadError extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** The caller is known but not allowed to do this: 403. */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}

/** A platform's API answered and said no (4xx/5xx, or `ok: false`). */
export class PlatformApiError extends Error {
  constructor(
    readonly platform: string,
    readonly method: string,
    /** HTTP status, or 200 when the body said `ok: false`. */
    readonly status: number,
    /** The platform's own error code or description, e.g. `channel_not_found`. */
    readonly code: string,
    /** Milliseconds the platform asked us to wait before retrying (429). */
    readonly retryAfterMs?: number,
  ) {
    super(`${platform} ${method} failed: ${status} ${code}`);
    this.name = "PlatformApiError";
  }
}

/** The platform could not be reached at all (DNS, TLS, connection reset). */
export class PlatformNetworkError extends Error {
  constructor(
    readonly platform: string,
    readonly method: string,
    cause: unknown,
  ) {
    super(`${platform} ${method}: network error: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "PlatformNetworkError";
  }
}
