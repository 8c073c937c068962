/**
 * A small typed client for Slack's Web API: JSON (or form, where Slack requires it) over a bound
 * `fetch`, `ok: false` and HTTP errors as PlatformApiError, network failures as
 * PlatformNetworkError, every call through withRetry. Chosen over @slack/web-api: see README.
 */
import type { Env } from "../../env";
import { PlatformApiError, PlatformNetworkError } from "../../errors";
import { defaultRetryPolicy, parseRetryAfter, type RetryPolicy, withRetry } from "../retry";

export const DEFAULT_SLACK_API_URL = "https://slack.com/api/";

export interface SlackApiConfig {
  token: string;
  /** Ends with `/`; method names are appended. */
  baseUrl: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
}

/** Methods Slack only takes form-encoded. */
const FORM_METHODS = new Set(["files.getUploadURLExternal"]);

export function slackApiConfig(env: Env, overrides: Partial<SlackApiConfig> = {}): SlackApiConfig {
  const baseUrl = overrides.baseUrl ?? env.SLACK_API_URL ?? DEFAULT_SLACK_API_URL;
  return {
    token: overrides.token ?? env.SLACK_BOT_TOKEN ?? "",
    baseUrl: baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`,
    // workerd throws "Illegal invocation" on a fetch called detached from the global.
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    retry: overrides.retry ?? defaultRetryPolicy,
  };
}

export type SlackBody = Record<string, unknown>;
export interface SlackOk {
  ok: true;
  [key: string]: unknown;
}

export interface SlackCallOptions {
  /** Safe to repeat after a network failure (status, reads); posts are not. */
  idempotent?: boolean;
}

/** Call one Web API method; resolves to Slack's `ok: true` body. */
export function slackApi<T extends SlackOk = SlackOk>(
  config: SlackApiConfig,
  method: string,
  body: SlackBody,
  options: SlackCallOptions = {},
): Promise<T> {
  return withRetry(() => callOnce<T>(config, method, body), {
    idempotent: options.idempotent,
    policy: config.retry,
  });
}

async function callOnce<T>(config: SlackApiConfig, method: string, body: SlackBody): Promise<T> {
  const form = FORM_METHODS.has(method);
  let response: Response;
  try {
    response = await config.fetch(`${config.baseUrl}${method}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${config.token}`,
        "content-type": form ? "application/x-www-form-urlencoded" : "application/json; charset=utf-8",
      },
      body: form ? toForm(body) : JSON.stringify(body),
    });
  } catch (error) {
    throw new PlatformNetworkError("slack", method, error);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw httpError(response, method, response.statusText || "http_error");
  }
  let result: { ok?: boolean; error?: string };
  try {
    result = await response.json();
  } catch (error) {
    throw new PlatformApiError("slack", method, response.status, "invalid_json_response");
  }
  // Slack reports "ratelimited" in the body of some 200s; treat it like the 429 it means.
  if (result.ok !== true) {
    const code = result.error ?? "unknown_error";
    throw new PlatformApiError("slack", method, code === "ratelimited" ? 429 : 200, code);
  }
  return result as T;
}

/** Slack's host for slash commands' `response_url`s. */
const SLACK_HOOKS_ORIGIN = "https://hooks.slack.com";
/** How a response URL appears in errors and logs: it is a credential, so never the URL itself. */
const RESPONSE_URL = "response_url";

/**
 * A slash command's `response_url` if the relay may post to it, else undefined. Allowed: Slack's
 * hooks host over https, and the origin of the Web API base in use (SLACK_API_URL, which points
 * tests and `npm run dev` at the emulator): a host the relay already trusts with its bot token.
 * Anything else is dropped, so a command can never make the relay post to some other host.
 */
export function trustedResponseUrl(value: unknown, apiBaseUrl: string): string | undefined {
  if (typeof value !== "string" || !value) return undefined;
  try {
    const url = new URL(value);
    const trusted = url.origin === SLACK_HOOKS_ORIGIN || url.origin === new URL(apiBaseUrl).origin;
    return trusted && !url.username && !url.password ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Post a message to a slash command's `response_url`, through withRetry like every call. No token:
 * the URL is its own credential, and it never appears in an error.
 */
export function slackRespond(config: SlackApiConfig, url: string, body: SlackBody): Promise<void> {
  return withRetry(() => respondOnce(config, url, body), { policy: config.retry });
}

async function respondOnce(config: SlackApiConfig, url: string, body: SlackBody): Promise<void> {
  let response: Response;
  try {
    response = await config.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PlatformNetworkError("slack", RESPONSE_URL, reason.replaceAll(url, RESPONSE_URL));
  }
  // Slack answers `{"ok":true}`, or an error code such as 404 `expired_url`; other bodies are not
  // read as failures: a 2xx means the message was taken.
  let result: { ok?: unknown; error?: unknown } = {};
  try {
    result = JSON.parse(await response.text()) ?? {};
  } catch {
    // Not JSON: the status alone decides.
  }
  const code = typeof result.error === "string" ? result.error : undefined;
  if (!response.ok) throw httpError(response, RESPONSE_URL, code ?? (response.statusText || "http_error"));
  if (result.ok === false) throw new PlatformApiError("slack", RESPONSE_URL, code === "ratelimited" ? 429 : 200, code ?? "unknown_error");
}

function httpError(response: Response, method: string, code: string): PlatformApiError {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  return new PlatformApiError("slack", method, response.status, code, retryAfter);
}

function toForm(body: SlackBody): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    form.set(key, typeof value === "string" ? value : JSON.stringify(value));
  }
  return form.toString();
}

/** Whether Slack refused the call itself (as opposed to failing, or limiting the rate). */
export function isSlackRefusal(error: unknown): error is PlatformApiError {
  return error instanceof PlatformApiError && error.status < 500 && error.status !== 429;
}
