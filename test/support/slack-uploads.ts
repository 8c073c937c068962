/**
 * Files the relay uploaded into a Slack thread, as the Slack emulator received them, each matched
 * by its SHA-256 to the object the bridge stored in R2 (the media path's copy of the agent's file).
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { eventually, slackCalls } from "./slack-relay";

export interface ThreadUpload {
  filename: string;
  sha256: string;
  /** The R2 object with the same bytes, if there is one. */
  stored?: { key: string; bytes: Uint8Array; contentType?: string };
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Wait for the upload to complete as a reply in the thread `ts`, then list the uploaded files. */
export async function uploadsInThread(channel: string, ts: string): Promise<ThreadUpload[]> {
  const completed = await eventually(
    async () => (await slackCalls(channel)).find((call) => call.method === "files.completeUploadExternal"),
    60_000,
    "the upload",
  );
  expect(completed.body.thread_ts).toBe(ts);
  const uploads = (await slackCalls(channel)).filter((call) => call.method === "upload" && call.status === 200);
  expect(uploads.length, "the file bytes reached Slack").toBeGreaterThan(0);
  const stored = new Map<string, NonNullable<ThreadUpload["stored"]>>();
  for (const object of (await env.MEDIA.list({ prefix: "media/slack:", include: ["httpMetadata"] })).objects) {
    const bytes = new Uint8Array(await (await env.MEDIA.get(object.key))!.arrayBuffer());
    stored.set(await sha256Hex(bytes), { key: object.key, bytes, contentType: object.httpMetadata?.contentType });
  }
  return uploads.map((upload) => ({ filename: upload.filename as string, sha256: upload.sha256 as string, stored: stored.get(upload.sha256 as string) }));
}
