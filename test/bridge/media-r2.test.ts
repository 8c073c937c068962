/**
 * R2 answers an occasional transient error (10001, "Please try again"). A file the agent made must
 * still reach the user: its copy into R2 and each read of it for an upload are tried again
 * (src/bridge/media.ts). Found by the chaos soak's R2 faults: one failed `put` or `get` lost the
 * file (the turn could only say it couldn't deliver it). miniflare's R2 can't be told to fail, so
 * the bucket here is the real binding with its first calls refused, as R2 refuses them.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { awaitArtifacts, storeArtifact, type MediaContext } from "../../src/bridge/media";
import { GatewayClient } from "../../src/gateway/client";
import { GatewayRequestError } from "../../src/gateway/errors";
import { createDeviceIdentity, loadDeviceSigner } from "../../src/gateway/device";
import { urlTransport } from "../../src/gateway/transport";
import { runToEnd } from "../support/gateway-run";

const open: GatewayClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

/** The MEDIA binding, with its first `puts` puts and `gets` gets refused; counts what it refused. */
function flakyBucket(puts: number, gets: number) {
  const refused = { put: 0, get: 0 };
  const limit = { put: puts, get: gets };
  /** Whether this call is refused (counted), as R2 refuses it: before it reaches storage. */
  const refuse = (op: "put" | "get") => {
    if (refused[op] >= limit[op]) return undefined;
    refused[op]++;
    return Promise.reject(new Error(`${op}: We encountered an internal error. Please try again. (10001)`));
  };
  const bucket = {
    head: (key: string) => env.MEDIA.head(key),
    put: (...args: Parameters<R2Bucket["put"]>) => refuse("put") ?? env.MEDIA.put(...args),
    get: (key: string) => refuse("get") ?? env.MEDIA.get(key),
  } as unknown as R2Bucket;
  return { bucket, refused };
}

/** A picture made by the agent (the real gateway, the stand-in model): the media context of its run. */
async function pictureRun(bucket: R2Bucket): Promise<MediaContext> {
  const device = await loadDeviceSigner(await createDeviceIdentity());
  const transport = urlTransport(env.GATEWAY_URL!);
  const client = await GatewayClient.connect(transport, { token: env.GATEWAY_TOKEN, device });
  open.push(client);
  const sessionKey = `test:media-r2:${crypto.randomUUID()}`;
  const { ack, events } = await runToEnd(client, sessionKey, "a picture please");
  expect(events.at(-1)).toBe("final");
  return { client, transport, bucket, token: env.GATEWAY_TOKEN, sessionKey, runId: ack.runId, keyPrefix: `test-r2/${crypto.randomUUID()}`, waitMs: 15_000 };
}

describe("media through R2's transient errors", () => {
  it("copies the file and reads it for the upload despite two refused puts and two refused gets", async () => {
    const { bucket, refused } = flakyBucket(2, 2);
    const ctx = await pictureRun(bucket);
    const [artifact] = await awaitArtifacts(ctx);
    expect(artifact).toBeDefined();
    const item = await storeArtifact(ctx, artifact!);
    const bytes = new Uint8Array(await new Response(await item.open()).arrayBuffer());
    // The PNG the model made, whole, from the one object stored.
    expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.length).toBe(item.size);
    expect((await env.MEDIA.head(item.key))?.size).toBe(item.size);
    expect(refused).toEqual({ put: 2, get: 2 });
  });

  it("waits out an artifact the download doesn't know yet, as a loaded gateway answers right after listing it", async () => {
    const ctx = await pictureRun(env.MEDIA);
    const [artifact] = await awaitArtifacts(ctx);
    // The gateway's own answer, seen in the 1,000-message soak for over a second after the listing:
    // the first five downloads are answered with it before they reach the gateway.
    let refused = 0;
    const request = ctx.client.request.bind(ctx.client);
    ctx.client.request = ((method: string, params: unknown, timeoutMs?: number) => {
      if (method === "artifacts.download" && refused < 5) {
        refused++;
        return Promise.reject(new GatewayRequestError(method, "INVALID_REQUEST", "artifact not found", undefined, false));
      }
      return request(method, params, timeoutMs);
    }) as typeof ctx.client.request;
    const item = await storeArtifact(ctx, artifact!);
    expect(refused).toBe(5);
    expect((await env.MEDIA.head(item.key))?.size).toBe(item.size);
  });

  it("gives up after a bounded number of tries, so the turn can say the file was not delivered", async () => {
    const { bucket, refused } = flakyBucket(100, 0);
    const ctx = await pictureRun(bucket);
    const [artifact] = await awaitArtifacts(ctx);
    await expect(storeArtifact(ctx, artifact!)).rejects.toThrow(/internal error/);
    expect(refused.put).toBe(3);
  });
});
