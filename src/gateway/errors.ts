/** Typed failures of the gateway client. None of them carries the token. */

export class GatewayError extends Error {
  /** Whether trying again later (same idempotency key) may succeed. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = new.target.name;
    this.retryable = retryable;
  }
}

/** The gateway could not be reached, or the connection dropped before the handshake finished. */
export class GatewayUnavailableError extends GatewayError {
  constructor(message: string) {
    super(message, true);
  }
}

/** The socket closed while a request or a run was in flight. */
export class GatewayClosedError extends GatewayError {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`gateway connection closed (${code}${reason ? `: ${reason}` : ""})`, true);
  }
}

/** No answer in time. */
export class GatewayTimeoutError extends GatewayError {
  constructor(what: string, ms: number) {
    super(`gateway ${what} timed out after ${ms} ms`, true);
  }
}

/** The gateway answered a request with an error frame. */
export class GatewayRequestError extends GatewayError {
  constructor(
    readonly method: string,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
    retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(`${method}: ${code}: ${message}`, retryable);
  }

  /** `details.code` where the gateway gives one (e.g. `PAIRING_REQUIRED`), else the top-level code. */
  get detailCode(): string {
    const code = this.details?.code;
    return typeof code === "string" ? code : this.code;
  }
}

/**
 * OpenClaw took a message as pending input, restarted before running it, and will not continue that
 * input under its idempotency key again ("Pending input ownership ended; submit a new turn to
 * continue"): every retry with that key gets the same answer. The gateway says so in the send's
 * acknowledgement (`status: "error"` with that `summary`, and the run's `error` event); a refused
 * request with those words is taken the same way.
 */
export function isPendingInputOrphaned(refusal: unknown): boolean {
  if (refusal instanceof GatewayRequestError) return ORPHANED.test(refusal.message);
  const ack = refusal as { status?: unknown; summary?: unknown } | undefined;
  return ack?.status === "error" && typeof ack.summary === "string" && ORPHANED.test(ack.summary);
}

const ORPHANED = /pending input ownership ended/i;

/** This device is not paired yet; an operator (or the supervisor) must approve `requestId`. */
export class PairingRequiredError extends GatewayRequestError {
  constructor(
    readonly requestId: string | undefined,
    message: string,
    details: Record<string, unknown> | undefined,
  ) {
    super("connect", "PAIRING_REQUIRED", message, details, false);
  }
}

/** The agent's run ended in an error (the model or a tool failed), as opposed to the transport. */
export class RunFailedError extends GatewayError {
  constructor(message: string) {
    // A gateway that is draining for a restart refuses new work: the run is tried again once it is back.
    super(`agent run failed: ${message}`, DRAINING.test(message));
  }
}

const DRAINING = /\bgateway is draining\b/i;

/**
 * What the user can do about a failed run, where the relay knows better than OpenClaw's own words.
 * A model call refused for its key (401/403): OpenClaw says to re-authenticate the provider, but
 * the agent holds no key (the Worker adds it on the way out), so the fix is the Worker's secret.
 */
export function runFailureHint(error: unknown): string {
  if (!(error instanceof RunFailedError)) return "";
  if (/\b(HTTP 40[13]|authentication failed|invalid or missing API key|no model provider key)\b/i.test(error.message)) {
    return " The model provider refused the key: model keys are kept by the relay, not the agent, so an admin sets the provider's key on the Worker (`wrangler secret put ANTHROPIC_API_KEY`, `OPENAI_API_KEY` or `OPENAI_COMPATIBLE_API_KEY`). `/molt status` shows the failed model calls.";
  }
  return "";
}

/**
 * The gateway is away (not listening, starting, restarting), as opposed to there and refusing:
 * a turn waits for it instead of using up its tries. A gateway that answers the upgrade with a
 * 4xx (a wrong token, say) is there, and waiting would not help.
 */
export function isGatewayAway(error: unknown): boolean {
  return error instanceof GatewayUnavailableError && !/refused the WebSocket upgrade \(HTTP 4\d\d\)/.test(error.message);
}
