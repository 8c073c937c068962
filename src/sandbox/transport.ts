/**
 * Reaching the gateway inside the Sandbox container. The SDK's `Sandbox.fetch` sends a request to a
 * container port only when it is a WebSocket upgrade (both `Upgrade: websocket` and `Connection:
 * Upgrade`) carrying the port that `wsConnect` adds; every other request goes to the control plane
 * on port 3000. So:
 * - the WebSocket goes through `wsConnect(request, port)` with both upgrade headers;
 * - plain HTTP (health, downloads) goes through `containerFetch(request, port)`.
 * Requests are built fresh, so no forwarded headers reach the gateway (it answers 403 to
 * `X-Forwarded-*` from a peer it does not trust).
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
/** A plain request to the gateway that takes longer than this fails (the caller may pass less). */
const HTTP_TIMEOUT_MS = 30_000;

export function openSandbox(env: Env) {
  return getSandbox(env.Sandbox, SANDBOX_ID, { sleepAfter: env.SANDBOX_SLEEP_AFTER || "10m" });
}

export type SandboxStub = ReturnType<typeof openSandbox>;

/** The WebSocket upgrade request `Sandbox.fetch` routes to a container port. */
export function upgradeRequest(path = "/"): Request {
  return new Request(new URL(path, ORIGIN), { headers: { Upgrade: "websocket", Connection: "Upgrade" } });
}

/**
 * A plain HTTP request to a port in the container. The timeout is kept here, on the caller's side:
 * an AbortSignal does not cross into the Durable Object.
 */
export async function fetchContainerPort(sandbox: SandboxStub, port: number, path: string, init: RequestInit = {}): Promise<Response> {
  const { signal, ...rest } = init;
  const timeout = AbortSignal.timeout(HTTP_TIMEOUT_MS);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const request = new Request(new URL(path, ORIGIN), rest);
  return await new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(new GatewayUnavailableError(`no answer from container port ${port} for ${path}: ${describe(abort.reason)}`));
    if (abort.aborted) return onAbort();
    abort.addEventListener("abort", onAbort, { once: true });
    sandbox.containerFetch(request, port).then(resolve, reject).finally(() => abort.removeEventListener("abort", onAbort));
  });
}

export function sandboxTransport(env: Env): GatewayTransport {
  const sandbox = openSandbox(env);
  return {
    description: `sandbox ${SANDBOX_ID}:${GATEWAY_PORT}`,
    async openSocket() {
      let response: Response;
      try {
        response = await sandbox.wsConnect(upgradeRequest(), GATEWAY_PORT);
      } catch (error) {
        throw new GatewayUnavailableError(`cannot reach the gateway in the container: ${describe(error)}`);
      }
      return acceptSocket(response, "the container");
    },
    async fetch(path, init) {
      try {
        return await fetchContainerPort(sandbox, GATEWAY_PORT, path, init);
      } catch (error) {
        if (error instanceof GatewayUnavailableError) throw error;
        throw new GatewayUnavailableError(`cannot reach the gateway in the container: ${describe(error)}`);
      }
    },
  };
}
