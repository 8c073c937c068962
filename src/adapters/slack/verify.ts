/**
 * Slack request signing (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<raw body>")>`.
 * Checked over the raw bytes with Web Crypto's constant-time `verify`, inside a 300 s window in
 * both directions. The clock is a parameter so tests can replay Slack's published example.
 */
import { VerificationError } from "../../errors";

/** How far the request's timestamp may be from our clock, either way. */
export const SLACK_TIMESTAMP_TOLERANCE_S = 300;

const encoder = new TextEncoder();

export async function verifySlackRequest(
  rawBody: ArrayBuffer | string,
  headers: Headers,
  secret: string,
  nowMs: number,
): Promise<void> {
  const timestamp = headers.get("x-slack-request-timestamp");
  const signature = headers.get("x-slack-signature");
  if (!timestamp || !signature) throw new VerificationError("missing Slack signature headers");
  if (!/^\d{1,12}$/.test(timestamp)) throw new VerificationError("malformed Slack timestamp");
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_S) {
    throw new VerificationError("Slack timestamp outside the allowed window");
  }
  const match = /^v0=([0-9a-f]{64})$/i.exec(signature);
  if (!match?.[1]) throw new VerificationError("malformed Slack signature");

  const body = typeof rawBody === "string" ? encoder.encode(rawBody) : new Uint8Array(rawBody);
  const prefix = encoder.encode(`v0:${timestamp}:`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);

  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), hexToBytes(match[1]), signed);
  if (!ok) throw new VerificationError("Slack signature does not match");
}

/** The imported key, kept for the isolate's life: importing it again on every request costs more than the check. */
let cached: { secret: string; key: Promise<CryptoKey> } | undefined;
function hmacKey(secret: string): Promise<CryptoKey> {
  if (cached?.secret !== secret) {
    cached = { secret, key: crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]) };
  }
  return cached.key;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
