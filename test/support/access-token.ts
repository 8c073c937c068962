/**
 * Tokens from the stand-in Access team domain (test/support/access-jwks.mjs), and admin requests
 * carrying them. The signing keys stay in Node; tests ask the server to sign.
 */
import { env, SELF } from "cloudflare:test";

export const ADMIN_EMAIL = "admin@example.com";

export const accessOrigin = () => env.ACCESS_TEAM_DOMAIN!;

/** Claims Access would put in a token for `email`, valid now. */
export function claims(email = ADMIN_EMAIL, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: [env.ACCESS_AUD],
    email,
    exp: now + 600,
    iat: now,
    nbf: now,
    iss: accessOrigin(),
    sub: crypto.randomUUID(),
    type: "app",
    identity_nonce: "nonce",
    country: "XX",
    ...overrides,
  };
}

export async function signAccessToken(payload: Record<string, unknown>, options: { kid?: string; header?: Record<string, unknown> } = {}): Promise<string> {
  const response = await fetch(`${accessOrigin()}/_test/sign`, { method: "POST", body: JSON.stringify({ payload, ...options }) });
  return ((await response.json()) as { token: string }).token;
}

export async function rotateAccessKey(): Promise<string> {
  return ((await (await fetch(`${accessOrigin()}/_test/rotate`, { method: "POST" })).json()) as { kid: string }).kid;
}

export async function certsFetches(): Promise<number> {
  return ((await (await fetch(`${accessOrigin()}/_test/stats`)).json()) as { certsFetches: number }).certsFetches;
}

/** A request to the admin surface as Access would forward it. */
export async function adminRequest(path: string, options: { token?: string | null; email?: string; body?: unknown } = {}): Promise<Response> {
  const token = options.token === undefined ? await signAccessToken(claims(options.email)) : options.token;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers["cf-access-jwt-assertion"] = token;
  return SELF.fetch(`https://relay.test${path}`, {
    method: options.body === undefined ? "GET" : "POST",
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
  });
}
