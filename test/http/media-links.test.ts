/**
 * The signed `/media/*` links: the one public route that serves the agent's files. A link is an
 * HMAC over the object key and an expiry; anything else (another key, a changed signature or
 * expiry, a path outside `media/`) is refused with 403, and a gone object is a 404. Requests go
 * through the Worker, as a browser's would.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { serveMediaLink, signedMediaLink } from "../../src/bridge/media-links";

const DAY_MS = 24 * 3600 * 1000;

/** A fresh object under media/, with its bytes. */
async function storedPicture(name = "shot.png"): Promise<{ key: string; bytes: Uint8Array }> {
  const key = `media/testchat:C${crypto.randomUUID().slice(0, 8)}/1/${crypto.randomUUID().slice(0, 8)}-${name}`;
  const bytes = crypto.getRandomValues(new Uint8Array(2048));
  await env.MEDIA.put(key, bytes, { httpMetadata: { contentType: "image/png" } });
  return { key, bytes };
}

const link = (key: string, nowMs?: number) => signedMediaLink(env.PUBLIC_URL!, key, env.GATEWAY_TOKEN, nowMs);
const get = (url: string) => SELF.fetch(url);

/** The same link with its path, or one query parameter, replaced. */
function withPath(url: string, path: string): string {
  const copy = new URL(url);
  return `${copy.origin}${path}${copy.search}`;
}
function withParam(url: string, name: string, value: string): string {
  const copy = new URL(url);
  copy.searchParams.set(name, value);
  return copy.href;
}

describe("signed media links", () => {
  it("serve the object they were signed for, with its type, until they expire", async () => {
    const { key, bytes } = await storedPicture();
    const url = await link(key);
    expect(new URL(url).pathname.startsWith("/media/")).toBe(true);
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    // Signed six days ago (links last a week): still good.
    expect((await get(await link(key, Date.now() - 6 * DAY_MS))).status).toBe(200);
  });

  it("refuse an expired link, and one whose expiry was pushed back", async () => {
    const { key } = await storedPicture();
    const expired = await link(key, Date.now() - 8 * DAY_MS);
    const refused = await get(expired);
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(env.GATEWAY_TOKEN);
    const stretched = withParam(expired, "expires", String(Math.floor(Date.now() / 1000) + 3600));
    expect((await get(stretched)).status).toBe(403);
  });

  it("refuse a tampered signature, a missing one, and one that isn't hex", async () => {
    const { key } = await storedPicture();
    const url = await link(key);
    const sig = new URL(url).searchParams.get("sig")!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith("0") ? "1" : "0"}`;
    for (const bad of [flipped, "", "zz", sig.slice(0, 32)]) {
      expect((await get(withParam(url, "sig", bad))).status, `sig ${JSON.stringify(bad)}`).toBe(403);
    }
    const unsigned = new URL(url);
    unsigned.searchParams.delete("sig");
    expect((await get(unsigned.href)).status).toBe(403);
  });

  it("refuse a tampered key, and a link used for another object", async () => {
    const a = await storedPicture("a.png");
    const b = await storedPicture("b.png");
    const url = await link(a.key);
    // One character changed in the key.
    expect((await get(withPath(url, new URL(url).pathname.replace("a.png", "c.png")))).status).toBe(403);
    // A's signature and expiry on B's path: B exists, and is still refused.
    expect((await get(withPath(url, new URL(await link(b.key)).pathname)))).toMatchObject({ status: 403 });
  });

  it("never serve anything outside media/, even with a valid signature for it", async () => {
    const secretKey = `config/secret-${crypto.randomUUID().slice(0, 8)}.json`;
    await env.MEDIA.put(secretKey, "{\"token\":\"do not serve\"}");
    // As if the relay had signed a key outside the prefix (it never should).
    const signed = await signedMediaLink(env.PUBLIC_URL!, secretKey, env.GATEWAY_TOKEN);
    const query = new URL(signed).search;
    const encodedKey = encodeURIComponent(secretKey);
    const attempts = [
      // Straight to the serving function (the route only passes /media/*, this must not rely on it).
      () => serveMediaLink(new Request(signed), env),
      () => serveMediaLink(new Request(`https://relay.test/media/../${secretKey}${query}`), env),
      // Through the Worker: dot segments, encoded ones, and encoded slashes.
      () => get(`https://relay.test/media/..%2F${encodedKey}${query}`),
      () => get(`https://relay.test/media/%2e%2e/${secretKey}${query}`),
      () => get(`https://relay.test/media/x/..%2F..%2F${encodedKey}${query}`),
      () => get(`https://relay.test/media//${secretKey}${query}`),
    ];
    for (const attempt of attempts) {
      const response = await attempt();
      expect(response.status).not.toBe(200);
      expect(await response.text()).not.toContain("do not serve");
    }
    // The serving function refuses it outright, signature or not.
    expect((await serveMediaLink(new Request(signed), env)).status).toBe(403);
  });

  it("answer a malformed escape with 403, not an error", async () => {
    const { key } = await storedPicture();
    const url = await link(key);
    expect((await get(withPath(url, `${new URL(url).pathname}%E0%A4%A`))).status).toBe(403);
  });

  it("answer 404 for a validly signed link whose object is gone", async () => {
    const { key } = await storedPicture();
    const url = await link(key);
    await env.MEDIA.delete(key);
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "media not found" });
  });
});
