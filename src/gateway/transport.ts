/**
 * How the relay reaches a gateway: a WebSocket for the protocol and plain HTTP for downloads and
 * health. Two implementations: a URL (a gateway elsewhere, `GATEWAY_URL`) and the Sandbox
 * container (src/sandbox/transport.ts). Requests are always built fresh: the gateway answers 403
 * to forwarded headers from a peer it doesn't trust.
 */
import { GatewayUnavailableError } from "./errors";

export interface GatewayTransport {
  /** Where the gateway is, for status output (no secrets). */
  readonly description: string;
  /** Open and accept a WebSocket to the gateway. */
  openSocket(): Promise<WebSocket>;
  /** An HTTP request to the gateway; `path` is relative to its root (`/healthz`, a ticket URL...). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export function urlTransport(gatewayUrl: string): GatewayTransport {
  const ws = new URL(gatewayUrl);
  if (ws.protocol !== "ws:" && ws.protocol !== "wss:") {
    throw new Error("GATEWAY_URL must start with ws:// or wss://");
  }
  const http = new URL(ws);
  http.protocol = ws.protocol === "wss:" ? "https:" : "http:";
  return {
    description: `${ws.protocol}//${ws.host}`,
    async openSocket() {
      let response: Response;
      try {
        response = await fetch(http.href, { headers: { Upgrade: "websocket" } });
      } catch (error) {
        throw new GatewayUnavailableError(`cannot reach the gateway at ${ws.host}: ${describe(error)}`);
      }
      return acceptSocket(response, ws.host);
    },
    fetch(path, init) {
      return fetch(new URL(path, http).href, init);
    },
  };
}

/** Accept the WebSocket of an upgrade response, or explain why there is none. */
export function acceptSocket(response: Response, where: string): WebSocket {
  const socket = response.webSocket;
  if (!socket) {
    throw new GatewayUnavailableError(`the gateway at ${where} refused the WebSocket upgrade (HTTP ${response.status})`);
  }
  socket.accept();
  return socket;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
