/**
 * `http://llm.internal/<provider>/v1/...`: the agent's model calls, answered by the Worker. The
 * handler refuses anything but the model API paths of a provider the Worker has a key for, adds
 * the key on the way out (to the provider, or to Cloudflare AI Gateway), passes the answer back as
 * it streams (a 429 or 5xx unchanged, so OpenClaw's own retry and fallback work), and records the
 * call's provider, model, status, duration and token counts, never its content.
 */
import type { Env } from "../env";
import type { EgressHandler } from "./egress";
import { llmProviders, type LlmProvider } from "./llm-providers";
import { meterUsage, type ModelCall } from "./model-usage";
import { gatewaySupervisor } from "./supervisor";

const refuse = (status: number, message: string) =>
  Response.json({ error: { type: "molt_relay_refused", message } }, { status, headers: { "x-molt-relay": "refused" } });

export const llmEgress: EgressHandler = async (request, env) => {
  const url = new URL(request.url);
  const [, providerId, version, ...rest] = url.pathname.split("/");
  const path = `/${rest.join("/")}`;
  const call = `${request.method} ${url.pathname}`;
  const provider = llmProviders(env).find((candidate) => candidate.id === providerId);
  if (!provider) {
    const known = llmProviders(env).map((candidate) => candidate.id);
    return refuse(
      known.length ? 403 : 503,
      known.length
        ? `molt-relay refused ${call}: no model provider "${providerId}" is configured (configured: ${known.join(", ")})`
        : `molt-relay has no model provider key: set ANTHROPIC_API_KEY or OPENAI_API_KEY with \`wrangler secret put\``,
    );
  }
  if (version !== "v1" || !provider.allowed.includes(`${request.method} ${path}`)) {
    return refuse(403, `molt-relay refused ${call}: only the model API of ${provider.id} is forwarded`);
  }
  return forward(request, env, provider, path, url.search);
};

async function forward(request: Request, env: Env, provider: LlmProvider, path: string, search: string): Promise<Response> {
  const body = request.method === "POST" ? await request.text() : undefined;
  const model = modelOf(body);
  const headers = new Headers();
  for (const name of ["content-type", "accept", "anthropic-version", "anthropic-beta", "openai-beta"]) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  for (const [name, value] of Object.entries(provider.auth)) headers.set(name, value);
  const started = Date.now();
  const record = (usage: Partial<ModelCall>) =>
    gatewaySupervisor(env)
      .recordModelCall({ provider: provider.id, model, status: upstream.status, durationMs: Date.now() - started, ...usage })
      .catch(() => undefined);
  let upstream: Response;
  try {
    upstream = await fetch(`${provider.upstream}${path}${search}`, { method: request.method, headers, body });
  } catch (error) {
    upstream = new Response(null, { status: 502 });
    await record({});
    return Response.json({ error: { type: "molt_relay_upstream", message: `cannot reach ${provider.id}: ${error instanceof Error ? error.message : String(error)}` } }, { status: 502 });
  }
  const answer = new Headers(upstream.headers);
  answer.delete("content-length");
  answer.delete("content-encoding");
  if (!upstream.body) {
    await record({});
    return new Response(null, { status: upstream.status, headers: answer });
  }
  const streaming = (upstream.headers.get("content-type") ?? "").includes("text/event-stream");
  return new Response(upstream.body.pipeThrough(meterUsage(streaming, record)), { status: upstream.status, headers: answer });
}

function modelOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const model = (JSON.parse(body) as { model?: unknown }).model;
    return typeof model === "string" ? model.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
