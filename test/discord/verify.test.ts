/**
 * Discord interaction signatures: Ed25519 over timestamp + raw body, checked with Web Crypto.
 * Known-answer test from RFC 8032, then the negative cases Discord itself probes with, then the
 * route: PING/PONG, 401, 400 for a signed payload of the wrong shape, 404 when unconfigured.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fromHex, verifyDiscordRequest } from "../../src/adapters/discord/verify";
import { VerificationError } from "../../src/errors";
import { startListeners } from "../../src/bridge/listener-object";
import worker from "../../src/index";
import { postInteraction, RFC8032_SEED, signedHeaders, signingKey } from "../support/discord-relay";

const PUBLIC_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/** RFC 8032 section 7.1, test 1: the signature of the empty message. */
const TEST1_SIGNATURE =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
/** RFC 8032 test 2's seed: a valid key that is not the application's. */
const OTHER_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

const body = JSON.stringify({ id: "1", application_id: "1000000000000000001", type: 1 });
const now = Date.now();
const buffer = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

async function check(headers: Record<string, string>, raw = body, at = now): Promise<void> {
  return verifyDiscordRequest(buffer(raw), new Headers(headers), PUBLIC_KEY, at);
}

describe("Ed25519 with Web Crypto", () => {
  it("matches RFC 8032 test 1 both ways", async () => {
    const key = await crypto.subtle.importKey("raw", fromHex(PUBLIC_KEY)!, { name: "Ed25519" }, false, ["verify"]);
    expect(await crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(TEST1_SIGNATURE)!, new Uint8Array())).toBe(true);
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, await signingKey(RFC8032_SEED), new Uint8Array());
    expect([...new Uint8Array(signature)].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(TEST1_SIGNATURE);
  });
});

describe("verifyDiscordRequest", () => {
  it("accepts a request signed with the application's key", async () => {
    await expect(check(await signedHeaders(body))).resolves.toBeUndefined();
  });

  it("rejects a signature made with another key", async () => {
    await expect(check(await signedHeaders(body, { seed: OTHER_SEED }))).rejects.toThrow(VerificationError);
  });

  it("rejects a tampered body", async () => {
    await expect(check(await signedHeaders(body), body.replace('"type":1', '"type":2'))).rejects.toThrow("does not match");
  });

  it("rejects a tampered timestamp", async () => {
    const headers = await signedHeaders(body);
    headers["x-signature-timestamp"] = String(Number(headers["x-signature-timestamp"]) + 1);
    await expect(check(headers)).rejects.toThrow("does not match");
  });

  it("rejects missing headers", async () => {
    const { "x-signature-ed25519": signature, "x-signature-timestamp": timestamp } = await signedHeaders(body);
    await expect(check({ "x-signature-timestamp": timestamp! })).rejects.toThrow("missing");
    await expect(check({ "x-signature-ed25519": signature! })).rejects.toThrow("missing");
    await expect(check({})).rejects.toThrow("missing");
  });

  it("rejects a stale or future timestamp, even when correctly signed", async () => {
    const stale = Math.floor(now / 1000) - 6 * 60;
    await expect(check(await signedHeaders(body, { timestamp: stale }))).rejects.toThrow("stale");
    const future = Math.floor(now / 1000) + 6 * 60;
    await expect(check(await signedHeaders(body, { timestamp: future }))).rejects.toThrow("stale");
  });

  it("rejects malformed signatures", async () => {
    const headers = await signedHeaders(body);
    for (const signature of ["zz", headers["x-signature-ed25519"]!.slice(2), `${headers["x-signature-ed25519"]}00`, ""]) {
      await expect(check({ ...headers, "x-signature-ed25519": signature })).rejects.toThrow(VerificationError);
    }
    await expect(check({ ...headers, "x-signature-timestamp": "12abc" })).rejects.toThrow(VerificationError);
  });
});

describe("POST /discord/interactions", () => {
  it("answers PING with PONG", async () => {
    const response = await postInteraction(JSON.parse(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ type: 1 });
  });

  it("answers 401 to a bad signature, as Discord's probes expect", async () => {
    const headers = await signedHeaders(body, { seed: OTHER_SEED });
    expect((await postInteraction(body, { headers })).status).toBe(401);
    expect((await postInteraction(body, { headers: { "content-type": "application/json" } })).status).toBe(401);
  });

  it("answers 400 to a signed payload of the wrong shape, never 5xx", async () => {
    for (const payload of ["not json", "[]", '{"type":"1"}', '{"id":"1","application_id":"x","type":1}', '{"id":"1","application_id":"1","type":2,"data":{"options":"x"}}']) {
      const response = await postInteraction(payload);
      expect(response.status, payload).toBe(400);
    }
  });

  it("answers 404 and opens no Gateway when Discord is not configured", async () => {
    const unconfigured = { ...env, DISCORD_PUBLIC_KEY: undefined, DISCORD_BOT_TOKEN: undefined };
    const ctx = createExecutionContext();
    const request = new Request("https://relay.test/discord/interactions", { method: "POST", headers: await signedHeaders(body), body });
    const response = await worker.fetch(request, unconfigured, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(404);
    expect(await startListeners(unconfigured)).toEqual({});
    expect(Object.keys(await startListeners(env))).toEqual(["discord"]);
  });
});
