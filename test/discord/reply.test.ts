/**
 * The Discord ReplySink against the emulator: answers as replies, split at 2,000 characters and
 * never cut, Markdown mapped, streamed edits within the channel's rate limit, 429 and 5xx honoured
 * without posting twice, files from R2 as streamed attachments or, past 10 MiB, a link; and the
 * `/molt` results rendered for interactions. Each test uses its own channel.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { commandText, MOLT_SUBCOMMANDS, moltCommandDefinition } from "../../src/adapters/discord/commands";
import { markdownToDiscord } from "../../src/adapters/discord/format";
import type { DiscordReplyTarget } from "../../src/adapters/discord/parse";
import { type DiscordReplyOptions, openDiscordReply } from "../../src/adapters/discord/reply";
import type { RetryPolicy } from "../../src/adapters/retry";
import type { MediaItem } from "../../src/adapters/types";
import { commands } from "../../src/commands/registry";
import { discordCalls, discordFault, discordMessages, expectNoUnmatchedDiscordCalls, uniqueId } from "../support/discord-relay";

afterAll(expectNoUnmatchedDiscordCalls);

function target(channel = uniqueId(), replyTo: string | null = uniqueId()): DiscordReplyTarget {
  return { platform: "discord", channel_id: channel, guild_id: "1000000000000000777", reply_to: replyTo, interaction: null };
}

/** A retry policy that records its waits (and waits for real only when told). */
function recordingPolicy(real = false): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts: 4, baseDelayMs: 10, maxWaitMs: 60_000, waits, sleep: async (ms) => void (waits.push(ms), real && (await new Promise((r) => setTimeout(r, ms)))) };
}

function open(where = target(), options: DiscordReplyOptions = {}) {
  const logs: string[] = [];
  const policy = recordingPolicy();
  const sink = openDiscordReply(env, where, { api: { retry: policy }, log: (line) => logs.push(line), ...options });
  return { sink, logs, policy, channel: where.channel_id, target: where };
}

describe("answers", () => {
  it("reply to the message that asked, split at paragraph boundaries, nothing cut", async () => {
    const { sink, channel, target: where } = open();
    const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum ".repeat(15).trim()}.`);
    const text = paragraphs.join("\n\n");
    const stream = await sink.startText();
    await stream.finish(text);
    const messages = await discordMessages(channel);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((m) => m.content.length <= 2000)).toBe(true);
    expect(messages[0]!.message_reference?.message_id).toBe(where.reply_to);
    expect(messages.slice(1).every((m) => m.message_reference === null)).toBe(true);
    // Every paragraph arrives whole, in order, in one message.
    const joined = messages.map((m) => m.content).join("\n\n");
    expect(joined).toBe(text);
  });

  it("keep a code block a code block across the split", async () => {
    const { sink, channel } = open();
    const code = Array.from({ length: 120 }, (_, i) => `const line${i} = ${i}; // some code here`).join("\n");
    await (await sink.startText()).finish(`Here:\n\n\`\`\`ts\n${code}\n\`\`\``);
    const messages = await discordMessages(channel);
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect((message.content.match(/```/g) ?? []).length % 2).toBe(0);
    expect(messages[1]!.content.startsWith("```ts\n")).toBe(true);
  });

  it("stream by editing one message, then show exactly the final text", async () => {
    let clock = 0;
    const { sink, channel } = open(target(), { now: () => clock });
    const stream = await sink.startText();
    await stream.update("Hello");
    clock += 2_000;
    await stream.update("Hello, world");
    await stream.finish("Hello, world. Done.");
    const messages = await discordMessages(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.content).toBe("Hello, world. Done.");
    expect(messages[0]!.edits).toBe(2);
    const calls = (await discordCalls(channel)).map((call) => `${call.method} ${call.route}`);
    expect(calls).toEqual(["POST messages.create", "PATCH messages.edit", "PATCH messages.edit"]);
  });

  it("honour a 429's retry_after and post once", async () => {
    const { sink, channel, policy } = open();
    await discordFault({ method: "POST", path: `/channels/${channel}/messages`, status: 429, retryAfter: 1.5 });
    await (await sink.startText()).finish("after the limit");
    expect(policy.waits).toEqual([1_500]);
    expect((await discordCalls(channel)).map((call) => call.status)).toEqual([429, 200]);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("back off on 5xx and post once", async () => {
    const { sink, channel, policy } = open();
    await discordFault({ method: "POST", path: `/channels/${channel}/messages`, status: 502, times: 2 });
    await sink.postNotice("still here", "info");
    expect(policy.waits).toEqual([10, 20]);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("never post twice when a post's answer is lost: the retry carries the same nonce", async () => {
    let lost = 1;
    const fetcher: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (lost-- > 0) throw new TypeError("connection reset");
      return response;
    };
    const { sink, channel } = open(target(), { api: { retry: recordingPolicy(), fetch: fetcher } });
    await sink.postNotice("exactly once", "info");
    const calls = await discordCalls(channel);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body.nonce).toBe(calls[1]!.body.nonce);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("wait for an exhausted rate-limit bucket instead of earning a 429", async () => {
    const { sink, channel } = open(target(), { api: { retry: recordingPolicy(true) } });
    for (let i = 0; i < 7; i++) await sink.postNotice(`notice ${i}`, "info");
    const statuses = (await discordCalls(channel)).map((call) => call.status);
    expect(statuses).toEqual(Array(7).fill(200));
    expect(await discordMessages(channel)).toHaveLength(7);
  });

  it("never ping anyone", async () => {
    const { sink, channel } = open();
    await sink.postNotice("@everyone look", "info");
    const [call] = await discordCalls(channel);
    expect(call!.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
  });
});

describe("Markdown for Discord", () => {
  it("maps what Discord reads differently and leaves code alone", () => {
    expect(markdownToDiscord("__bold__ and *it*")).toBe("**bold** and *it*");
    expect(markdownToDiscord("#### Small heading")).toBe("**Small heading**");
    expect(markdownToDiscord("## Kept")).toBe("## Kept");
    expect(markdownToDiscord("![a cat](https://x.test/cat.png)")).toBe("[a cat](https://x.test/cat.png)");
    expect(markdownToDiscord("---")).toBe("──────────");
    expect(markdownToDiscord("`__init__` stays")).toBe("`__init__` stays");
    expect(markdownToDiscord("```py\n__x__\n#### y\n```")).toBe("```py\n__x__\n#### y\n```");
    expect(markdownToDiscord("| a | b |\n|---|---|\n| 1 | 2 |")).toBe("```\n| a | b |\n|---|---|\n| 1 | 2 |\n```");
  });
});

describe("files from R2", () => {
  async function stored(name: string, contentType: string, bytes: Uint8Array, extra: Partial<MediaItem> = {}): Promise<MediaItem & { sha256: string }> {
    const key = `media/test-discord/${crypto.randomUUID()}-${name}`;
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

  it("upload as an attachment, streamed from R2, as a reply", async () => {
    const { sink, channel, target: where } = open();
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) % 251);
    const media = await stored("shot.png", "image/png", bytes);
    await sink.postMedia(media);
    const [message] = await discordMessages(channel);
    expect(message!.attachments).toEqual([expect.objectContaining({ filename: "shot.png", size: bytes.length, sha256: media.sha256, content_type: "image/png" })]);
    expect(message!.message_reference?.message_id).toBe(where.reply_to);
  });

  it("post a link for a file over 10 MiB", async () => {
    const { sink, channel } = open();
    const media = await stored("big.mp4", "video/mp4", new Uint8Array(16), { size: 11 * 1024 * 1024, link: "https://relay.test/media/x" });
    await sink.postMedia(media);
    const [message] = await discordMessages(channel);
    expect(message!.attachments).toEqual([]);
    expect(message!.content).toContain("(https://relay.test/media/x)");
    expect(message!.content).toContain("too large");
  });

  it("post a link when the upload fails", async () => {
    const { sink, channel } = open();
    await discordFault({ method: "POST", path: `/channels/${channel}/messages`, status: 400, times: 1 });
    const media = await stored("a.png", "image/png", new Uint8Array(64), { link: "https://relay.test/media/y" });
    await sink.postMedia(media);
    const messages = await discordMessages(channel);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.content).toContain("the upload failed");
  });
});

describe("/molt as slash commands", () => {
  it("has a sub-command for every command in the registry, and nothing else", () => {
    expect(MOLT_SUBCOMMANDS.map((sub) => sub.name).sort()).toEqual(commands.map((command) => command.name).sort());
  });

  it("declares an option for every argument a command's usage names", () => {
    for (const command of commands) {
      const words = command.usage.replace(/^\/molt \S+/, "").trim();
      const options = MOLT_SUBCOMMANDS.find((sub) => sub.name === command.name)?.options ?? [];
      expect(options.length > 0, command.usage).toBe(words.length > 0);
    }
    const definition = moltCommandDefinition();
    expect(definition.contexts).toContain(1);
    expect(definition.options.every((sub) => sub.description.length <= 100)).toBe(true);
  });

  it("reads options in declared order, whatever order they come in", () => {
    const text = commandText([{ name: "pair", type: 1, options: [{ name: "code", type: 3, value: "ABCD2345" }, { name: "action", type: 3, value: "approve" }] }]);
    expect(text).toBe("pair approve ABCD2345");
    expect(commandText([{ name: "logs", type: 1, options: [{ name: "n", type: 4, value: 50 }] }])).toBe("logs 50");
    expect(commandText([{ name: "status", type: 1 }])).toBe("status");
  });
});
