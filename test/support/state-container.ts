/**
 * For the keeper's logic tests: a container whose state directory is a map of files, playing
 * container/agent-state.mjs's part over the real `state.internal` handler (HEAD, then PUT what is
 * missing; restore reads the manifest and objects and checks their hashes) against a real R2
 * bucket. The script itself runs in the sandbox project's tests.
 */
import { handleStateRequest } from "../../src/sandbox/state-egress";
import type { StateContainer } from "../../src/sandbox/state-core";
import type { SnapshotFile } from "../../src/sandbox/state-policy";

export class MapContainer implements StateContainer {
  files = new Map<string, { bytes: Uint8Array; sqlite?: boolean }>();
  live = false;
  snapshots = 0;
  /** Fail the next restore (e.g. a broken object), or the next snapshot. */
  failRestore: string | undefined;
  failSnapshot: string | undefined;
  /** Resolves a snapshot's upload only when released (to hold two triggers at once). */
  gate: Promise<void> | undefined;

  constructor(private readonly bucket: () => R2Bucket) {}

  set(path: string, text: string | Uint8Array, sqlite = false) {
    this.files.set(path, { bytes: typeof text === "string" ? new TextEncoder().encode(text) : text, sqlite });
  }

  private call(method: string, path: string, body?: Uint8Array) {
    const headers = body ? { "content-length": String(body.byteLength) } : undefined;
    return handleStateRequest(new Request(`http://state.internal${path}`, { method, headers, body }), { STATE: this.bucket() });
  }

  async snapshot() {
    this.snapshots += 1;
    if (this.failSnapshot) throw new Error(this.failSnapshot);
    if (!this.live) throw new Error("no restored state: refusing to snapshot it");
    const files: SnapshotFile[] = [];
    let uploadedBytes = 0;
    let uploaded = 0;
    for (const [path, file] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      const sha256 = await sha(file.bytes);
      files.push({ path, size: file.bytes.byteLength, sha256, ...(file.sqlite ? { sqlite: true } : {}) });
      if ((await this.call("HEAD", `/objects/${sha256}`)).status === 200) continue;
      await this.gate;
      const put = await this.call("PUT", `/objects/${sha256}`, file.bytes);
      if (put.status !== 201 && put.status !== 200) throw new Error(`PUT /objects/${sha256}: HTTP ${put.status} ${await put.text()}`);
      uploaded += 1;
      uploadedBytes += file.bytes.byteLength;
    }
    return { openclawVersion: "2026.9.6", files, uploaded, uploadedBytes };
  }

  async restore(generation: number | "none", replace: boolean) {
    if (this.live && !replace) return { restored: false, reason: "live state present" };
    if (this.failRestore) throw new Error(this.failRestore);
    if (generation === "none") {
      this.live = true;
      return { restored: false, reason: "nothing to restore", generation: null };
    }
    const response = await this.call("GET", `/snapshots/${generation}`);
    if (response.status !== 200) throw new Error(`GET /snapshots/${generation}: HTTP ${response.status}`);
    const manifest = (await response.json()) as { files: SnapshotFile[] };
    const staged = new Map<string, { bytes: Uint8Array; sqlite?: boolean }>();
    for (const file of manifest.files) {
      const object = await this.call("GET", `/objects/${file.sha256}`);
      const bytes = new Uint8Array(await object.arrayBuffer());
      if (object.status !== 200 || bytes.byteLength !== file.size || (await sha(bytes)) !== file.sha256) throw new Error(`${file.path} does not match its manifest`);
      staged.set(file.path, { bytes, sqlite: file.sqlite });
    }
    this.files = staged;
    this.live = true;
    return { restored: true, generation, files: staged.size };
  }

  /** The container's disk is gone (it slept or was replaced). */
  wipe() {
    this.files.clear();
    this.live = false;
  }
}

export async function sha(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A bucket whose writes fail after `okPuts` successful ones (an R2 outage mid-snapshot). */
export function flakyBucket(bucket: R2Bucket, okPuts: number): R2Bucket & { puts: number; heal(): void } {
  let puts = 0;
  let healed = false;
  return new Proxy(bucket, {
    get(target, name) {
      if (name === "puts") return puts;
      if (name === "heal") return () => (healed = true);
      if (name === "put") {
        return async (...args: Parameters<R2Bucket["put"]>) => {
          puts += 1;
          if (!healed && puts > okPuts) {
            const body = args[1];
            if (body instanceof ReadableStream) await body.cancel();
            throw new Error("R2 put: internal error (injected)");
          }
          return target.put(...args);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as R2Bucket & { puts: number; heal(): void };
}

/** The test's own corner of the shared bucket: every key gets a unique prefix. */
export function prefixedBucket(bucket: R2Bucket, prefix = `t-${crypto.randomUUID()}/`): R2Bucket {
  return {
    head: (key: string) => bucket.head(prefix + key),
    get: (key: string, options?: R2GetOptions) => bucket.get(prefix + key, options),
    put: (key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) => bucket.put(prefix + key, value, options),
    delete: (keys: string | string[]) => bucket.delete(Array.isArray(keys) ? keys.map((key) => prefix + key) : prefix + keys),
    list: async (options?: R2ListOptions) => {
      const page = await bucket.list({ ...options, prefix: prefix + (options?.prefix ?? "") });
      // Only what pruning reads: the key (without the prefix) and when it was uploaded.
      return { ...page, objects: page.objects.map((object) => ({ key: object.key.slice(prefix.length), uploaded: object.uploaded, size: object.size })) };
    },
  } as unknown as R2Bucket;
}
