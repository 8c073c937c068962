/**
 * `http://state.internal`: the only way the container's bytes reach the snapshots. Anything in
 * the container can call it (the agent's own exec tool included), so it is write-new-only:
 *
 *   HEAD|GET /objects/<sha256>   read an object
 *   PUT /objects/<sha256>        write an object once; R2 checks the bytes against the name, and
 *                                an object already there is left as it is
 *   GET /snapshots/<generation>  read a manifest (manifests are written by the Worker only)
 *
 * Nothing else: no listing, no overwrite, no delete (405). Bytes stream through; a body must say
 * its length, and nothing is held in memory.
 */
import type { Env } from "../env";
import { manifestKey, objectKey, SHA256 } from "./state-manifest";

export const STATE_HOST = "state.internal";
/** The largest object the container may write (a SQLite database or a workspace file). */
export const MAX_OBJECT_BYTES = 4 * 1024 ** 3;

const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain" } });

export async function handleStateRequest(request: Request, env: Pick<Env, "STATE">): Promise<Response> {
  const bucket = env.STATE;
  if (!bucket) return text(503, "persistence is not configured (no STATE bucket)");
  const { pathname } = new URL(request.url);
  const object = /^\/objects\/([^/]+)$/.exec(pathname);
  const snapshot = /^\/snapshots\/(\d{1,12})$/.exec(pathname);

  if (object) {
    const sha256 = object[1]!;
    if (!SHA256.test(sha256)) return text(400, "an object is named by its lowercase hex SHA-256");
    if (request.method === "HEAD" || request.method === "GET") {
      const found = request.method === "HEAD" ? await bucket.head(objectKey(sha256)) : await bucket.get(objectKey(sha256));
      if (!found) return text(404, "no such object");
      const body = request.method === "GET" ? (found as R2ObjectBody).body : null;
      return new Response(body, { headers: { "content-length": String(found.size), etag: found.httpEtag } });
    }
    if (request.method === "PUT") return putObject(request, bucket, sha256);
  }
  if (snapshot && request.method === "GET") {
    const found = await bucket.get(manifestKey(Number(snapshot[1])));
    if (!found) return text(404, "no such snapshot");
    return new Response(found.body, { headers: { "content-type": "application/json" } });
  }
  await request.body?.cancel();
  return text(405, "state.internal is write-new-only: objects can be read and added, never replaced or deleted");
}

async function putObject(request: Request, bucket: R2Bucket, sha256: string): Promise<Response> {
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!Number.isSafeInteger(length) || length < 0) {
    await request.body?.cancel();
    return text(411, "a Content-Length is required");
  }
  if (length > MAX_OBJECT_BYTES) {
    await request.body?.cancel();
    return text(413, "object too large");
  }
  if (await bucket.head(objectKey(sha256))) {
    await request.body?.cancel();
    return text(200, "already there");
  }
  // A fixed-length stream: R2 needs the length up front, and a short or long body fails the write.
  const { readable, writable } = new FixedLengthStream(length);
  const piping = (request.body ?? new ReadableStream({ start: (c) => c.close() })).pipeTo(writable).catch(() => undefined);
  try {
    // R2 computes the SHA-256 as the bytes arrive and refuses the write if it is not the name.
    await bucket.put(objectKey(sha256), readable, { sha256 });
  } catch (error) {
    await piping;
    const message = error instanceof Error ? error.message : String(error);
    return /checksum|sha-?256|digest/i.test(message) ? text(400, "the bytes do not have that SHA-256") : text(502, `storage failed: ${message.slice(0, 200)}`);
  }
  await piping;
  return text(201, "stored");
}
