/**
 * Discord interaction authenticity: an Ed25519 signature (`X-Signature-Ed25519`, hex) over
 * `X-Signature-Timestamp` + the raw body, checked with Web Crypto against the application's public
 * key. The check is awaited (a forgotten `await` makes every check pass), and the timestamp must be
 * recent: a captured request can't be replayed later. Discord probes the endpoint with bad
 * signatures and drops it unless they get 401.
 */
import { VerificationError } from "../../errors";

export const SIGNATURE_HEADER = "x-signature-ed25519";
export const TIMESTAMP_HEADER = "x-signature-timestamp";
/** How far a timestamp may be from our clock, either way. */
export const MAX_SKEW_MS = 5 * 60_000;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** The public key, imported once per isolate. */
function publicKey(hex: string): Promise<CryptoKey> {
  let key = keys.get(hex);
  if (!key) {
    const bytes = fromHex(hex);
    if (!bytes || bytes.length !== 32) throw new VerificationError("Discord public key is not 32 bytes of hex");
    key = crypto.subtle.importKey("raw", bytes, { name: "Ed25519" }, false, ["verify"]);
    key.catch(() => keys.delete(hex));
    keys.set(hex, key);
  }
  return key;
}

export async function verifyDiscordRequest(raw: ArrayBuffer, headers: Headers, publicKeyHex: string, now: number): Promise<void> {
  const signature = headers.get(SIGNATURE_HEADER);
  const timestamp = headers.get(TIMESTAMP_HEADER);
  if (!signature || !timestamp) throw new VerificationError("missing Discord signature headers");
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || !Number.isFinite(seconds)) throw new VerificationError("bad Discord timestamp");
  if (Math.abs(now - seconds * 1000) > MAX_SKEW_MS) throw new VerificationError("stale Discord timestamp");
  const signed = fromHex(signature);
  if (!signed || signed.length !== 64) throw new VerificationError("bad Discord signature");
  const message = concat(encoder.encode(timestamp), new Uint8Array(raw));
  let valid = false;
  try {
    valid = await crypto.subtle.verify({ name: "Ed25519" }, await publicKey(publicKeyHex), signed, message);
  } catch {
    valid = false;
  }
  if (!valid) throw new VerificationError("Discord signature does not match");
}

export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
