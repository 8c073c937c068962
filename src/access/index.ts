/**
 * `requireAccess()`: the Hono middleware in front of /admin. Without Access configured the surface
 * is closed (503), never open; there is no bypass, not even for local development.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { HttpError } from "../errors";
import { ACCESS_JWT_HEADER, type AccessIdentity, type AccessVerifier, accessSettings, createAccessVerifier } from "./verify";

export type { AccessIdentity } from "./verify";

/** One verifier (and so one JWKS cache) per team and audience, for the isolate's lifetime. */
const verifiers = new Map<string, AccessVerifier>();

export function requireAccess(): MiddlewareHandler<{ Bindings: Env; Variables: { identity: AccessIdentity } }> {
  return async function requireAccess(c, next) {
    const settings = accessSettings(c.env);
    if (!settings) throw new HttpError(503, "the admin surface is closed: Cloudflare Access is not configured");
    const key = `${settings.certsUrl} ${settings.audience}`;
    let verify = verifiers.get(key);
    if (!verify) verifiers.set(key, (verify = createAccessVerifier(settings)));
    c.set("identity", await verify(c.req.header(ACCESS_JWT_HEADER)));
    await next();
  };
}
