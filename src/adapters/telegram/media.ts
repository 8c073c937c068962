/**
 * Files from R2 to Telegram: photos up to 10 MB with `sendPhoto`, MP4 video with `sendVideo`, the
 * rest with `sendDocument`, all up to 50 MB; bigger files become a message with a link. The bytes
 * stream from R2 into grammY's multipart body (an InputFile over an async iterable, which grammY
 * pipes chunk by chunk into a ReadableStream request body): the file is never held whole. Each
 * try of an upload opens the R2 object afresh, since a stream can be read only once.
 */
import { InputFile } from "grammy/web";
import type { MediaItem } from "../types";
import type { TelegramCall } from "./api";
import { escapeHtml } from "./format";
import type { TelegramReplyTarget } from "./parse";
import { formatBytes } from "../bytes";

export const TELEGRAM_PHOTO_LIMIT = 10 * 1024 * 1024;
export const TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024;

const PHOTO_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

export type UploadMethod = "sendPhoto" | "sendVideo" | "sendDocument";

export function uploadMethod(media: Pick<MediaItem, "contentType" | "size">): UploadMethod {
  const type = media.contentType.split(";")[0]!.trim().toLowerCase();
  if (PHOTO_TYPES.has(type) && media.size <= TELEGRAM_PHOTO_LIMIT) return "sendPhoto";
  if (type === "video/mp4") return "sendVideo";
  return "sendDocument";
}

const FIELD = { sendPhoto: "photo", sendVideo: "video", sendDocument: "document" } as const;

export async function uploadMedia(call: TelegramCall, target: TelegramReplyTarget, media: MediaItem): Promise<void> {
  const method = uploadMethod(media);
  const where = { chat_id: target.chat_id, ...(target.thread_id ? { message_thread_id: target.thread_id } : {}) };
  const payload = async () => ({
    ...where,
    [FIELD[method]]: new InputFile(chunks(await media.open()), safeFilename(media.name)),
  });
  // The payload type differs per method; the three share every field used here.
  await call(method as "sendDocument", payload as never);
}

/** A message standing in for a file that could not be uploaded: a link when there is one. */
export function mediaLinkHtml(media: MediaItem, reason: string): { html: string; plain: string } {
  const size = formatBytes(media.size);
  if (media.link) {
    const html = `📎 <a href="${escapeHtml(media.link).replace(/"/g, "&quot;")}">${escapeHtml(media.name)}</a> (${size}): ${escapeHtml(reason)}, so here is a link.`;
    return { html, plain: `📎 ${media.name} (${size}): ${reason}, so here is a link: ${media.link}` };
  }
  const plain = `⚠️ ${media.name} (${size}) couldn't be uploaded: ${reason}.`;
  return { html: escapeHtml(plain), plain };
}

/** Read a stream chunk by chunk (grammY iterates it into the multipart body). */
async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if ((finished = done)) return;
      yield value;
    }
  } finally {
    // An upload that failed half-way lets go of the R2 object instead of leaving it open.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** grammY writes the filename unquoted into the part header: keep it to safe characters. */
export function safeFilename(name: string): string {
  return name.replace(/[^\w.-]+/g, "_").slice(0, 120) || "file";
}

