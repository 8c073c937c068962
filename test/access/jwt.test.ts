/**
 * The Access JWT matrix: every case goes through the Worker's /admin surface (the real verifier,
 * fetching the stand-in team's JWKS), and each rejection must be for its own reason.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { accessSettings, createAccessVerifier } from "../../src/access/verify";
import { adminRequest, certsFetches, claims, rotateAccessKey, signAccessToken } from "../support/access-token";

const b64url = (value: unknown) => btoa(typeof value === "string" ? value : JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const now = () => Math.floor(Date.now() / 1000);

async function publishedKid(): Promise<string> {
  const certs = (await (await fetch(`${env.ACCESS_TEAM_DOMAIN}/cdn-cgi/access/certs`)).json()) as { keys: { kid: string }[] };
  return certs.keys[0]!.kid;
}

/** HS256 over the token, keyed with the bytes of the published public key: the classic algorithm confusion. */
async function hs256WithPublicKey(): Promise<string> {
  const certs = (await (await fetch(`${env.ACCESS_TEAM_DOMAIN}/cdn-cgi/access/certs`)).json()) as { public_cert: { kid: string; cert: string } };
  const input = `${b64url({ alg: "HS256", typ: "JWT", kid: certs.public_cert.kid })}.${b64url(claims())}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(certs.public_cert.cert), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${b64url(String.fromCharCode(...mac))}`;
}

async function expectRejected(token: string | null, reason: RegExp) {
  const response = await adminRequest("/admin/status", { token });
  const body = (await response.json()) as { error: string };
  expect(response.status, body.error).toBe(401);
  expect(body.error).toMatch(reason);
}

describe("Cloudflare Access JWT on /admin", () => {
  it("accepts a valid token from an admin", async () => {
    const response = await adminRequest("/admin/status");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean; title: string; data: { gateway: { phase: string } } };
    expect(body.ok).toBe(true);
    expect(body.title).toBe("Status");
    expect(body.data.gateway.phase).toBeTypeOf("string");
  });

  it("rejects an expired token", async () => {
    await expectRejected(await signAccessToken(claims(undefined, { exp: now() - 120, iat: now() - 900, nbf: now() - 900 })), /ERR_JWT_EXPIRED: exp/);
  });

  it("rejects a token whose nbf is in the future", async () => {
    await expectRejected(await signAccessToken(claims(undefined, { nbf: now() + 600 })), /ERR_JWT_CLAIM_VALIDATION_FAILED: nbf/);
  });

  it("rejects the wrong audience", async () => {
    await expectRejected(await signAccessToken(claims(undefined, { aud: ["another-application"] })), /ERR_JWT_CLAIM_VALIDATION_FAILED: aud/);
  });

  it("rejects the wrong issuer", async () => {
    await expectRejected(await signAccessToken(claims(undefined, { iss: "https://evil.cloudflareaccess.com" })), /ERR_JWT_CLAIM_VALIDATION_FAILED: iss/);
  });

  it("rejects a token without exp", async () => {
    await expectRejected(await signAccessToken(claims(undefined, { exp: undefined })), /ERR_JWT_CLAIM_VALIDATION_FAILED: exp/);
  });

  it("rejects alg: none", async () => {
    const token = `${b64url({ alg: "none", typ: "JWT", kid: await publishedKid() })}.${b64url(claims())}.`;
    await expectRejected(token, /ERR_JOSE_ALG_NOT_ALLOWED/);
  });

  it("rejects HS256 signed with the public key", async () => {
    await expectRejected(await hs256WithPublicKey(), /ERR_JOSE_ALG_NOT_ALLOWED/);
  });

  it("rejects a token signed by a key the team never published (unknown kid)", async () => {
    await expectRejected(await signAccessToken(claims(), { kid: `ghost-${crypto.randomUUID()}` }), /ERR_JWKS_NO_MATCHING_KEY/);
  });

  it("rejects a tampered payload", async () => {
    const [header, , signature] = (await signAccessToken(claims("bob@example.com"))).split(".");
    await expectRejected(`${header}.${b64url(claims())}.${signature}`, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it("rejects a missing header", async () => {
    await expectRejected(null, /missing Cf-Access-Jwt-Assertion/);
  });

  it("rejects garbage", async () => {
    await expectRejected("not-a-jwt", /ERR_JWS_INVALID|ERR_JWT_INVALID/);
    await expectRejected("a.b.c", /ERR_JWS_INVALID|ERR_JWT_INVALID/);
  });

  it("fetches the new key after a rotation", async () => {
    const settings = accessSettings(env)!;
    // A fresh verifier (its own JWKS cache); no cooldown so the test needn't wait jose's 30 s.
    const verify = createAccessVerifier(settings, { cooldownMs: 0 });
    expect((await verify(await signAccessToken(claims()))).id).toBe("access:admin@example.com");
    const before = await certsFetches();

    const kid = await rotateAccessKey();
    const identity = await verify(await signAccessToken(claims("carol@example.com"), { kid }));
    expect(identity.id).toBe("access:carol@example.com");
    expect(await certsFetches()).toBeGreaterThan(before);
  });

  it("names a service token by its client id", async () => {
    const verify = createAccessVerifier(accessSettings(env)!);
    const identity = await verify(await signAccessToken(claims(undefined, { email: undefined, common_name: "abc123.access" })));
    expect(identity.id).toBe("access:abc123.access");
  });
});

describe("Access settings", () => {
  it("takes a team domain, an https origin, or a loopback http origin for tests", () => {
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: "myteam.cloudflareaccess.com", ACCESS_AUD: "aud" })).toEqual({
      issuer: "https://myteam.cloudflareaccess.com",
      certsUrl: "https://myteam.cloudflareaccess.com/cdn-cgi/access/certs",
      audience: "aud",
    });
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: "http://127.0.0.1:9999", ACCESS_AUD: "aud" })?.issuer).toBe("http://127.0.0.1:9999");
  });

  it("is closed without a team domain, without an AUD, or with plain http to a public host", () => {
    expect(accessSettings({ ACCESS_AUD: "aud" })).toBeUndefined();
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: "myteam.cloudflareaccess.com" })).toBeUndefined();
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: "http://myteam.cloudflareaccess.com", ACCESS_AUD: "aud" })).toBeUndefined();
  });
});
