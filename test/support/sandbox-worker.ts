/**
 * The Worker of the `sandbox` test project: the relay itself, with its production `Sandbox` class
 * running over an emulated container runtime instead of Cloudflare's (test/support/
 * emulated-runtime.ts, driving test/support/container-host.mjs). Everything above `ctx.container`
 * is the SDK's and the relay's own code.
 *
 * The test class keeps the name `Sandbox`: the Containers package keys outbound handlers by class
 * name, so the runtime's `ContainerProxy` finds the handlers registered by the production class.
 */
import type { Env } from "../../src/env";
import { Sandbox as AgentSandbox } from "../../src/sandbox/agent-sandbox";
import { EGRESS_HOSTS } from "../../src/sandbox/egress";
import { EmulatedContainerRuntime } from "./emulated-runtime";

export * from "../../src/index";
export { default } from "../../src/index";

export class Sandbox extends AgentSandbox {
  constructor(ctx: DurableObjectState<{}>, env: Env & { TEST_CONTAINER_HOST_URL?: string }) {
    const runtime = new EmulatedContainerRuntime(env.TEST_CONTAINER_HOST_URL ?? "", ctx.id.toString());
    Object.defineProperty(ctx, "container", { value: runtime, configurable: true });
    ctx.blockConcurrencyWhile(() => runtime.attach());
    super(ctx, env);
  }
}

/**
 * A test-only virtual host, added the way any host is (one handler, one table entry). It echoes
 * what it got. `/stream` sends a first event, then waits at a gate on the container host before it
 * sends the rest; `/release` opens that gate. So a test can prove that the first event arrives
 * while the answer is still open (not buffered).
 */
Sandbox.outboundByHost = {
  ...EGRESS_HOSTS,
  "echo.internal": async (request, env) => {
    const url = new URL(request.url);
    const gate = `${(env as { TEST_CONTAINER_HOST_URL?: string }).TEST_CONTAINER_HOST_URL}/_host/gate/${url.searchParams.get("gate") ?? "echo"}`;
    if (url.pathname === "/stream") {
      const encoder = new TextEncoder();
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      const rest = (async () => {
        await writer.write(encoder.encode("data: first\n\n"));
        await (await fetch(gate)).text();
        await writer.write(encoder.encode("data: second\n\n"));
        await writer.close();
      })();
      void rest;
      return new Response(readable, { headers: { "content-type": "text/event-stream" } });
    }
    if (url.pathname === "/release") return fetch(gate, { method: "POST" });
    return Response.json({ method: request.method, url: request.url, body: await request.text(), authorization: request.headers.get("authorization") });
  },
};
