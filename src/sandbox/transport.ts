/**
 * Reaching the gateway inside the Sandbox container. Both the WebSocket and plain HTTP go through
 * the SDK's `wsConnect`, which routes a request to a container port (a plain request is proxied,
 * an upgrade becomes a WebSocket). Requests are built fresh so no forwarded headers reach it.
 */
import { getSandbox } from "@cloudflare/sandbox";
import type { Env } from "../env";
import { acceptSocket, describe } from "../gateway/transport";
import type { GatewayTransport } from "../gateway/transport";
import { GatewayUnavailableError } from "../gateway/errors";

/** One gateway per deployment: one trust boundary, one container. */
export const SANDBOX_ID = "molt-agent";
export const GATEWAY_PORT = 18789;
const ORIGIN = "http://gateway.internal";

export function openSandbox(env: Env) {
  return getSandbox(env.Sandbox, SANDBOX_ID, { sleepAfter: env.SANDBOX_SLEEP_AFTER || "10m" });
}

export function sandboxTransport(env: Env): GatewayTransport {
  const sandbox = openSandbox(env);
  return {
    description: `sandbox ${SANDBOX_ID}:${GATEWAY_PORT}`,
    async openSocket() {
      let response: Response;
      try {
        response = await sandbox.wsConnect(new Request(`${ORIGIN}/`, { headers: { Upgrade: "websocket" } }), GATEWAY_PORT);
      } catch (error) {
        throw new GatewayUnavailableError(`cannot reach the gateway in the container: ${describe(error)}`);
      }
      return acceptSocket(response, "the container");
    },
    async fetch(path, init) {
      try {
        return await sandbox.wsConnect(new Request(new URL(path, ORIGIN), init), GATEWAY_PORT);
      } catch (error) {
        throw new GatewayUnavailableError(`cannot reach the gateway in the container: ${describe(error)}`);
      }
    },
  };
}
