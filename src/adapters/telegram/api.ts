/**
 * The Bot API client: grammY's `Api` (its web build) with `apiRoot` from TELEGRAM_API_URL and a
 * bound `fetch`, every call through withRetry. grammY's two error types map onto the relay's:
 * GrammyError (Telegram answered `ok: false`) becomes PlatformApiError with the method, the
 * error_code, the description and `parameters.retry_after`; HttpError (no usable answer) becomes
 * PlatformNetworkError, which is never resent unless the call is marked idempotent.
 */
import { Api, GrammyError, HttpError } from "grammy/web";
import type { Env } from "../../env";
import { PlatformApiError, PlatformNetworkError } from "../../errors";
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../retry";

export const DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org";

export interface TelegramApiConfig {
  token: string;
  /** No trailing slash (grammY insists). */
  apiRoot: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
}

export function telegramApiConfig(env: Env, overrides: Partial<TelegramApiConfig> = {}): TelegramApiConfig {
  return {
    token: overrides.token ?? env.TELEGRAM_BOT_TOKEN ?? "",
    apiRoot: (overrides.apiRoot ?? env.TELEGRAM_API_URL ?? DEFAULT_TELEGRAM_API_URL).replace(/\/+$/, ""),
    // workerd throws "Illegal invocation" on a fetch called detached from the global.
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    retry: overrides.retry ?? defaultRetryPolicy,
  };
}

type RawApi = Api["raw"];
export type TelegramMethod = keyof RawApi & string;
export type TelegramPayload<M extends TelegramMethod> = Parameters<RawApi[M]>[0];
export type TelegramResult<M extends TelegramMethod> = Awaited<ReturnType<RawApi[M]>>;

export interface TelegramCallOptions {
  /** Safe to repeat after a network failure (chat actions, edits); sends are not. */
  idempotent?: boolean;
}

/** One Bot API method call; `payload` is a function when each try needs fresh input (uploads). */
export type TelegramCall = <M extends TelegramMethod>(
  method: M,
  payload: TelegramPayload<M> | (() => Promise<TelegramPayload<M>>),
  options?: TelegramCallOptions,
) => Promise<TelegramResult<M>>;

export function telegramClient(config: TelegramApiConfig): TelegramCall {
  const api = new Api(config.token, { apiRoot: config.apiRoot, fetch: jsonErrors(config.fetch) as typeof fetch });
  return (method, payload, options = {}) =>
    withRetry(
      async () => {
        const args = typeof payload === "function" ? await payload() : payload;
        try {
          const call = api.raw[method] as (args: unknown) => Promise<never>;
          return await call(args);
        } catch (error) {
          throw toPlatformError(method, error);
        }
      },
      { idempotent: options.idempotent, policy: config.retry },
    );
}

export function toPlatformError(method: string, error: unknown): Error {
  if (error instanceof GrammyError) {
    const retryAfter = error.parameters?.retry_after;
    return new PlatformApiError("telegram", method, error.error_code, error.description, retryAfter === undefined ? undefined : retryAfter * 1000);
  }
  if (error instanceof HttpError) return new PlatformNetworkError("telegram", method, error.error);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A proxy in front of Telegram can answer 5xx with an HTML page; grammY would report that as a
 * network failure. Turn any non-JSON answer into Telegram's error shape so it stays a retryable
 * PlatformApiError with its real status.
 */
function jsonErrors(base: typeof fetch): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const response = await base(input, init);
    if ((response.headers.get("content-type") ?? "").includes("json")) return response;
    await response.body?.cancel();
    const description = `HTTP ${response.status} ${response.statusText}`.trim();
    return Response.json({ ok: false, error_code: response.status, description }, { status: response.status });
  };
}

/** Telegram said no to the call itself (not a rate limit, not a server failure). */
export function isTelegramRefusal(error: unknown): error is PlatformApiError {
  return error instanceof PlatformApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

/** An edit that changed nothing: Telegram calls it an error, the relay calls it done. */
export function isNotModified(error: unknown): boolean {
  return error instanceof PlatformApiError && /message is not modified/i.test(error.code);
}
