/**
 * The console's defences, on top of Access (which every /admin request passes first):
 * - only ADMINS see a page (the same check `/molt` commands make);
 * - an action is a POST from this console's own pages: `Sec-Fetch-Site` and `Origin` must say so,
 *   and the form must carry this Access session's token. A logged-in owner's browser sends Access's
 *   cookie with any request, including one a hostile page makes it send: these checks are what
 *   stop that request;
 * - strict headers on every response: no scripts at all, no framing, no caching, no referrer to other sites.
 */
import type { MiddlewareHandler } from "hono";
import type { AccessIdentity } from "../../access";
import { ACCESS_JWT_HEADER } from "../../access/verify";
import type { Env } from "../../env";
import { HttpError } from "../../errors";
import { isAdmin } from "../../policy/admission";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

type ConsoleEnv = { Bindings: Env; Variables: { identity: AccessIdentity } };

/** Strict headers on every /admin response, errors included. */
export function consoleHeaders(): MiddlewareHandler {
  return async function consoleHeaders(c, next) {
    await next();
    c.res.headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
    c.res.headers.set("x-frame-options", "DENY");
    c.res.headers.set("x-content-type-options", "nosniff");
    // Not `no-referrer`: with it, Chromium sends `Origin: null` on the console's own form posts.
    c.res.headers.set("referrer-policy", "same-origin");
    c.res.headers.set("cache-control", "no-store");
  };
}

/** An Access user who is not in ADMINS gets a 403, not a page. */
export function requireAdmin(): MiddlewareHandler<ConsoleEnv> {
  return async function requireAdmin(c, next) {
    const { id } = c.get("identity");
    if (!isAdmin(c.env, id)) throw new HttpError(403, `the console is for admins only, and ${id} isn't one`);
    await next();
  };
}

/** Why a POST is not from this console's own pages, or undefined when it is. */
export function crossSiteReason(request: Request, env: Pick<Env, "PUBLIC_URL">): string | undefined {
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin") return `the request came from another site (Sec-Fetch-Site: ${site})`;
  const origin = request.headers.get("origin");
  if (!origin) return site ? undefined : "the request names no origin";
  const allowed = [new URL(request.url).origin, env.PUBLIC_URL ? safeOrigin(env.PUBLIC_URL) : undefined];
  return allowed.includes(origin) ? undefined : `the request came from ${origin.slice(0, 100)}`;
}

/**
 * The per-session token of an Access session: an HMAC of its token under a key derived from the
 * relay's own secret. Another site can neither read it nor compute it; a new Access session gets
 * a new one.
 */
export async function sessionToken(env: Pick<Env, "GATEWAY_TOKEN">, accessJwt: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await tokenKey(env), new TextEncoder().encode(accessJwt));
  return base64url(new Uint8Array(signature));
}

export async function sessionTokenValid(env: Pick<Env, "GATEWAY_TOKEN">, accessJwt: string, token: string): Promise<boolean> {
  const bytes = fromBase64url(token);
  if (!bytes || bytes.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await tokenKey(env), bytes, new TextEncoder().encode(accessJwt));
}

export function accessJwt(request: Request): string {
  return request.headers.get(ACCESS_JWT_HEADER) ?? "";
}

async function tokenKey(env: Pick<Env, "GATEWAY_TOKEN">): Promise<CryptoKey> {
  if (!env.GATEWAY_TOKEN) throw new HttpError(503, "the console needs GATEWAY_TOKEN to be set");
  const encode = (text: string) => new TextEncoder().encode(text);
  const base = await crypto.subtle.importKey("raw", encode(env.GATEWAY_TOKEN), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encode("molt-relay console"), info: encode("session token") },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
