/**
 * Verifying Cloudflare Access's `Cf-Access-Jwt-Assertion`: RS256 only, signed by a key of the
 * team's JWKS (`<team>/cdn-cgi/access/certs`, cached; refetched when an unknown key id shows up
 * after a rotation), issued by the team domain, for this application's AUD tag, within a small
 * clock tolerance. Anything else is a VerificationError (401).
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Env } from "../env";
import { VerificationError } from "../errors";

export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";
/** Seconds of clock skew allowed on exp/nbf/iat. */
export const CLOCK_TOLERANCE_S = 30;

export interface AccessSettings {
  /** `https://<team>.cloudflareaccess.com`, or a loopback origin in local tests. */
  issuer: string;
  certsUrl: string;
  audience: string;
}

export interface AccessIdentity {
  /** `access:<email>` (or `access:<service token client id>`): the form ADMINS and the audit log use. */
  id: string;
  email?: string;
}

/**
 * Access settings from the environment, or undefined (the admin surface is then closed). A plain
 * `http://` origin is taken only for a loopback host: it exists for local tests.
 */
export function accessSettings(env: Pick<Env, "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD">): AccessSettings | undefined {
  const domain = env.ACCESS_TEAM_DOMAIN?.trim();
  const audience = env.ACCESS_AUD?.trim();
  if (!domain || !audience) return undefined;
  let origin: URL;
  try {
    origin = new URL(/^[a-z]+:\/\//i.test(domain) ? domain : `https://${domain}`);
  } catch {
    return undefined;
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(origin.hostname);
  if (origin.protocol !== "https:" && !(origin.protocol === "http:" && loopback)) return undefined;
  return { issuer: origin.origin, certsUrl: `${origin.origin}/cdn-cgi/access/certs`, audience };
}

export interface VerifierOptions {
  /** Keys to verify with instead of fetching the team's JWKS. */
  keys?: JWTVerifyGetKey;
  /** Least time between two JWKS fetches triggered by unknown key ids (jose's default: 30 s). */
  cooldownMs?: number;
  fetch?: typeof fetch;
}

export type AccessVerifier = (token: string | null | undefined) => Promise<AccessIdentity>;

export function createAccessVerifier(settings: AccessSettings, options: VerifierOptions = {}): AccessVerifier {
  const keys = options.keys ?? remoteKeys(settings.certsUrl, options);
  return async function verifyAccessToken(token) {
    if (!token) throw new VerificationError("missing Cf-Access-Jwt-Assertion header");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ["RS256"],
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw new VerificationError(`invalid Access token (${reason(error)})`);
    }
    const email = typeof payload.email === "string" && payload.email ? payload.email.toLowerCase() : undefined;
    // Service tokens carry no email: their client id is in common_name.
    const name = email ?? (typeof payload.common_name === "string" && payload.common_name ? payload.common_name : undefined);
    if (!name) throw new VerificationError("Access token names no identity");
    return { id: `access:${name}`, ...(email ? { email } : {}) };
  };
}

function remoteKeys(url: string, options: VerifierOptions): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(url), {
    ...(options.cooldownMs !== undefined ? { cooldownDuration: options.cooldownMs } : {}),
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
}

/** A short, secret-free reason: jose's code, and the claim for claim failures. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) return `${error.code}: ${error.claim}`;
  if (error instanceof errors.JOSEError) return error.code;
  return "malformed";
}
