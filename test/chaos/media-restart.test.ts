/**
 * A picture whose gateway is killed between the reply's `final` and the artifact it becomes. The
 * gateway turns a reply's `MEDIA:` line into an artifact about a second after `final`; killed in
 * between, it never does (a restarted gateway leaves the line as it is), and the relay, which only
 * looked for artifacts, waited and posted nothing: the file was lost without a word. Found by the
 * 1,000-message soak (two pictures whose answers were delivered just before the second kill). The
 * file is still on the agent's disk, and the gateway serves it by its path (its assistant-media
 * route), so the relay fetches it from there. The real gateway of the chaos project, killed with
 * SIGKILL through its control server and restarted on the same home.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { awaitArtifacts, storeArtifact, type MediaContext } from "../../src/bridge/media";
import { GatewayClient } from "../../src/gateway/client";
import { createDeviceIdentity, loadDeviceSigner } from "../../src/gateway/device";
import { listArtifacts, replyMedia } from "../../src/gateway/methods";
import { urlTransport } from "../../src/gateway/transport";
import { runToEnd } from "../support/gateway-run";

const open: GatewayClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

const control = (path: string, init?: RequestInit) => fetch(`${env.TEST_CHAOS_CONTROL_URL}${path}`, init);
const status = async () => (await (await control("/status")).json()) as { up: boolean; restarts: number };

async function connect(): Promise<GatewayClient> {
  const device = await loadDeviceSigner(await createDeviceIdentity());
  const client = await GatewayClient.connect(urlTransport(env.GATEWAY_URL!), { token: env.GATEWAY_TOKEN, device });
  open.push(client);
  return client;
}

/** Kill the gateway and wait until it is back (a start takes a minute or more on a busy machine). */
async function killAndWait(): Promise<void> {
  const before = (await status()).restarts;
  const killed = await control("/kill", { method: "POST" });
  expect(killed.status).toBe(200);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const now = await status();
    if (now.up && now.restarts > before) return;
    if (Date.now() > deadline) throw new Error("the chaos gateway did not come back within 5 minutes");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A picture asked for, the gateway killed the moment its `final` arrives, and restarted: the run,
 * once the reply's `MEDIA:` line is left unconverted for good (the kill beat the conversion; when
 * it doesn't, which is rare, the setup is tried again).
 */
async function pictureCutOffFromItsArtifact(): Promise<{ sessionKey: string; runId: string; path: string }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const client = await connect();
    const sessionKey = `test:media-restart:${crypto.randomUUID()}`;
    const { ack, events } = await runToEnd(client, sessionKey, `picture after a kill ${attempt} please`);
    expect(events.at(-1)).toBe("final");
    await killAndWait();
    const after = await connect();
    const reply = await replyMedia(after, sessionKey, ack.runId);
    const listed = await listArtifacts(after, { sessionKey, runId: ack.runId });
    if (reply?.unconverted.length === 1 && listed.length === 0) return { sessionKey, runId: ack.runId, path: reply.unconverted[0]! };
  }
  throw new Error("the gateway made the artifact before each of three kills: the case is not reproduced");
}

describe("a picture whose gateway died between the reply and its artifact", () => {
  it("is fetched by its path and copied to R2 once the gateway is back", async () => {
    const { sessionKey, runId, path } = await pictureCutOffFromItsArtifact();
    const client = await connect();
    const ctx: MediaContext = {
      client,
      transport: urlTransport(env.GATEWAY_URL!),
      bucket: env.MEDIA,
      token: env.GATEWAY_TOKEN,
      sessionKey,
      runId,
      keyPrefix: `test-media-restart/${crypto.randomUUID()}`,
      resumed: true,
    };
    const files = await awaitArtifacts(ctx);
    const name = path.split("/").at(-1)!;
    expect(files).toEqual([{ id: `path:${name}`, title: name, path }]);

    const item = await storeArtifact(ctx, files[0]!);
    expect(item).toMatchObject({ name, contentType: "image/png" });
    const bytes = new Uint8Array(await new Response(await item.open()).arrayBuffer());
    expect(bytes.length).toBe(item.size);
    // The PNG signature: the file itself, not an error page.
    expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    // Without `resumed` (the attempt that saw `final` is the one waiting), the same fallback follows
    // the wait for an artifact that never comes.
    expect(await awaitArtifacts({ ...ctx, resumed: false, waitMs: 1_000 })).toEqual(files);
  }, 900_000);

  it("is not fetched by its path when the gateway made the artifact", async () => {
    const client = await connect();
    const sessionKey = `test:media-restart:${crypto.randomUUID()}`;
    const { ack, events } = await runToEnd(client, sessionKey, "picture made in peace please");
    expect(events.at(-1)).toBe("final");
    const files = await awaitArtifacts({ client, transport: urlTransport(env.GATEWAY_URL!), bucket: env.MEDIA, token: env.GATEWAY_TOKEN, sessionKey, runId: ack.runId, keyPrefix: "test" });
    expect(files).toHaveLength(1);
    expect(files[0]).not.toHaveProperty("path");
    expect(files[0]!.id).toMatch(/^artifact_/);
  }, 300_000);
});
