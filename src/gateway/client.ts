/**
 * A client for the OpenClaw gateway's WebSocket protocol (v4): the signed connect handshake,
 * request/response correlation and the event stream. Methods the relay uses are typed in
 * src/gateway/methods.ts; a run's events are read with src/gateway/run-events.ts.
 */
import type { DeviceSigner } from "./device";
import { deviceAuthPayloadV3 } from "./device";
import {
  GatewayClosedError,
  GatewayRequestError,
  GatewayTimeoutError,
  GatewayUnavailableError,
  PairingRequiredError,
} from "./errors";
import type { GatewayTransport } from "./transport";

export const PROTOCOL_VERSION = 4;
export const CLIENT_ID = "gateway-client";
export const CLIENT_MODE = "backend";
export const CLIENT_PLATFORM = "cloudflare-workers";
export const RELAY_VERSION = "0.1.0";

/** Scopes the relay asks for: chat, history and artifacts, plus admin for `/new`, model and pairing commands. */
export const RELAY_SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.pairing"] as const;

export interface GatewayEvent {
  event: string;
  payload: Record<string, unknown>;
  seq?: number;
}

export interface HelloOk {
  protocol: number;
  server: { version?: string; connId?: string; [key: string]: unknown };
  auth?: { role?: string; scopes?: string[]; deviceToken?: string };
  policy?: { maxPayload?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ConnectOptions {
  token: string;
  device: DeviceSigner;
  /** The token the gateway issued this device when it was paired, if any. */
  deviceToken?: string;
  scopes?: readonly string[];
  /** Handshake budget (challenge + connect). */
  timeoutMs?: number;
}

type Pending = {
  method: string;
  resolve(payload: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
};

export class GatewayClient {
  readonly hello: HelloOk;
  /** Resolves once, when the socket closes for any reason. */
  readonly closed: Promise<GatewayClosedError>;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(event: GatewayEvent) => void>();
  private closeError: GatewayClosedError | undefined;

  private constructor(
    private readonly socket: WebSocket,
    hello: HelloOk,
    closed: Promise<GatewayClosedError>,
  ) {
    this.hello = hello;
    this.closed = closed;
  }

  /** Open a socket through `transport` and complete the signed handshake. */
  static async connect(transport: GatewayTransport, options: ConnectOptions): Promise<GatewayClient> {
    const socket = await transport.openSocket();
    const timeoutMs = options.timeoutMs ?? 15_000;
    let client: GatewayClient | undefined;
    const early: GatewayEvent[] = [];

    let onClosed!: (error: GatewayClosedError) => void;
    const closed = new Promise<GatewayClosedError>((resolve) => (onClosed = resolve));
    let challenge: (payload: Record<string, unknown>) => void = () => {};
    const challenged = new Promise<Record<string, unknown>>((resolve) => (challenge = resolve));
    let handshake: Pending | undefined;

    socket.addEventListener("message", (message) => {
      const frame = parseFrame(message.data);
      if (!frame) return;
      if (frame.type === "event") {
        const event: GatewayEvent = { event: String(frame.event), payload: asRecord(frame.payload), seq: frame.seq as number | undefined };
        if (event.event === "connect.challenge") challenge(event.payload);
        else if (client) client.dispatch(event);
        else early.push(event);
        return;
      }
      if (frame.type !== "res") return;
      if (handshake && frame.id === "connect") return settle(handshake, frame);
      client?.settle(frame);
    });
    socket.addEventListener("close", (event) => {
      const error = new GatewayClosedError(event.code, event.reason);
      onClosed(error);
      handshake?.reject(error);
      client?.failAll(error);
    });
    socket.addEventListener("error", () => {
      const error = new GatewayClosedError(1006, "socket error");
      onClosed(error);
      handshake?.reject(error);
      client?.failAll(error);
    });

    const deadline = Date.now() + timeoutMs;
    const timeLeft = () => Math.max(1, deadline - Date.now());
    try {
      const payload = await race(challenged, timeLeft(), "connect challenge", closed);
      const nonce = String(payload.nonce ?? "");
      const signedAt = Number(payload.ts);
      if (!nonce || !Number.isInteger(signedAt)) throw new GatewayUnavailableError("gateway sent a malformed connect.challenge");
      const params = await connectParams(options, nonce, signedAt);
      const hello = await new Promise<HelloOk>((resolve, reject) => {
        handshake = {
          method: "connect",
          resolve: (value) => resolve(value as HelloOk),
          reject,
          timer: setTimeout(() => reject(new GatewayTimeoutError("connect", timeoutMs)), timeLeft()),
        };
        socket.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params }));
      });
      client = new GatewayClient(socket, hello, closed);
      for (const event of early) client.dispatch(event);
      return client;
    } catch (error) {
      safeClose(socket, 1000, "handshake failed");
      throw error;
    } finally {
      if (handshake) clearTimeout(handshake.timer);
    }
  }

  /** Send a request and wait for its response payload. */
  request<T = Record<string, unknown>>(method: string, params: unknown, timeoutMs = 30_000): Promise<T> {
    if (this.closeError) return Promise.reject(this.closeError);
    const id = crypto.randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: (value) => resolve(value as T), reject, timer });
      try {
        this.socket.send(JSON.stringify({ type: "req", id, method, params }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new GatewayClosedError(1006, `send failed: ${error instanceof Error ? error.message : error}`));
      }
    });
  }

  /** Listen to every event; returns the function that stops listening. */
  onEvent(listener: (event: GatewayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(reason = "done"): void {
    safeClose(this.socket, 1000, reason);
  }

  private dispatch(event: GatewayEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private settle(frame: Record<string, unknown>): void {
    const id = String(frame.id);
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    settle(pending, frame);
  }

  private failAll(error: GatewayClosedError): void {
    this.closeError = error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}

async function connectParams(options: ConnectOptions, nonce: string, signedAt: number) {
  const scopes = [...(options.scopes ?? RELAY_SCOPES)];
  const role = "operator";
  // The shared token authenticates; a device token, once issued, is what the device signs with.
  const token = options.token;
  const signature = await options.device.sign(
    deviceAuthPayloadV3({
      deviceId: options.device.id,
      clientId: CLIENT_ID,
      clientMode: CLIENT_MODE,
      role,
      scopes,
      signedAtMs: signedAt,
      token,
      nonce,
      platform: CLIENT_PLATFORM,
    }),
  );
  return {
    minProtocol: PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    client: { id: CLIENT_ID, displayName: "molt-relay", version: RELAY_VERSION, platform: CLIENT_PLATFORM, mode: CLIENT_MODE },
    role,
    scopes,
    caps: ["tool-events"],
    auth: { token },
    userAgent: `molt-relay/${RELAY_VERSION}`,
    device: { id: options.device.id, publicKey: options.device.publicKey, signature, signedAt, nonce },
  };
}

function settle(pending: Pending, frame: Record<string, unknown>): void {
  clearTimeout(pending.timer);
  if (frame.ok === true) return pending.resolve(frame.payload ?? {});
  pending.reject(requestError(pending.method, asRecord(frame.error)));
}

export function requestError(method: string, error: Record<string, unknown>): GatewayRequestError {
  const code = String(error.code ?? "ERROR");
  const message = String(error.message ?? "request failed");
  const details = error.details && typeof error.details === "object" ? (error.details as Record<string, unknown>) : undefined;
  const detailCode = typeof details?.code === "string" ? details.code : undefined;
  if (code === "PAIRING_REQUIRED" || detailCode === "PAIRING_REQUIRED") {
    const requestId = details?.requestId ?? details?.pairingRequestId;
    return new PairingRequiredError(typeof requestId === "string" ? requestId : undefined, message, details);
  }
  const retryAfterMs = typeof error.retryAfterMs === "number" ? error.retryAfterMs : undefined;
  const retryable = error.retryable === true || code === "UNAVAILABLE";
  return new GatewayRequestError(method, code, message, details, retryable, retryAfterMs);
}

function parseFrame(data: unknown): Record<string, unknown> | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const frame = JSON.parse(data);
    return frame && typeof frame === "object" ? frame : undefined;
  } catch {
    return undefined;
  }
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

async function race<T>(promise: Promise<T>, ms: number, what: string, closed: Promise<GatewayClosedError>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new GatewayTimeoutError(what, ms)), ms)));
  const close = closed.then((error) => Promise.reject(error));
  close.catch(() => undefined);
  try {
    return await Promise.race([promise, timeout, close]);
  } finally {
    clearTimeout(timer);
  }
}

function safeClose(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // already closed
  }
}
