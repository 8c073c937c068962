/**
 * Snapshots in R2 (the `STATE` bucket): objects named by their SHA-256, written once and never
 * replaced, and one manifest per generation, written once by the Worker after the objects it names
 * are verified. Also the shape of what the container's `agent-state.mjs` prints.
 */
import * as v from "valibot";
import { partsOf, type SnapshotFile } from "./state-policy";

export const objectKey = (sha256: string) => `objects/${sha256}`;
export const manifestKey = (generation: number) => `snapshots/${generation}.json`;
export const SHA256 = /^[0-9a-f]{64}$/;

const FileSchema = v.object({
  path: v.pipe(v.string(), v.minLength(1), v.maxLength(1024), v.check((path) => !path.split("/").includes(".."), "no `..` in paths")),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sha256: v.pipe(v.string(), v.regex(SHA256)),
  sqlite: v.optional(v.boolean()),
  chunks: v.optional(
    v.array(v.object({ sha256: v.pipe(v.string(), v.regex(SHA256)), size: v.pipe(v.number(), v.integer(), v.minValue(0)) })),
  ),
});

/** `agent-state.mjs snapshot` prints this. */
export const ListingSchema = v.object({
  openclawVersion: v.string(),
  files: v.array(FileSchema),
  uploaded: v.number(),
  uploadedBytes: v.number(),
});
export type Listing = v.InferOutput<typeof ListingSchema>;

/** `agent-state.mjs restore` prints this. */
export const RestoreResultSchema = v.object({
  restored: v.boolean(),
  reason: v.optional(v.string()),
  generation: v.optional(v.nullable(v.number())),
  files: v.optional(v.number()),
  bytes: v.optional(v.number()),
  ms: v.optional(v.number()),
});
export type RestoreResult = v.InferOutput<typeof RestoreResultSchema>;

export interface Manifest {
  generation: number;
  createdAt: string;
  openclawVersion: string;
  /** What asked for it: `turns`, `sleep`, `restart`, `backup`, `before restore`... */
  reason: string;
  files: SnapshotFile[];
  bytes: number;
}

export const ManifestSchema = v.object({
  generation: v.number(),
  createdAt: v.string(),
  openclawVersion: v.string(),
  reason: v.string(),
  files: v.array(FileSchema),
  bytes: v.number(),
});

/** The last JSON line of a command's output, checked against `schema`. */
export function parseOutput<T extends v.GenericSchema>(schema: T, stdout: string): v.InferOutput<T> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`unreadable output from the container: ${line.slice(0, 120)}`);
  }
  return v.parse(schema, value);
}

/**
 * Every object a snapshot names (each file, or each chunk of a large one) is in the bucket with its
 * size and SHA-256. R2 checked each
 * object's SHA-256 when it was written (the upload names it), and the checksum it keeps is compared
 * here; a missing checksum counts as a mismatch.
 */
export async function verifyObjects(bucket: R2Bucket, files: SnapshotFile[]): Promise<string | null> {
  const parts = files.flatMap((file) => {
    const list = partsOf(file);
    if (list.reduce((sum, part) => sum + part.size, 0) !== file.size) return [{ path: file.path, sha256: "", size: -1 }];
    return list.map((part, index) => ({ path: file.chunks ? `${file.path} (chunk ${index})` : file.path, ...part }));
  });
  const unique = [...new Map(parts.map((part) => [part.sha256, part])).values()];
  for (let i = 0; i < unique.length; i += 16) {
    const batch = unique.slice(i, i + 16);
    const heads = await Promise.all(batch.map((part) => (part.size < 0 ? null : bucket.head(objectKey(part.sha256)))));
    for (const [index, head] of heads.entries()) {
      const part = batch[index]!;
      if (part.size < 0) return `${part.path}: its chunks do not add up to its size`;
      if (!head) return `${part.path} is missing`;
      if (head.size !== part.size) return `${part.path} has ${head.size} bytes, not ${part.size}`;
      if (hex(head.checksums.sha256) !== part.sha256) return `${part.path} does not have its SHA-256`;
    }
  }
  return null;
}

export async function readManifest(bucket: R2Bucket, generation: number): Promise<Manifest | null> {
  const object = await bucket.get(manifestKey(generation));
  if (!object) return null;
  return v.parse(ManifestSchema, await object.json());
}

function hex(buffer: ArrayBuffer | undefined): string {
  return buffer ? [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("") : "";
}
