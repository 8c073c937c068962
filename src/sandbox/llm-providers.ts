/**
 * The model providers the agent may call through `http://llm.internal/<provider>/...`, where each
 * one goes, how its key is added, and which of its paths are model API calls. Only providers whose
 * key the Worker holds are offered to the container; the container holds none of the keys.
 */
import type { Env } from "../env";

export const LLM_HOST = "llm.internal";
/** What the container's config holds where OpenClaw insists on a key. Never a real key. */
export const PLACEHOLDER_KEY = "molt-relay-placeholder";

export interface LlmProvider {
  /** The id in OpenClaw's config and the first path segment on `llm.internal`. */
  id: "anthropic" | "openai" | "molt";
  /** Where requests go: the provider itself, or its Cloudflare AI Gateway endpoint. */
  upstream: string;
  /** Headers that carry the key (and the AI Gateway token). */
  auth: Record<string, string>;
  /** Model API calls, as `METHOD /path` after `/<provider>/v1`. */
  allowed: readonly string[];
}

const OPENAI_PATHS = ["POST /chat/completions", "POST /responses", "POST /completions", "POST /embeddings", "GET /models"] as const;
const ANTHROPIC_PATHS = ["POST /messages", "POST /messages/count_tokens", "GET /models"] as const;

/** An OpenAI-compatible base URL that ends in `/v1`. */
export function withV1(base: string): string {
  const trimmed = base.trim().replace(/\/+$/, "");
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

export function llmProviders(env: Env): LlmProvider[] {
  const aig = env.AI_GATEWAY_BASE_URL?.trim().replace(/\/+$/, "");
  const aigAuth: Record<string, string> = aig && env.AI_GATEWAY_TOKEN ? { "cf-aig-authorization": `Bearer ${env.AI_GATEWAY_TOKEN}` } : {};
  const providers: LlmProvider[] = [];
  if (env.ANTHROPIC_API_KEY) {
    providers.push({
      id: "anthropic",
      upstream: aig ? `${aig}/anthropic/v1` : "https://api.anthropic.com/v1",
      auth: { "x-api-key": env.ANTHROPIC_API_KEY, ...aigAuth },
      allowed: ANTHROPIC_PATHS,
    });
  }
  if (env.OPENAI_API_KEY) {
    providers.push({
      id: "openai",
      upstream: aig ? `${aig}/openai` : "https://api.openai.com/v1",
      auth: { authorization: `Bearer ${env.OPENAI_API_KEY}`, ...aigAuth },
      allowed: OPENAI_PATHS,
    });
  }
  if (env.OPENAI_COMPATIBLE_BASE_URL) {
    providers.push({
      id: "molt",
      upstream: withV1(env.OPENAI_COMPATIBLE_BASE_URL),
      auth: env.OPENAI_COMPATIBLE_API_KEY ? { authorization: `Bearer ${env.OPENAI_COMPATIBLE_API_KEY}` } : {},
      allowed: OPENAI_PATHS,
    });
  }
  return providers;
}

/** The provider ids the container may use, for the start script (`MODEL_PROVIDERS`). */
export function offeredProviders(env: Env): string {
  return llmProviders(env)
    .map((provider) => provider.id)
    .join(",");
}

/** Every key the Worker holds for providers: none may appear in the container, a log or a reply. */
export function providerSecrets(env: Env): string[] {
  return [env.ANTHROPIC_API_KEY, env.OPENAI_API_KEY, env.OPENAI_COMPATIBLE_API_KEY, env.AI_GATEWAY_TOKEN].filter((key): key is string => Boolean(key));
}
