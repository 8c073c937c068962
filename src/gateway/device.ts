/**
 * The relay's device identity on the gateway: an Ed25519 key pair made with Web Crypto. The
 * gateway pairs devices by the key's fingerprint and checks every connect by a signature over
 * the server's challenge (payload v3, as in OpenClaw's gateway-client `buildDeviceAuthPayloadV3`).
 */

export interface StoredDeviceIdentity {
  /** sha256 of the raw public key, hex: the gateway's device id. */
  id: string;
  /** Raw public key, base64url. */
  publicKey: string;
  /** Private key as a JWK (kept in Durable Object storage, never logged). */
  privateJwk: JsonWebKey;
}

export interface DeviceSigner {
  readonly id: string;
  readonly publicKey: string;
  sign(payload: string): Promise<string>;
}

const ED25519 = { name: "Ed25519" } as const;

export async function createDeviceIdentity(): Promise<StoredDeviceIdentity> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { id: await fingerprint(raw), publicKey: base64url(raw), privateJwk };
}

export async function loadDeviceSigner(identity: StoredDeviceIdentity): Promise<DeviceSigner> {
  const key = await crypto.subtle.importKey("jwk", identity.privateJwk, ED25519, false, ["sign"]);
  return {
    id: identity.id,
    publicKey: identity.publicKey,
    async sign(payload) {
      const signature = await crypto.subtle.sign(ED25519, key, new TextEncoder().encode(payload));
      return base64url(new Uint8Array(signature));
    },
  };
}

export interface DeviceAuthFields {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  signedAtMs: number;
  token: string | null;
  nonce: string;
  platform: string;
  deviceFamily?: string;
}

/** The v3 string the gateway verifies: fields joined by `|`, platform and family lower-cased. */
export function deviceAuthPayloadV3(fields: DeviceAuthFields): string {
  return [
    "v3",
    fields.deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(fields.signedAtMs),
    fields.token ?? "",
    fields.nonce,
    normaliseMetadata(fields.platform),
    normaliseMetadata(fields.deviceFamily),
  ].join("|");
}

function normaliseMetadata(value: string | undefined): string {
  return (value ?? "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export async function fingerprint(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
