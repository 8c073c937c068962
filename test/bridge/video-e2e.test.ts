/**
 * A video the agent sends reaches the chat as a video, through the real gateway and the media
 * path: the stand-in model answers with a `MEDIA:` line naming an MP4 file (what the
 * browser-video skill prints), the REAL OpenClaw gateway turns it into an artifact (it decides
 * the type: video/mp4), the bridge copies it into R2, and the adapter sends it: Telegram with
 * `sendVideo`, Slack as an uploaded file. The MP4 is a stand-in (test/support/model-server.mjs,
 * `makeMp4`); a real recording by the browser-video skill, from the agent's exec tool to the Slack
 * thread, is test/sandbox/browser-video-agent.test.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventually, mention, slackMessages, uniqueChannel } from "../support/slack-relay";
import { sha256Hex, uploadsInThread } from "../support/slack-uploads";
import { allowedChatId, postUpdate, privateText, telegramCalls, telegramChat } from "../support/telegram-relay";


/** The one object stored under a prefix, with its bytes' digest. */
async function storedVideo(prefix: string) {
  const stored = await env.MEDIA.list({ prefix, include: ["httpMetadata"] });
  expect(stored.objects).toHaveLength(1);
  const object = (await env.MEDIA.get(stored.objects[0]!.key))!;
  const bytes = await object.arrayBuffer();
  return { key: object.key, size: object.size, contentType: object.httpMetadata?.contentType, sha256: await sha256Hex(bytes), bytes: new Uint8Array(bytes) };
}

describe("a video from the agent", () => {
  it("reaches Telegram with sendVideo, as the MP4 the gateway gave", async () => {
    const user = await allowedChatId();
    expect((await postUpdate(privateText(user, "send me a video please"))).status).toBe(200);

    const video = await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "video"),
      120_000,
      "the video",
      async () => (await telegramCalls(user)).map(({ method, status, response, files }) => ({ method, status, response, files })),
    );
    expect((await telegramChat(user)).messages.some((m) => m.kind === "text" && m.text.includes("Here is the video"))).toBe(true);
    expect((await telegramChat(user)).messages.filter((m) => m.kind === "photo" || m.kind === "document")).toEqual([]);

    const stored = await storedVideo(`media/telegram:${user}/`);
    expect(stored.contentType).toBe("video/mp4");
    // An MP4 (ISO BMFF `ftyp` box), byte for byte what reached Telegram.
    expect(new TextDecoder().decode(stored.bytes.subarray(4, 12))).toBe("ftypisom");
    expect(video.file).toMatchObject({ field: "video", bytes: stored.size, sha256: stored.sha256 });
    expect((await telegramCalls(user, "sendVideo"))[0]).toMatchObject({ status: 200 });
  });

  it("reaches the Slack thread as an uploaded MP4", async () => {
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "a video of it please");
    await eventually(
      async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && m.text.includes("Here is the video")),
      120_000,
      "the reply",
    );
    // The uploaded bytes are the agent's MP4, copied from the gateway into R2 with its type.
    const uploads = await uploadsInThread(channel, ts);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.filename).toMatch(/\.mp4$/);
    const stored = uploads[0]!.stored;
    expect(stored, "the uploaded file is the agent's video from R2").toBeDefined();
    expect(stored!.contentType).toBe("video/mp4");
    expect(new TextDecoder().decode(stored!.bytes.subarray(4, 12))).toBe("ftypisom");
  });
});
