/**
 * Local development (`npm run dev`): the gateway runs as a process on this machine, not in a
 * container, so nothing intercepts its model calls. It calls the Worker instead, at
 * `http://127.0.0.1:<port>/_dev/llm/<provider>/v1/...`, which runs the very same `llm.internal`
 * handler (keys added, paths checked, usage counted). The route exists only when `DEV_LLM_ROUTE`
 * is set (scripts/dev.mjs sets it) and answers only on a loopback host: never on a deployment.
 */
import type { Env } from "../env";
import { llmEgress } from "./llm-egress";
import { LLM_HOST } from "./llm-providers";

export const DEV_LLM_PREFIX = "/_dev/llm/";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export async function devLlmRoute(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  if (env.DEV_LLM_ROUTE !== "1" || !LOOPBACK.has(url.hostname)) return new Response("not found", { status: 404 });
  const target = `http://${LLM_HOST}/${url.pathname.slice(DEV_LLM_PREFIX.length)}${url.search}`;
  return llmEgress(new Request(target, request), env, { containerId: "dev", className: "dev" });
}
