/**
 * The Slack reply sink against the Slack emulator (test/emulators/slack.mjs), reached over
 * loopback through SLACK_API_URL. Every test uses its own channel and filters by it: other test
 * files share the emulator.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { SlackReplyTarget } from "../../src/adapters/slack/parse";
import { openSlackReply, type SlackReplyOptions, slackLimits } from "../../src/adapters/slack/reply";
import type { RetryPolicy } from "../../src/adapters/retry";
import type { MediaItem } from "../../src/adapters/types";
import { PlatformNetworkError } from "../../src/errors";

const control = env.SLACK_API_URL!.replace(/api\/$/, "_emulator/");

interface Call {
  method: string;
  body: Record<string, unknown>;
  status: number;
  response: { ok: boolean; error?: string };
}
interface Message {
  ts: string;
  thread_ts?: string;
  text: string;
  streaming: boolean;
  files: { name: string; size: number; sha256: string }[];
}

let counter = 0;
function uniqueChannel(prefix = "C"): string {
  return `${prefix}RPL${Date.now().toString(36).toUpperCase()}${(counter++).toString(36).toUpperCase()}`;
}

function targetIn(channel: string): SlackReplyTarget {
  return { platform: "slack", team: "T0TESTTEAM", channel, thread_ts: "1760000000.000100", user: "U0ALICE", user_team: "T0TESTTEAM" };
}

/** A retry policy that records its waits instead of sleeping. */
function recordingPolicy(): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts: 4, baseDelayMs: 10, maxWaitMs: 60_000, waits, sleep: async (ms) => void waits.push(ms) };
}

function open(channel: string, options: SlackReplyOptions = {}) {
  const logs: string[] = [];
  const sink = openSlackReply(env, targetIn(channel), {
    log: (line) => logs.push(line),
    ...options,
    api: { retry: recordingPolicy(), ...options.api },
    stream: { appendIntervalMs: 0, ...options.stream },
  });
  return { sink, logs };
}

async function calls(channel: string, method?: string): Promise<Call[]> {
  const { calls } = (await (await fetch(`${control}calls?channel=${channel}`)).json()) as { calls: Call[] };
  return method ? calls.filter((c) => c.method === method) : calls;
}

async function conversation(channel: string): Promise<{ messages: Message[]; statuses: Record<string, string> }> {
  return (await (await fetch(`${control}messages?channel=${channel}`)).json()) as never;
}

async function fault(spec: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${control}faults`, { method: "POST", body: JSON.stringify(spec), headers: { "content-type": "application/json" } });
  expect(response.ok).toBe(true);
}

afterAll(async () => {
  const { unmatched } = (await (await fetch(`${control}unmatched`)).json()) as { unmatched: unknown[] };
  expect(unmatched).toEqual([]);
});

describe("native streaming", () => {
  it("starts a stream in the thread, appends only the new text, and stops it", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel);
    const stream = await sink.startText();
    await stream.update("Hello");
    await stream.update("Hello, wor");
    await stream.update("Hello, world");
    await stream.finish("Hello, world! **Done**.");

    const made = await calls(channel);
    expect(made.map((c) => c.method)).toEqual([
      "chat.startStream",
      "chat.appendStream",
      "chat.appendStream",
      "chat.appendStream",
      "chat.stopStream",
    ]);
    expect(made[0]?.body).toMatchObject({
      thread_ts: "1760000000.000100",
      markdown_text: "Hello",
      recipient_user_id: "U0ALICE",
      recipient_team_id: "T0TESTTEAM",
    });
    expect(made.slice(1, 4).map((c) => c.body.markdown_text)).toEqual([", wor", "ld", "! **Done**."]);
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: "Hello, world! **Done**.", streaming: false, thread_ts: "1760000000.000100" });
  });

  it("streams in a DM without recipient fields, threaded under the user's message", async () => {
    const channel = uniqueChannel("D");
    const { sink } = open(channel);
    const stream = await sink.startText();
    await stream.finish("Hi there");
    const [start] = await calls(channel, "chat.startStream");
    expect(start?.body.recipient_user_id).toBeUndefined();
    expect(start?.response.ok).toBe(true);
    expect((await conversation(channel)).messages[0]).toMatchObject({ text: "Hi there", thread_ts: "1760000000.000100" });
  });

  it("throttles appends and lets finish deliver the rest", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel, { stream: { appendIntervalMs: 60_000, now: () => 1_000_000 } });
    const stream = await sink.startText();
    for (const text of ["a", "ab", "abc", "abcd", "abcde"]) await stream.update(text);
    await stream.finish("abcdef");
    const made = await calls(channel);
    expect(made.map((c) => c.method)).toEqual(["chat.startStream", "chat.appendStream", "chat.stopStream"]);
    expect(made[1]?.body.markdown_text).toBe("bcdef");
    expect((await conversation(channel)).messages[0]?.text).toBe("abcdef");
  });

  it("starts the stream at once after the thread's status, at the production append pace", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel, { stream: { appendIntervalMs: undefined, now: () => 1_000_000 } });
    await sink.setStatus({ text: "thinking…" });
    const stream = await sink.startText();
    await stream.update("Hello");
    expect((await calls(channel)).map((c) => c.method)).toEqual(["assistant.threads.setStatus", "chat.startStream"]);
    await stream.update("Hello there"); // within the interval: held
    await stream.finish("Hello there, done.");
    expect((await calls(channel)).map((c) => c.method)).toEqual(["assistant.threads.setStatus", "chat.startStream", "chat.appendStream", "chat.stopStream"]);
  });

  it("rotates to a new message before the stream grows too old", async () => {
    const channel = uniqueChannel();
    let clock = 0;
    const { sink } = open(channel, { stream: { now: () => clock, maxStreamAgeMs: 1_000 } });
    const stream = await sink.startText();
    await stream.update("First part. ");
    clock += 999;
    await stream.update("First part. Still first. ");
    clock += 2;
    await stream.update("First part. Still first. Second part.");
    await stream.finish("First part. Still first. Second part.");

    expect((await calls(channel)).map((c) => c.method)).toEqual([
      "chat.startStream",
      "chat.appendStream",
      "chat.stopStream",
      "chat.startStream",
      "chat.stopStream",
    ]);
    const { messages } = await conversation(channel);
    expect(messages.map((m) => m.text)).toEqual(["First part. Still first. ", "Second part."]);
    expect(messages.every((m) => !m.streaming && m.thread_ts === "1760000000.000100")).toBe(true);
  });

  it("continues a long answer in new messages, cut at paragraphs, without losing text", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel, { stream: { maxMessageChars: 120 } });
    const paragraphs = Array.from({ length: 8 }, (_, i) => `Paragraph ${i} says something useful.`);
    const answer = paragraphs.join("\n\n");
    const stream = await sink.startText();
    await stream.update(answer.slice(0, 100));
    await stream.finish(answer);
    const { messages } = await conversation(channel);
    expect(messages.length).toBeGreaterThan(2);
    expect(messages.every((m) => m.text.length <= 120 && !m.streaming)).toBe(true);
    expect(messages.map((m) => m.text).join("")).toBe(answer);
    expect(messages.slice(0, -1).every((m) => m.text.endsWith("\n\n"))).toBe(true);
  });

  it("closes a code block at a message break and reopens it in the next", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel, { stream: { maxMessageChars: 120 } });
    const code = Array.from({ length: 12 }, (_, i) => `print(${i})`).join("\n");
    const stream = await sink.startText();
    await stream.finish(`Code:\n\`\`\`python\n${code}\n\`\`\``);
    const { messages } = await conversation(channel);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect((m.text.match(/```/g) ?? []).length % 2).toBe(0);
    expect(messages[1]?.text.startsWith("```python\n")).toBe(true);
    const shown = messages.map((m) => m.text).join("\n");
    for (let i = 0; i < 12; i++) expect(shown).toContain(`print(${i})`);
  });

  it("carries on in a new message when Slack has already ended the stream", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel);
    const stream = await sink.startText();
    await stream.update("Before the gap. ");
    await fault({ method: "chat.appendStream", channel, error: "message_not_in_streaming_state" });
    await stream.finish("Before the gap. After the gap.");
    const { messages } = await conversation(channel);
    expect(messages.map((m) => m.text)).toEqual(["Before the gap. ", "After the gap."]);
  });

  it("marks an aborted answer and keeps what was shown", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel);
    const stream = await sink.startText();
    await stream.update("Partial answer");
    await stream.abort("The agent stopped unexpectedly.");
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe("Partial answer\n\n_The agent stopped unexpectedly._");
    expect(messages[0]?.streaming).toBe(false);
  });
});

describe("fallback to post-and-edit", () => {
  it("uses chat.postMessage and chat.update when Slack refuses to stream, and remembers it", async () => {
    const channel = uniqueChannel();
    await fault({ method: "chat.startStream", channel, error: "method_not_supported_for_channel_type" });
    const { sink, logs } = open(channel);
    const stream = await sink.startText();
    await stream.update("Working on **it**");
    await stream.finish("Done: **it** & [link](https://example.com)");

    const made = await calls(channel);
    expect(made.map((c) => c.method)).toEqual(["chat.startStream", "chat.postMessage", "chat.update"]);
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe("Done: *it* &amp; <https://example.com|link>");
    expect(logs.join("\n")).toMatch(/method_not_supported_for_channel_type/);

    const second = await sink.startText();
    await second.finish("Second answer");
    expect((await calls(channel, "chat.startStream")).length).toBe(1);
    expect((await conversation(channel)).messages.map((m) => m.text)).toContain("Second answer");
  });
});

describe("platform faults", () => {
  it("finishes the same stream when the final append's connection drops, instead of leaving it open", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel, { stream: { appendIntervalMs: 60_000, now: () => 1_000_000 } });
    const stream = await sink.startText();
    await stream.update("Hello");
    await fault({ method: "chat.appendStream", channel, disconnect: true });
    await stream.finish("Hello, world");
    const appends = await calls(channel, "chat.appendStream");
    expect(appends.map((c) => c.status)).toEqual([0, 200]);
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: "Hello, world", streaming: false });
  });

  it("honours Retry-After on 429 and posts exactly once", async () => {
    const channel = uniqueChannel();
    await fault({ method: "chat.postMessage", channel, status: 429, retryAfter: 3 });
    const policy = recordingPolicy();
    const { sink } = open(channel, { api: { retry: policy } });
    await sink.postNotice("Waking up the agent…", "info");
    expect(policy.waits).toEqual([3_000]);
    expect((await calls(channel, "chat.postMessage")).map((c) => c.status)).toEqual([429, 200]);
    expect((await conversation(channel)).messages).toHaveLength(1);
  });

  it("retries 5xx with growing backoff", async () => {
    const channel = uniqueChannel();
    await fault({ method: "chat.startStream", channel, status: 503, times: 2 });
    const policy = recordingPolicy();
    const { sink } = open(channel, { api: { retry: policy } });
    const stream = await sink.startText();
    await stream.finish("after two failures");
    expect(policy.waits).toEqual([10, 20]);
    expect((await calls(channel, "chat.startStream")).map((c) => c.status)).toEqual([503, 503, 200]);
    expect((await conversation(channel)).messages.map((m) => m.text)).toEqual(["after two failures"]);
  });

  it("does not re-send a post after a network failure", async () => {
    const channel = uniqueChannel();
    await fault({ method: "chat.postMessage", channel, disconnect: true });
    const { sink } = open(channel);
    await expect(sink.postNotice("hello", "info")).rejects.toBeInstanceOf(PlatformNetworkError);
    expect(await calls(channel, "chat.postMessage")).toHaveLength(1);
  });
});

describe("working status", () => {
  it("names the tool in the thread's status and clears it", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel);
    await sink.setStatus({ text: "browsing…", tool: "browser" });
    expect((await conversation(channel)).statuses).toEqual({ "1760000000.000100": "is browsing… (browser)" });
    await sink.setStatus({ text: "is thinking…" });
    expect((await conversation(channel)).statuses["1760000000.000100"]).toBe("is thinking…");
    await sink.clearStatus();
    expect((await conversation(channel)).statuses).toEqual({});
  });

  it("a refused status does not fail the turn, and is logged without secrets", async () => {
    const channel = uniqueChannel();
    await fault({ method: "assistant.threads.setStatus", channel, error: "missing_scope" });
    const { sink, logs } = open(channel);
    await expect(sink.setStatus({ text: "thinking…" })).resolves.toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/missing_scope/);
    expect(logs[0]).not.toContain(env.SLACK_BOT_TOKEN!);
  });
});

describe("media", () => {
  async function storedMedia(name: string, size: number, link?: string): Promise<{ item: MediaItem; sha256: string }> {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65_536)));
    const key = `media/test/${crypto.randomUUID()}-${name}`;
    await env.MEDIA.put(key, bytes);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const item: MediaItem = {
      key,
      name,
      contentType: "image/png",
      size,
      link,
      async open() {
        const object = await env.MEDIA.get(key);
        if (!object) throw new Error("missing test object");
        return object.body;
      },
    };
    return { item, sha256 };
  }

  it("streams an R2 object to Slack and shares it in the thread, bytes intact", async () => {
    const channel = uniqueChannel();
    const name = `shot-${channel}.png`;
    const { item, sha256 } = await storedMedia(name, 1_500_000);
    const { sink } = open(channel);
    await sink.postMedia(item);
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.thread_ts).toBe("1760000000.000100");
    expect(messages[0]?.files).toEqual([expect.objectContaining({ name, size: 1_500_000, sha256 })]);
    const made = await calls(channel);
    expect(made.map((c) => c.method)).toEqual(["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]);
    expect(made[0]?.body).toMatchObject({ filename: name, length: "1500000" });
    expect(made[2]?.body).toMatchObject({ channel_id: channel, thread_ts: "1760000000.000100", files: [{ title: name }] });
  });

  it("posts a link instead of uploading a file that is too large", async () => {
    const channel = uniqueChannel();
    const { item } = await storedMedia(`big-${channel}.mp4`, 2048, "https://relay.test/media/big.mp4");
    const { sink } = open(channel, { limits: { ...slackLimits, maxUploadBytes: 1024 } });
    await sink.postMedia(item);
    const { messages } = await conversation(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toContain("<https://relay.test/media/big.mp4|");
    expect(messages[0]?.text).toMatch(/too large/);
    expect((await calls(channel)).map((c) => c.method)).toEqual(["chat.postMessage"]);
  });

  it("turns a failed upload into a message: a link when there is one, else the name and size", async () => {
    const channel = uniqueChannel();
    const withLink = await storedMedia(`a-${channel}.png`, 4096, "https://relay.test/media/a.png");
    const without = await storedMedia(`b-${channel}.png`, 4096);
    await fault({ method: "upload", filename: withLink.item.name, status: 500 });
    await fault({ method: "upload", filename: without.item.name, status: 500 });
    const { sink, logs } = open(channel);
    await sink.postMedia(withLink.item);
    await sink.postMedia(without.item);
    const texts = (await conversation(channel)).messages.map((m) => m.text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain("<https://relay.test/media/a.png|");
    expect(texts[1]).toContain(`b-${channel}.png (4.0 KB) couldn't be uploaded`);
    expect(logs.filter((l) => l.includes("upload"))).toHaveLength(2);
    expect(await calls(channel, "files.completeUploadExternal")).toEqual([]);
  });
});

describe("notices", () => {
  it("marks errors clearly and formats the text for Slack", async () => {
    const channel = uniqueChannel();
    const { sink } = open(channel);
    await sink.postNotice("The agent is **restarting**", "info");
    await sink.postNotice("The gateway didn't answer", "error");
    const texts = (await conversation(channel)).messages.map((m) => m.text);
    expect(texts).toEqual([":information_source: The agent is *restarting*", ":warning: *Error:* The gateway didn't answer"]);
  });
});
