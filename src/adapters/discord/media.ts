/**
 * A message with one attachment, as Discord takes it: `multipart/form-data` with `payload_json`
 * and `files[0]`. The file's bytes stream from R2 into the request body (the length is known, so
 * the body has one), never held whole; each try opens the R2 object afresh.
 */
import type { MediaItem } from "../types";

const encoder = new TextEncoder();

export async function multipartMessage(payload: Record<string, unknown>, media: MediaItem): Promise<{ body: BodyInit; headers: Record<string, string> }> {
  const boundary = `molt-${crypto.randomUUID()}`;
  const filename = safeFilename(media.name);
  const json = JSON.stringify({ ...payload, attachments: [{ id: 0, filename }] });
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json\r\n\r\n${json}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="${filename}"\r\nContent-Type: ${safeType(media.contentType)}\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const source = await media.open();
  const sized = new FixedLengthStream(head.length + media.size + tail.length);
  void (async () => {
    const writer = sized.writable.getWriter();
    try {
      await writer.write(head);
      const reader = source.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writer.write(value);
      }
      await writer.write(tail);
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => undefined);
      await source.cancel().catch(() => undefined);
    }
  })();
  return { body: sized.readable, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

/** The filename goes into a part header and a URL: keep it to safe characters. */
export function safeFilename(name: string): string {
  return name.replace(/[^\w.-]+/g, "_").slice(0, 120) || "file";
}

function safeType(type: string): string {
  return /^[\w.+-]+\/[\w.+-]+$/.test(type.split(";")[0]!.trim()) ? type.split(";")[0]!.trim() : "application/octet-stream";
}
