/**
 * A stand-in for @cloudflare/sandbox's `Sandbox` Durable Object, bound as `Sandbox` in tests
 * (no containers run here). It takes the same RPC calls the SDK's `getSandbox()` stub makes and
 * forwards them to the container host (container-host.mjs), which runs real processes: the start
 * script and the real OpenClaw gateway. Production code and `getSandbox()` stay unchanged.
 */
import { DurableObject } from "cloudflare:workers";

export class FakeSandbox extends DurableObject {
  async host(method, path, body) {
    const response = await fetch(`${this.env.CONTAINER_HOST_URL}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = await response.json();
    if (!response.ok) throw new Error(payload.error ?? `container host: HTTP ${response.status}`);
    return payload;
  }

  /** getSandbox() pushes its options (sleepAfter...) here; remembered so tests can check them. */
  async configure(configuration) {
    await this.ctx.storage.put("configuration", configuration);
  }

  async configuration() {
    return (await this.ctx.storage.get("configuration")) ?? null;
  }

  startProcess(command, options = {}) {
    return this.host("POST", "/process/start", { command, processId: options.processId, env: options.env ?? {} });
  }

  listProcesses() {
    return this.host("GET", "/process/list");
  }

  killProcess(id) {
    return this.host("POST", "/process/kill", { id });
  }

  exec(command, options = {}) {
    return this.host("POST", "/exec", { command, env: options.env ?? {}, timeout: options.timeout });
  }

  /** `wsConnect(request, port)` arrives here with the port in `cf-container-target-port`. */
  async fetch(request) {
    const port = request.headers.get("cf-container-target-port");
    if (!port) return new Response("no container port", { status: 400 });
    const url = new URL(request.url);
    const target = `${this.env.CONTAINER_HOST_URL}/port/${port}${url.pathname}${url.search}`;
    const headers = new Headers(request.headers);
    headers.delete("cf-container-target-port");
    return fetch(target, { method: request.method, headers, body: request.body });
  }
}

export default {
  fetch() {
    return new Response("fake sandbox worker", { status: 404 });
  },
};
