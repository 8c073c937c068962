/**
 * The Telegram reply sink against the Bot API emulator (test/emulators/telegram.mjs), reached over
 * loopback through TELEGRAM_API_URL: drafts then the final message in private chats, the
 * post-and-edit fallback in groups and when drafts are refused, splitting, hostile text, rate
 * limits, the typing indicator, and files streamed from a real R2 object.
 */
import { env } from "cloudflare:test";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { TelegramReplyTarget } from "../../src/adapters/telegram/parse";
import { openTelegramReply, type TelegramReplyOptions, telegramLimits } from "../../src/adapters/telegram/reply";
import type { RetryPolicy } from "../../src/adapters/retry";
import type { MediaItem } from "../../src/adapters/types";
import { eventually } from "../support/slack-relay";
import { expectNoUnmatchedTelegramCalls, telegramCalls, telegramChat, telegramFault, telegramLimitsFor, uniqueChatId } from "../support/telegram-relay";

afterAll(expectNoUnmatchedTelegramCalls);

function privateTarget(chat = uniqueChatId()): TelegramReplyTarget {
  return { platform: "telegram", chat_id: chat, chat_type: "private", thread_id: null, reply_to: null };
}
function groupTarget(chat = uniqueChatId("group"), replyTo = 500): TelegramReplyTarget {
  return { platform: "telegram", chat_id: chat, chat_type: "supergroup", thread_id: null, reply_to: replyTo };
}

/** A retry policy that records its waits instead of sleeping. */
function recordingPolicy(): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts: 4, baseDelayMs: 10, maxWaitMs: 60_000, waits, sleep: async (ms) => void waits.push(ms) };
}

function open(target: TelegramReplyTarget, options: TelegramReplyOptions = {}) {
  const logs: string[] = [];
  const retry = recordingPolicy();
  const sink = openTelegramReply(env, target, {
    log: (line) => logs.push(line),
    draftIntervalMs: 0,
    groupEditIntervalMs: 0,
    limits: { ...telegramLimits, minEditIntervalMs: 0 },
    ...options,
    api: { retry, ...options.api },
  });
  return { sink, logs, retry };
}

describe("private chats: drafts, then the message", () => {
  it("streams drafts and sends the final text once, as HTML", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    const stream = await sink.startText();
    await stream.update("Hello");
    await stream.update("Hello **world**");
    await stream.finish("Hello **world**, all done.");

    const drafts = await telegramCalls(target.chat_id, "sendMessageDraft");
    expect(drafts.map((call) => call.body.text)).toEqual(["Hello", "Hello <b>world</b>"]);
    expect(new Set(drafts.map((call) => call.body.draft_id)).size).toBe(1);
    expect(drafts[0]!.body.draft_id).not.toBe(0);
    const chat = await telegramChat(target.chat_id);
    expect(chat.messages).toHaveLength(1);
    expect(chat.messages[0]).toMatchObject({ text: "Hello world, all done.", html: "Hello <b>world</b>, all done.", edits: 0 });
    expect(chat.drafts).toEqual({});
  });

  it("falls back to sendMessage + editMessageText when drafts are refused", async () => {
    const target = privateTarget();
    // This test's sink edits with no pause (minEditIntervalMs 0): the fallback is under test here, not the pace.
    await telegramLimitsFor(target.chat_id, "off");
    await telegramFault({ method: "sendMessageDraft", chat_id: target.chat_id, status: 400, description: "Bad Request: method is not available for this chat", times: 10 });
    const { sink, logs } = open(target);
    const stream = await sink.startText();
    await stream.update("Partial");
    await stream.update("Partial answer");
    await stream.finish("Partial answer, finished.");
    const methods = (await telegramCalls(target.chat_id)).map((call) => call.method);
    expect(methods).toEqual(["sendMessageDraft", "sendMessage", "editMessageText", "editMessageText"]);
    expect((await telegramChat(target.chat_id)).messages.map((m) => m.text)).toEqual(["Partial answer, finished."]);
    expect(logs.join("\n")).toMatch(/drafts refused/);
    // Later answers of the turn don't try drafts again.
    const next = await sink.startText();
    await next.finish("Second answer.");
    expect((await telegramCalls(target.chat_id, "sendMessageDraft")).length).toBe(1);
  });

  it("sends a long answer as several messages, split on paragraphs, nothing truncated", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${"word ".repeat(150).trim()}.`);
    const text = paragraphs.join("\n\n");
    const stream = await sink.startText();
    await stream.update(text);
    await stream.finish(text);
    const { messages } = await telegramChat(target.chat_id);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const message of messages) expect(message.text.length).toBeLessThanOrEqual(4096);
    expect(messages.map((m) => m.text).join("\n\n")).toBe(text);
    // Each part begins at a paragraph.
    for (const message of messages) expect(message.text).toMatch(/^Paragraph \d+:/);
    // The draft of a long answer shows its last part.
    const [draft] = await telegramCalls(target.chat_id, "sendMessageDraft");
    expect(String(draft!.body.text)).toMatch(/^Paragraph \d+:/);
    expect(String(draft!.body.text).length).toBeLessThanOrEqual(4096);
  });

  it("shows the first draft at once after the typing status, and paces only the drafts after it", async () => {
    // The production pacing (one draft per ~1.1 s) on a clock that never moves: the first draft
    // must not wait for it, nor for the typing call made just before.
    const target = privateTarget();
    const { sink } = open(target, { limits: telegramLimits, draftIntervalMs: undefined, now: () => 1_000_000 });
    await sink.setStatus({ text: "thinking…" });
    const stream = await sink.startText();
    await stream.update("Hello");
    expect((await telegramCalls(target.chat_id)).map((call) => call.method)).toEqual(["sendChatAction", "sendMessageDraft"]);
    await stream.update("Hello there"); // within the interval: held
    await stream.finish("Hello there, done.");
    const calls = await telegramCalls(target.chat_id);
    expect(calls.map((call) => call.method)).toEqual(["sendChatAction", "sendMessageDraft", "sendMessage"]);
    expect(calls[1]!.body.text).toBe("Hello");
  });

  it("sends what was drafted, marked, when the answer is aborted", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    const stream = await sink.startText();
    await stream.update("Half an answer");
    await stream.abort("the agent hit an error");
    expect((await telegramChat(target.chat_id)).messages.map((m) => m.text)).toEqual(["Half an answer\n\nthe agent hit an error"]);
  });
});

describe("groups: post and edit", () => {
  it("posts a reply to the asking message and edits it as the answer grows", async () => {
    const target = groupTarget();
    const { sink } = open(target);
    const stream = await sink.startText();
    await stream.update("Thinking about");
    await stream.update("Thinking about it");
    await stream.finish("Thinking about it: done.");
    const calls = await telegramCalls(target.chat_id);
    expect(calls.map((call) => call.method)).toEqual(["sendMessage", "editMessageText", "editMessageText"]);
    expect(calls.some((call) => call.method === "sendMessageDraft")).toBe(false);
    const { messages } = await telegramChat(target.chat_id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: "Thinking about it: done.", reply_to: 500, edits: 2 });
  });

  it("waits ~3 s between edits in groups by default", async () => {
    let clock = 0;
    const target = groupTarget();
    const { sink } = open(target, { groupEditIntervalMs: undefined, now: () => clock });
    const stream = await sink.startText();
    await stream.update("one");
    clock = 1_000;
    await stream.update("one two"); // too soon: held back
    clock = 1_500;
    await stream.finish("one two three");
    const methods = (await telegramCalls(target.chat_id)).map((call) => call.method);
    expect(methods).toEqual(["sendMessage", "editMessageText"]);
  });
});

describe("text Telegram could choke on", () => {
  it("delivers <, & and an unbalanced * intact", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    const hostile = "if a < b && c > d then *maybe\n\n<script>alert(1)</script> & done";
    const stream = await sink.startText();
    await stream.finish(hostile);
    const { messages } = await telegramChat(target.chat_id);
    expect(messages.map((m) => m.text)).toEqual([hostile]);
  });

  it("falls back to plain text when Telegram can't parse the entities", async () => {
    const target = privateTarget();
    await telegramFault({ method: "sendMessage", chat_id: target.chat_id, status: 400, description: "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3" });
    const { sink } = open(target);
    const stream = await sink.startText();
    await stream.finish("**bold** <x>");
    const sends = await telegramCalls(target.chat_id, "sendMessage");
    expect(sends.map((call) => call.body.parse_mode)).toEqual(["HTML", undefined]);
    expect((await telegramChat(target.chat_id)).messages.map((m) => m.text)).toEqual(["**bold** <x>"]);
  });
});

describe("platform faults", () => {
  it("honours retry_after on 429 and sends the message once", async () => {
    const target = privateTarget();
    await telegramFault({ method: "sendMessage", chat_id: target.chat_id, status: 429, retryAfter: 3, description: "Too Many Requests: retry after 3" });
    const { sink, retry } = open(target);
    const stream = await sink.startText();
    await stream.finish("After the wait.");
    expect(retry.waits).toEqual([3_000]);
    const sends = await telegramCalls(target.chat_id, "sendMessage");
    expect(sends.map((call) => call.status)).toEqual([429, 200]);
    expect((await telegramChat(target.chat_id)).messages).toHaveLength(1);
  });

  it("retries a 5xx with backoff", async () => {
    const target = privateTarget();
    await telegramFault({ method: "sendMessage", chat_id: target.chat_id, status: 500, times: 2 });
    const { sink, retry } = open(target);
    await (await sink.startText()).finish("Eventually.");
    expect(retry.waits).toEqual([10, 20]);
    expect((await telegramChat(target.chat_id)).messages.map((m) => m.text)).toEqual(["Eventually."]);
  });

  it("never resends a message after a network failure", async () => {
    const target = privateTarget();
    let tries = 0;
    const { sink } = open(target, {
      api: {
        fetch: async (input, init) => {
          tries++;
          await fetch(input, init); // it reached Telegram...
          throw new TypeError("connection reset"); // ...but the answer was lost
        },
      },
    });
    await expect((await sink.startText()).finish("Only once.")).rejects.toThrow(/network error/);
    expect(tries).toBe(1);
    expect((await telegramChat(target.chat_id)).messages).toHaveLength(1);
  });
});

/**
 * The sink repeats `typing` on an interval timer. Whether it stopped is read from the timer itself
 * (setInterval and clearInterval, watched and passed through), not from a pause: once its timer
 * is cleared, no more `typing` can come. The refresh period picks the sink's timer out.
 */
function watchRepeats(periodMs: number) {
  const started = vi.spyOn(globalThis, "setInterval");
  const cleared = vi.spyOn(globalThis, "clearInterval");
  const timers = () => started.mock.calls.flatMap((call, i) => (call[1] === periodMs ? [started.mock.results[i]!.value as unknown] : []));
  return {
    timers,
    /** Timers of this period that are still running. */
    running: () => timers().filter((timer) => !cleared.mock.calls.some(([handle]) => handle === timer)),
  };
}

describe("typing indicator", () => {
  afterEach(() => vi.restoreAllMocks());

  it("repeats sendChatAction typing until the status is cleared", async () => {
    const target = privateTarget();
    const repeats = watchRepeats(25);
    const { sink } = open(target, { limits: { ...telegramLimits, minEditIntervalMs: 0, statusRefreshMs: 25 } });
    await sink.setStatus({ text: "thinking…" });
    await eventually(async () => (await telegramChat(target.chat_id)).actions.length >= 3 || undefined, 5_000, "three typing actions");
    expect(repeats.timers()).toHaveLength(1);
    await sink.clearStatus();
    // Its timer is gone: nothing repeats any more.
    expect(repeats.running()).toEqual([]);
    const { actions } = await telegramChat(target.chat_id);
    expect(new Set(actions.map((a) => a.action))).toEqual(new Set(["typing"]));
  });

  it("stops when the answer is finished, and gives up after maxStatusMs", async () => {
    const target = privateTarget();
    let clock = 0;
    const repeats = watchRepeats(20);
    const { sink } = open(target, { now: () => clock, maxStatusMs: 1_000, limits: { ...telegramLimits, minEditIntervalMs: 0, statusRefreshMs: 20 } });
    await sink.setStatus({ text: "thinking…" });
    await eventually(async () => (await telegramChat(target.chat_id)).actions.length >= 2 || undefined, 5_000, "two typing actions");
    expect(repeats.running()).toHaveLength(1);
    clock = 5_000; // a turn left for a retry: nobody clears the status
    // The next tick finds the status too old and stops the timer itself.
    await eventually(async () => repeats.running().length === 0, 5_000, "the indicator to give up");

    const other = privateTarget();
    const second = open(other, { limits: { ...telegramLimits, minEditIntervalMs: 0, statusRefreshMs: 20 } });
    await second.sink.setStatus({ text: "thinking…" });
    expect(repeats.running()).toHaveLength(1);
    await (await second.sink.startText()).finish("Done.");
    expect(repeats.running()).toEqual([]);
    expect(repeats.timers()).toHaveLength(2);
  });

  it("does not wait out a 429 for the indicator", async () => {
    const target = privateTarget();
    await telegramFault({ method: "sendChatAction", chat_id: target.chat_id, status: 429, retryAfter: 30 });
    const { sink, retry, logs } = open(target, { limits: { ...telegramLimits, statusRefreshMs: 0 } });
    await sink.setStatus({ text: "thinking…" });
    expect(retry.waits).toEqual([]);
    expect(logs.join("\n")).toMatch(/typing: sendChatAction 429/);
  });
});

describe("files from R2", () => {
  async function stored(name: string, contentType: string, bytes: Uint8Array, extra: Partial<MediaItem> = {}): Promise<MediaItem & { sha256: string }> {
    const key = `media/test-telegram/${crypto.randomUUID()}-${name}`;
    await env.MEDIA.put(key, bytes, { httpMetadata: { contentType } });
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return {
      key,
      name,
      contentType,
      size: bytes.length,
      async open() {
        const object = await env.MEDIA.get(key);
        if (!object) throw new Error("gone");
        return object.body;
      },
      sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
      ...extra,
    };
  }

  const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + (i >> 8)) & 0xff);

  it("sends an image with sendPhoto, streamed from R2 (chunked, never buffered), byte for byte", async () => {
    const target = privateTarget();
    const media = await stored("chart.png", "image/png", bytes(300_000));
    const { sink } = open(target);
    await sink.postMedia(media);
    const [call] = await telegramCalls(target.chat_id, "sendPhoto");
    expect(call!.status).toBe(200);
    expect(call!.chunked).toBe(true);
    expect(call!.files).toEqual([expect.objectContaining({ filename: "chart.png", bytes: 300_000, sha256: media.sha256 })]);
    expect((await telegramChat(target.chat_id)).messages).toMatchObject([{ kind: "photo", file: { bytes: 300_000, sha256: media.sha256 } }]);
  });

  it("sends video with sendVideo and anything else with sendDocument", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    await sink.postMedia(await stored("clip.mp4", "video/mp4", bytes(20_000, 3)));
    await sink.postMedia(await stored("report 2026.pdf", "application/pdf", bytes(10_000, 5)));
    const { messages } = await telegramChat(target.chat_id);
    expect(messages.map((m) => [m.kind, m.file?.filename])).toEqual([
      ["video", "clip.mp4"],
      ["document", "report_2026.pdf"],
    ]);
  });

  it("re-opens the object for a retry after a 429", async () => {
    const target = privateTarget();
    await telegramFault({ method: "sendPhoto", chat_id: target.chat_id, status: 429, retryAfter: 1 });
    const media = await stored("again.jpg", "image/jpeg", bytes(50_000));
    const { sink, retry } = open(target);
    await sink.postMedia(media);
    expect(retry.waits).toEqual([1_000]);
    const calls = await telegramCalls(target.chat_id, "sendPhoto");
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(calls[1]!.files[0]).toMatchObject({ bytes: 50_000, sha256: media.sha256 });
  });

  it("posts a link for a file too large to upload, and for an upload Telegram refuses", async () => {
    const target = privateTarget();
    const { sink } = open(target);
    const huge = await stored("big.mp4", "video/mp4", bytes(10), { size: 60 * 1024 * 1024, link: "https://relay.test/media/big.mp4?sig=a&exp=1" });
    await sink.postMedia(huge);
    await telegramFault({ method: "sendPhoto", chat_id: target.chat_id, status: 400, description: "Bad Request: PHOTO_INVALID_DIMENSIONS" });
    await sink.postMedia(await stored("odd <name>.png", "image/png", bytes(100), { link: "https://relay.test/media/odd.png" }));
    const { messages } = await telegramChat(target.chat_id);
    expect(messages.map((m) => m.kind)).toEqual(["text", "text"]);
    expect(messages[0]!.text).toBe("📎 big.mp4 (60.0 MB): it is too large to upload, so here is a link.");
    expect(messages[0]!.html).toContain('href="https://relay.test/media/big.mp4?sig=a&amp;exp=1"');
    expect(messages[1]!.text).toContain("odd <name>.png");
    expect(messages[1]!.text).toContain("the upload failed");
    expect((await telegramCalls(target.chat_id, "sendVideo")).length).toBe(0);
  });
});

describe("notices", () => {
  it("posts info and error notices, in a group as a reply to the question", async () => {
    const target = groupTarget(undefined, 77);
    const { sink } = open(target);
    await sink.postNotice("Waking up the agent…", "info");
    await sink.postNotice("Gateway said `no` & <gave up>", "error");
    const { messages } = await telegramChat(target.chat_id);
    expect(messages.map((m) => m.text)).toEqual(["ℹ️ Waking up the agent…", "⚠️ Error: Gateway said no & <gave up>"]);
    expect(messages.map((m) => m.reply_to)).toEqual([77, undefined]);
  });
});
