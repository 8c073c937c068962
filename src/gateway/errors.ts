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
