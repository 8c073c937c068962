/**
 * The gateway client against the REAL OpenClaw gateway (started on loopback by the global setup,
 * with the stand-in model): handshake with a device identity, a streamed turn, and an artifact.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayClient } from "../../src/gateway/client";
import { createDeviceIdentity, loadDeviceSigner } from "../../src/gateway/device";
import { GatewayRequestError } from "../../src/gateway/errors";
import { chatAbort, chatSend, downloadArtifact, listArtifacts, replyMedia } from "../../src/gateway/methods";
import { subscribeRun, type RunEvent } from "../../src/gateway/run-events";
import { urlTransport } from "../../src/gateway/transport";
import { awaitArtifacts } from "../../src/bridge/media";

const open: GatewayClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function connect(token = env.GATEWAY_TOKEN) {
  const device = await loadDeviceSigner(await createDeviceIdentity());
  const client = await GatewayClient.connect(urlTransport(env.GATEWAY_URL!), { token, device });
  open.push(client);
  return client;
}

async function turn(client: GatewayClient, sessionKey: string, message: string) {
  const subscription = subscribeRun(client);
  const ack = await chatSend(client, { sessionKey, message, idempotencyKey: crypto.randomUUID() });
  subscription.bind(ack.runId);
  const events: RunEvent[] = [];
  for await (const event of subscription) events.push(event);
  return { ack, events };
}

describe("gateway client (real OpenClaw gateway)", () => {
  it("completes the signed handshake and learns the server version", async () => {
    const client = await connect();
    expect(client.hello.protocol).toBe(4);
    expect(typeof client.hello.server.version).toBe("string");
  });

  it("is refused with a wrong gateway token", async () => {
    await expect(connect("not-the-token")).rejects.toBeInstanceOf(GatewayRequestError);
  });

  it("streams deltas and then the final message of a turn", async () => {
    const client = await connect();
    const { ack, events } = await turn(client, `test:client:${crypto.randomUUID()}`, "hello there");
    expect(ack.runId).toBeTruthy();
    const texts = events.filter((e) => e.type === "text");
    expect(texts.length).toBeGreaterThan(0);
    const final = events.at(-1);
    expect(final?.type).toBe("final");
    expect(final?.type === "final" && final.text).toContain("Echo: hello there");
  });

  it("tells, right after final, a reply that announces a file from one that doesn't", async () => {
    const client = await connect();
    const sessionKey = `test:client:${crypto.randomUUID()}`;
    const words = await turn(client, sessionKey, "just words please");
    expect(await replyMedia(client, sessionKey, words.ack.runId)).toEqual({ announced: false, unconverted: [] });
    const picture = await turn(client, sessionKey, "take a picture please");
    // Asked at once: the file is not listed yet, but the reply already says it comes.
    expect((await replyMedia(client, sessionKey, picture.ack.runId))?.announced).toBe(true);
    expect(await replyMedia(client, sessionKey, "no-such-run")).toBeUndefined();
    // The text reply's run never gets a file; the picture's does.
    const transport = urlTransport(env.GATEWAY_URL!);
    const media = { client, transport, bucket: env.MEDIA, token: env.GATEWAY_TOKEN, sessionKey, keyPrefix: "test" };
    expect(await awaitArtifacts({ ...media, runId: words.ack.runId })).toEqual([]);
    expect((await awaitArtifacts({ ...media, runId: picture.ack.runId })).map((a) => a.mimeType)).toEqual(["image/png"]);
    expect((await listArtifacts(client, { sessionKey, runId: words.ack.runId })).filter((a) => a.runId === words.ack.runId)).toEqual([]);
  });

  it("lists and downloads the image artifact the agent made", async () => {
    const client = await connect();
    const sessionKey = `test:client:${crypto.randomUUID()}`;
    const { ack, events } = await turn(client, sessionKey, "take a picture please");
    expect(events.at(-1)?.type).toBe("final");
    const transport = urlTransport(env.GATEWAY_URL!);
    const artifacts = await awaitArtifacts({
      client,
      transport,
      bucket: env.MEDIA,
      token: env.GATEWAY_TOKEN,
      sessionKey,
      runId: ack.runId,
      keyPrefix: "test",
      waitMs: 15_000,
    });
    expect(artifacts.length).toBeGreaterThan(0);
    const artifact = artifacts[0]!;
    expect(artifact.mimeType).toBe("image/png");
    const download = await downloadArtifact(client, { sessionKey, runId: ack.runId, artifactId: artifact.id });
    let bytes: Uint8Array;
    if (download.url) {
      const response = await transport.fetch(download.url, { headers: { Authorization: `Bearer ${env.GATEWAY_TOKEN}` } });
      expect(response.status).toBe(200);
      bytes = new Uint8Array(await response.arrayBuffer());
    } else {
      bytes = Uint8Array.from(atob(download.data!), (c) => c.charCodeAt(0));
    }
    // The PNG signature: the bytes are the picture the model made, not an error page.
    expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it("reports the agent's tool use: start and result, by name", async () => {
    const client = await connect();
    const { events } = await turn(client, `test:client:${crypto.randomUUID()}`, "use a tool please");
    const tools = events.filter((e) => e.type === "tool");
    expect(tools).toContainEqual(expect.objectContaining({ type: "tool", phase: "start", name: "ls" }));
    expect(tools).toContainEqual(expect.objectContaining({ type: "tool", phase: "result", name: "ls" }));
    expect(events.at(-1)?.type).toBe("final");
  });

  it("aborts a running turn", async () => {
    const client = await connect();
    const sessionKey = `test:client:${crypto.randomUUID()}`;
    const subscription = subscribeRun(client);
    const ack = await chatSend(client, { sessionKey, message: "a slow one to stop", idempotencyKey: crypto.randomUUID() });
    subscription.bind(ack.runId);
    const events: RunEvent[] = [];
    for await (const event of subscription) {
      events.push(event);
      if (event.type === "text") await chatAbort(client, { sessionKey, runId: ack.runId });
    }
    expect(events.at(-1)?.type).toBe("aborted");
    expect(events.some((e) => e.type === "final")).toBe(false);
  });
});
