/**
 * The agent's screenshots, videos and files: after a run's final message, list its artifacts
 * (they appear a moment after `final`: waited for when the reply announces them), stream each one from
 * the gateway into R2 under a predictable key, and describe it for the adapter to upload.
 * R2 answers an occasional transient error (10001, "Please try again"): the download, the copy and
 * each read of it get a few tries each before the file is given up on.
 */
import type { MediaItem } from "../adapters/types";
import type { GatewayClient } from "../gateway/client";
import { GatewayError, GatewayRequestError } from "../gateway/errors";
import { assistantMediaPath, downloadArtifact, listArtifacts, replyMedia, type Artifact } from "../gateway/methods";
import type { GatewayTransport } from "../gateway/transport";
import { signedMediaLink } from "./media-links";

export interface MediaContext {
  client: GatewayClient;
  transport: GatewayTransport;
  bucket: R2Bucket;
  token: string;
  sessionKey: string;
  runId: string;
  /** `<conversation>/<turn>`: artifacts land under `media/<prefix>/`. */
  keyPrefix: string;
  publicUrl?: string;
  /** How long to wait for the files a reply announces (60 s unless set). */
  waitMs?: number;
  /**
   * The reply was delivered by an earlier attempt, whose connection the gateway dropped: its files
   * either exist by now or never will (a restarted gateway doesn't make them), so there is no wait.
   */
  resumed?: boolean;
  pollMs?: number;
}

/** How long to wait for artifacts when it is not known yet whether the reply has any. */
const UNKNOWN_WAIT_MS = 6_000;

/**
 * A file of the run: one of the gateway's artifacts, or a file its reply names by path (a `MEDIA:`
 * line) that never became one, fetched from the gateway's assistant-media route instead.
 */
export type RunFile = Artifact | { id: string; title: string; mimeType?: undefined; path: string };

/** The id under which a file named by path is recorded as posted: its artifact, made later, has its name as title. */
export const pathFileId = (title: string) => `path:${title}`;

/**
 * Files of the run. A reply that announces media is waited for (its artifacts appear a moment after
 * `final`, later on a loaded gateway); a reply without any gets one look and no wait, so a text
 * answer does not hold its conversation; a reply not in the history yet gets a short wait. A
 * `MEDIA:` line that never became an artifact (the gateway was killed between `final` and making
 * it) is fetched by its path: the file is still on the agent's disk, and without this it was lost.
 */
export async function awaitArtifacts(ctx: MediaContext): Promise<RunFile[]> {
  const reply = await replyMedia(ctx.client, ctx.sessionKey, ctx.runId).catch(() => undefined);
  const waitMs =
    ctx.resumed || reply?.announced === false ? 0 : reply?.announced ? (ctx.waitMs ?? 60_000) : Math.min(ctx.waitMs ?? UNKNOWN_WAIT_MS, UNKNOWN_WAIT_MS);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const artifacts = (await listArtifacts(ctx.client, { sessionKey: ctx.sessionKey, runId: ctx.runId })).filter(
      (artifact) => !artifact.runId || artifact.runId === ctx.runId,
    );
    if (artifacts.length) return artifacts;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, ctx.pollMs ?? 500));
  }
  if (reply?.announced === false) return [];
  // Read again only after a wait (the reply may have reached the history meanwhile).
  const latest = waitMs > 0 ? await replyMedia(ctx.client, ctx.sessionKey, ctx.runId) : reply;
  return (latest?.unconverted ?? []).map((path) => {
    const title = path.split("/").at(-1) || "file";
    return { id: pathFileId(title), title, path };
  });
}

export function mediaKey(keyPrefix: string, artifact: RunFile): string {
  const name = artifact.title.replace(/[^\w.-]+/g, "_").slice(0, 80) || "file";
  return `media/${keyPrefix}/${artifact.id.replace(/[^\w.-]+/g, "_")}-${name}`;
}

const TRIES = 3;
/**
 * The download's tries: an artifact just listed can be unknown to `artifacts.download` for a while
 * ("artifact not found"; the listing reads the transcript, the download the file store, written
 * later), over a second under load: up to about ten seconds, backing off.
 */
const DOWNLOAD_TRIES = 8;
const downloadDelayMs = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), 2_000);

/**
 * The connection to the gateway went away (it restarted): no try on this connection can succeed.
 * The turn is tried again on a new one and copies the file then.
 */
export function connectionLost(error: unknown): boolean {
  return error instanceof GatewayError && !(error instanceof GatewayRequestError);
}

/** Thrown when the download's own tries are used up: the copy is not tried again for it. */
class DownloadFailed extends Error {}

/** `op` tried up to `times` times, a moment apart, while `again` allows; the last failure is thrown. */
async function tries<T>(
  what: string,
  op: () => Promise<T>,
  again: (error: unknown) => boolean = () => true,
  { times = TRIES, delayMs = (attempt: number) => 250 * attempt } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt >= times || !again(error)) throw error;
      console.warn(`media: ${what} failed (try ${attempt} of ${times}):`, error instanceof Error ? error.message : String(error));
      await new Promise((resolve) => setTimeout(resolve, delayMs(attempt)));
    }
  }
}

/** Copy one file of the run into R2 (streamed where the gateway serves a URL) and describe it. */
export async function storeArtifact(ctx: MediaContext, artifact: RunFile): Promise<MediaItem> {
  const key = mediaKey(ctx.keyPrefix, artifact);
  // A streamed body can't be sent twice: a failed copy is tried again from the download.
  const object = await tries(
    `storing ${key}`,
    async () => {
      const stored = await ctx.bucket.head(key);
      if (stored) return stored;
      // A file named by path: its type is the one the gateway serves it with.
      if ("path" in artifact) return putDownload(ctx, key, undefined, assistantMediaPath(artifact.path, ctx.sessionKey));
      // An artifact just listed can be unknown to the download for a while (DOWNLOAD_TRIES): the
      // download has tries of its own, so they don't use up the copy's.
      const download = await tries(
        `downloading ${artifact.id}`,
        () => downloadArtifact(ctx.client, { sessionKey: ctx.sessionKey, runId: ctx.runId, artifactId: artifact.id }),
        (error) => !connectionLost(error),
        { times: DOWNLOAD_TRIES, delayMs: downloadDelayMs },
      ).catch((error: unknown) => {
        if (connectionLost(error)) throw error;
        throw new DownloadFailed(error instanceof Error ? error.message : String(error));
      });
      return putDownload(ctx, key, artifact.mimeType, download.url, download.data);
    },
    (error) => !(error instanceof DownloadFailed) && !connectionLost(error),
  );
  const contentType = object.httpMetadata?.contentType ?? artifact.mimeType ?? OCTETS;
  return withLink(describeObject(ctx, key, artifact.title, contentType, object.size), ctx.publicUrl, ctx.token);
}

const OCTETS = "application/octet-stream";

/** Store a download in R2 under `key`; without `contentType`, the type the gateway served it with. */
async function putDownload(ctx: MediaContext, key: string, contentType: string | undefined, url?: string, data?: string): Promise<R2Object> {
  if (data !== undefined) return ctx.bucket.put(key, base64Bytes(data), { httpMetadata: { contentType: contentType ?? OCTETS } });
  if (!url) throw new Error("the gateway offered no way to download this artifact");
  const response = await ctx.transport.fetch(url, { headers: { Authorization: `Bearer ${ctx.token}` } });
  if (!response.ok || !response.body) throw new Error(`artifact download failed: HTTP ${response.status}`);
  const httpMetadata = { contentType: contentType ?? response.headers.get("content-type") ?? OCTETS };
  const length = Number(response.headers.get("content-length"));
  // R2 needs a stream of known length; FixedLengthStream gives it one without buffering.
  const body = Number.isFinite(length) && length > 0 ? response.body.pipeThrough(new FixedLengthStream(length)) : await response.arrayBuffer();
  return ctx.bucket.put(key, body, { httpMetadata });
}

function describeObject(ctx: MediaContext, key: string, name: string, contentType: string, size: number): MediaItem {
  return {
    key,
    name,
    contentType,
    size,
    async open() {
      const object = await tries(`reading ${key}`, () => ctx.bucket.get(key));
      if (!object) throw new Error(`media ${key} is gone from the bucket`);
      return object.body;
    },
  };
}

/** Attach a signed link, when the Worker's public URL is known, for media that can't be uploaded. */
async function withLink(item: MediaItem, publicUrl: string | undefined, secret: string): Promise<MediaItem> {
  return publicUrl ? { ...item, link: await signedMediaLink(publicUrl, item.key, secret) } : item;
}

function base64Bytes(data: string): Uint8Array {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
