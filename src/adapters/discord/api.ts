/**
 * The Discord REST client: `DISCORD_API_URL` (default https://discord.com/api/v10), the bot token,
 * Discord's User-Agent, and every call through withRetry.
 *
 * Rate limits are honoured before and after the fact. Each answer's `X-RateLimit-Bucket`,
 * `-Remaining` and `-Reset-After` are remembered per route (per isolate), and a call to a bucket
 * that is used up waits for its reset instead of earning a 429. A 429 that comes anyway carries
 * `retry_after` (seconds, a float) and `global`; the call waits that long and tries again, and a
 * global one holds back every call. 5xx backs off. A network failure is retried only for calls
 * that can't take effect twice: edits, typing, and message posts, which carry a nonce that Discord
 * enforces (`enforce_nonce`), so a repeated post returns the first message instead of a second.
 */
import type { Env } from "../../env";
import { PlatformApiError, PlatformNetworkError } from "../../errors";
import { defaultRetryPolicy, parseRetryAfter, type RetryPolicy, withRetry } from "../retry";

export const DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10";
export const USER_AGENT = "DiscordBot (https://github.com/molt-relay/molt-relay, 0.1.0)";

export interface DiscordApiConfig {
  token: string;
  /** No trailing slash. */
  baseUrl: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  now: () => number;
}

export function discordApiConfig(env: Env, overrides: Partial<DiscordApiConfig> = {}): DiscordApiConfig {
  return {
    token: overrides.token ?? env.DISCORD_BOT_TOKEN ?? "",
    baseUrl: (overrides.baseUrl ?? env.DISCORD_API_URL ?? DEFAULT_DISCORD_API_URL).replace(/\/+$/, ""),
    // workerd throws "Illegal invocation" on a fetch called detached from the global.
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    retry: overrides.retry ?? defaultRetryPolicy,
    now: overrides.now ?? Date.now,
  };
}

export interface DiscordCallOptions {
  /** A JSON body. */
  json?: unknown;
  /** A body made afresh for each try (multipart uploads stream, and a stream is read once). */
  body?: () => Promise<{ body: BodyInit; headers: Record<string, string> }>;
  /** Safe to send again after a network failure. */
  idempotent?: boolean;
  /** Interaction webhooks (`/webhooks/{app}/{token}`) take no bot token. */
  auth?: boolean;
}

/** What the client remembers about rate limits: per route its bucket, per bucket when it frees up. */
class RateLimits {
  private readonly routes = new Map<string, string>();
  private readonly buckets = new Map<string, { remaining: number; resetAt: number }>();
  globalUntil = 0;

  /** How long a call on `route` must wait before it is sent. */
  waitFor(route: string, now: number): number {
    const bucket = this.buckets.get(this.routes.get(route) ?? route);
    const own = bucket && bucket.remaining <= 0 ? bucket.resetAt - now : 0;
    return Math.max(0, own, this.globalUntil - now);
  }

  learn(route: string, headers: Headers, now: number): void {
    const id = headers.get("x-ratelimit-bucket");
    const remaining = Number(headers.get("x-ratelimit-remaining"));
    const resetAfter = Number(headers.get("x-ratelimit-reset-after"));
    if (!id || !Number.isFinite(remaining) || !Number.isFinite(resetAfter)) return;
    this.routes.set(route, id);
    this.buckets.set(id, { remaining, resetAt: now + resetAfter * 1000 });
    if (this.buckets.size > 1000) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** Shared by every call in this isolate, as Discord counts per bot. */
const limits = new Map<string, RateLimits>();
function rateLimits(config: DiscordApiConfig): RateLimits {
  const key = `${config.baseUrl} ${config.token.slice(-8)}`;
  let found = limits.get(key);
  if (!found) limits.set(key, (found = new RateLimits()));
  return found;
}

/** The rate-limit route of a path: major parameters (channel, webhook) kept, message ids folded. */
export function routeKey(method: string, path: string): string {
  return `${method} ${path.replace(/\?.*$/, "").replace(/\/messages\/(\d+)/, "/messages/:id").replace(/\/webhooks\/(\d+)\/[^/]+/, "/webhooks/$1/:token")}`;
}

export async function discordRequest<T = unknown>(config: DiscordApiConfig, method: string, path: string, options: DiscordCallOptions = {}): Promise<T> {
  const route = routeKey(method, path);
  const state = rateLimits(config);
  return withRetry(
    async () => {
      const wait = state.waitFor(route, config.now());
      if (wait > config.retry.maxWaitMs) throw new PlatformApiError("discord", route, 429, "rate limited (bucket exhausted)", wait);
      if (wait > 0) await config.retry.sleep(wait);
      const headers: Record<string, string> = { "user-agent": USER_AGENT };
      if (options.auth !== false) headers.authorization = `Bot ${config.token}`;
      let body: BodyInit | undefined;
      if (options.body) {
        const made = await options.body();
        body = made.body;
        Object.assign(headers, made.headers);
      } else if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers["content-type"] = "application/json";
      }
      let response: Response;
      try {
        response = await config.fetch(`${config.baseUrl}${path}`, { method, headers, body });
      } catch (error) {
        throw new PlatformNetworkError("discord", route, error);
      }
      state.learn(route, response.headers, config.now());
      if (response.status === 204) return undefined as T;
      const text = await response.text().catch(() => "");
      const data = parseJson(text);
      if (response.ok) return data as T;
      if (response.status === 429) {
        const retryAfter = typeof data?.retry_after === "number" ? data.retry_after * 1000 : parseRetryAfter(response.headers.get("retry-after"));
        if (data?.global === true || response.headers.get("x-ratelimit-global") === "true") state.globalUntil = config.now() + (retryAfter ?? 1000);
        throw new PlatformApiError("discord", route, 429, "rate limited", retryAfter ?? 1000);
      }
      const code = data ? `${data.code ?? ""} ${data.message ?? ""}`.trim() : `HTTP ${response.status}`;
      throw new PlatformApiError("discord", route, response.status, code || `HTTP ${response.status}`);
    },
    { idempotent: options.idempotent, policy: config.retry },
  );
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The webhook path of an interaction's responses. */
export function interactionPath(interaction: { application_id: string; token: string }): string {
  return `/webhooks/${interaction.application_id}/${encodeURIComponent(interaction.token)}`;
}
