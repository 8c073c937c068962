/**
 * `state.internal`, the container's only way to the snapshots: it can add objects and read them,
 * and nothing else. Anything in the container (the agent's exec tool too) can call it.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { handleStateRequest } from "../../src/sandbox/state-egress";
import { manifestKey, objectKey } from "../../src/sandbox/state-manifest";
import { prefixedBucket, sha } from "../support/state-container";

const bytes = (text: string) => new TextEncoder().encode(text);

function rig() {
  const bucket = prefixedBucket(env.STATE!);
  const call = (method: string, path: string, body?: Uint8Array, headers: Record<string, string> = body ? { "content-length": String(body.byteLength) } : {}) =>
    handleStateRequest(new Request(`http://state.internal${path}`, { method, body, headers }), { STATE: bucket });
  return { bucket, call };
}

describe("state.internal", () => {
  it("stores an object under its SHA-256 once, and reads it back", async () => {
    const { bucket, call } = rig();
    const body = bytes("MEMORY: the owner likes tea");
    const hash = await sha(body);
    expect((await call("HEAD", `/objects/${hash}`)).status).toBe(404);
    expect((await call("PUT", `/objects/${hash}`, body)).status).toBe(201);
    const head = await call("HEAD", `/objects/${hash}`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(body.byteLength));
    const got = await call("GET", `/objects/${hash}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(body);
    expect((await bucket.head(objectKey(hash)))?.size).toBe(body.byteLength);
  });

  it("refuses bytes that are not what the name says, and stores nothing", async () => {
    const { bucket, call } = rig();
    const claimed = await sha(bytes("the real content"));
    const response = await call("PUT", `/objects/${claimed}`, bytes("something else"));
    expect(response.status).toBe(400);
    expect(await bucket.head(objectKey(claimed))).toBeNull();
    expect((await call("PUT", "/objects/not-a-hash", bytes("x"))).status).toBe(400);
  });

  it("never replaces an object that is there", async () => {
    const { bucket, call } = rig();
    const body = bytes("paired devices");
    const hash = await sha(body);
    await call("PUT", `/objects/${hash}`, body);
    const before = await bucket.head(objectKey(hash));
    const again = await call("PUT", `/objects/${hash}`, bytes("an attempt to overwrite it"));
    expect(again.status).toBe(200);
    const after = await bucket.get(objectKey(hash));
    expect(after?.etag).toBe(before?.etag);
    expect(new Uint8Array(await after!.arrayBuffer())).toEqual(body);
  });

  it("cannot delete or overwrite a snapshot, nor list the bucket", async () => {
    const { bucket, call } = rig();
    const body = bytes("agent database");
    const hash = await sha(body);
    await call("PUT", `/objects/${hash}`, body);
    await bucket.put(manifestKey(7), JSON.stringify({ generation: 7, files: [] }));

    for (const [method, path] of [
      ["DELETE", `/objects/${hash}`],
      ["DELETE", "/snapshots/7"],
      ["PUT", "/snapshots/7"],
      ["PUT", "/snapshots/8"],
      ["POST", `/objects/${hash}`],
      ["GET", "/objects/"],
      ["GET", "/"],
      ["DELETE", "/"],
    ] as const) {
      const response = await call(method, path, method === "PUT" || method === "POST" ? bytes("{}") : undefined);
      expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
    }
    expect(await bucket.head(objectKey(hash))).not.toBeNull();
    expect(await (await bucket.get(manifestKey(7)))!.json()).toEqual({ generation: 7, files: [] });
    expect(await bucket.head(manifestKey(8))).toBeNull();
    // A manifest can be read (restore needs it).
    expect(await (await call("GET", "/snapshots/7")).json()).toEqual({ generation: 7, files: [] });
  });

  it("wants the length up front", async () => {
    const { call } = rig();
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes("streamed"));
        controller.close();
      },
    });
    const hash = await sha(bytes("streamed"));
    const response = await handleStateRequest(new Request(`http://state.internal/objects/${hash}`, { method: "PUT", body, duplex: "half" } as RequestInit), {
      STATE: prefixedBucket(env.STATE!),
    });
    expect(response.status).toBe(411);
    expect((await call("PUT", `/objects/${hash}`, bytes("streamed"), { "content-length": String(4 * 1024 ** 3 + 1) })).status).toBe(413);
  });
});
