/**
 * Signed, expiring links to media in R2, for files a platform won't take (too large, or the upload
 * failed). The key is derived from the gateway token, so no extra secret is needed; a link names
 * one object and stops working after its expiry.
 */
import type { Env } from "../env";

const LINK_TTL_SECONDS = 7 * 24 * 3600;
/** The only objects a link may serve: the agent's media, never the rest of the bucket. */
export const MEDIA_PREFIX = "media/";

async function linkKey(secret: string): Promise<CryptoKey> {
  const material = new TextEncoder().encode(`molt-relay media link:${secret}`);
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})+$/.test(text)) return undefined;
  return new Uint8Array(text.match(/../g)!.map((pair) => parseInt(pair, 16)));
}

export async function signedMediaLink(publicUrl: string, key: string, secret: string, nowMs = Date.now()): Promise<string> {
  const expires = Math.floor(nowMs / 1000) + LINK_TTL_SECONDS;
  const signature = await crypto.subtle.sign("HMAC", await linkKey(secret), new TextEncoder().encode(`${key}\n${expires}`));
  const url = new URL(`/${key.split("/").map(encodeURIComponent).join("/")}`, publicUrl);
  url.searchParams.set("expires", String(expires));
  url.searchParams.set("sig", hex(signature));
  return url.href;
}

/** Serve `GET /media/...` for a valid, unexpired signature; 403 otherwise, 404 when the object is gone. */
export async function serveMediaLink(request: Request, env: Env, nowMs = Date.now()): Promise<Response> {
  const url = new URL(request.url);
  const key = mediaKeyOf(url.pathname);
  if (key === undefined) return Response.json({ error: "invalid or expired media link" }, { status: 403 });
  const expires = Number(url.searchParams.get("expires"));
  const signature = unhex(url.searchParams.get("sig") ?? "");
  if (!signature || !Number.isInteger(expires) || expires * 1000 < nowMs) {
    return Response.json({ error: "invalid or expired media link" }, { status: 403 });
  }
  const valid = await crypto.subtle.verify("HMAC", await linkKey(env.GATEWAY_TOKEN), signature, new TextEncoder().encode(`${key}\n${expires}`));
  if (!valid) return Response.json({ error: "invalid or expired media link" }, { status: 403 });
  const object = await env.MEDIA.get(key);
  if (!object) return Response.json({ error: "media not found" }, { status: 404 });
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("content-length", String(object.size));
  headers.set("cache-control", "private, max-age=3600");
  return new Response(object.body, { headers });
}

/**
 * The object key a link's path names, if it stays under MEDIA_PREFIX: no empty, `.` or `..`
 * segment (decoded, so `%2e%2e` and `%2F` count), whatever was signed. Undefined otherwise, and
 * for a malformed escape.
 */
function mediaKeyOf(pathname: string): string | undefined {
  let key: string;
  try {
    key = pathname.slice(1).split("/").map(decodeURIComponent).join("/");
  } catch {
    return undefined;
  }
  if (!key.startsWith(MEDIA_PREFIX) || key.split("/").some((part) => part === "" || part === "." || part === "..")) return undefined;
  return key;
}
