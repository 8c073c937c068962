/**
 * A slash command's notices through its `response_url`, against the Slack emulator: the same retry
 * policy as every Slack call, and chat.postMessage when the URL refuses. Each test uses its own
 * channel: other files share the emulator.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../src/adapters/retry";
import type { SlackReplyTarget } from "../../src/adapters/slack/parse";
import { openSlackReply } from "../../src/adapters/slack/reply";
import { PlatformNetworkError } from "../../src/errors";
import { emulatorResponseUrl } from "../support/slack-admin";
import { expectNoUnmatchedSlackCalls, slackCalls, slackFault, slackMessages, uniqueChannel } from "../support/slack-relay";

afterAll(expectNoUnmatchedSlackCalls);

/** A retry policy that records its waits instead of sleeping. */
function recordingPolicy(): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts: 4, baseDelayMs: 10, maxWaitMs: 60_000, waits, sleep: async (ms) => void waits.push(ms) };
}

/** The reply sink of a slash command in `channel` whose response URL is `url`. */
function openCommandReply(channel: string, url = emulatorResponseUrl(channel)) {
  const target: SlackReplyTarget = { platform: "slack", team: "T0TESTTEAM", channel, thread_ts: null, user: "U0ADMIN", user_team: "T0TESTTEAM", response_url: url };
  const logs: string[] = [];
  const policy = recordingPolicy();
  const sink = openSlackReply(env, target, { api: { retry: policy }, log: (line) => logs.push(line) });
  return { sink, logs, policy, url };
}

const statuses = async (channel: string) => (await slackCalls(channel)).map((call) => `${call.method} ${call.status}`);

describe("notices through a response_url", () => {
  it("are ephemeral mrkdwn, sent without the bot token", async () => {
    const channel = uniqueChannel();
    const { sink } = openCommandReply(channel);
    await sink.postNotice("The agent is **restarting**", "info");
    await sink.postNotice("The gateway didn't answer", "error");
    const calls = await slackCalls(channel);
    expect(calls.map((call) => call.body)).toEqual([
      { response_type: "ephemeral", text: ":information_source: The agent is *restarting*" },
      { response_type: "ephemeral", text: ":warning: *Error:* The gateway didn't answer" },
    ]);
    expect(calls.every((call) => call.bearer === false)).toBe(true);
  });

  it("honour Retry-After on 429 and post exactly once", async () => {
    const channel = uniqueChannel();
    await slackFault({ method: "response_url", channel, status: 429, retryAfter: 3 });
    const { sink, policy } = openCommandReply(channel);
    await sink.postNotice("Done", "info");
    expect(policy.waits).toEqual([3_000]);
    expect(await statuses(channel)).toEqual(["response_url 429", "response_url 200"]);
    expect(await slackMessages(channel)).toHaveLength(1);
  });

  it("back off on 5xx", async () => {
    const channel = uniqueChannel();
    await slackFault({ method: "response_url", channel, status: 503, times: 2 });
    const { sink, policy } = openCommandReply(channel);
    await sink.postNotice("Done", "info");
    expect(policy.waits).toEqual([10, 20]);
    expect(await statuses(channel)).toEqual(["response_url 503", "response_url 503", "response_url 200"]);
  });

  it("are not sent again, by either route, after a network failure: the post may have landed", async () => {
    const channel = uniqueChannel();
    await slackFault({ method: "response_url", channel, disconnect: true });
    const { sink, url } = openCommandReply(channel);
    const error = await sink.postNotice("Done", "info").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(String(error)).not.toContain(url);
    expect(await statuses(channel)).toEqual(["response_url 0"]);
  });

  it("fall back to chat.postMessage once the URL is used up, and never log the URL", async () => {
    const channel = uniqueChannel();
    const { sink, logs, url } = openCommandReply(channel);
    for (let i = 1; i <= 6; i++) await sink.postNotice(`Notice ${i}`, "info");
    expect(await statuses(channel)).toEqual([...Array(5).fill("response_url 200"), "response_url 404", "chat.postMessage 200"]);
    const messages = await slackMessages(channel);
    expect(messages.map((message) => [message.text, message.ephemeral])).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => [`:information_source: Notice ${i}`, true]),
      [":information_source: Notice 6", false],
    ]);
    expect(logs).toEqual([expect.stringMatching(/response_url 404 expired_url/)]);
    expect(logs.join("\n")).not.toContain(url);
    expect(logs.join("\n")).not.toContain(new URL(url).pathname);
  });

  it("ignore a URL on a host other than Slack's (or the API's), whoever put it in the target", async () => {
    const channel = uniqueChannel();
    const { sink } = openCommandReply(channel, "https://hooks.slack.com.example.net/commands/T0TESTTEAM/1/x");
    await sink.postNotice("Done", "info");
    expect(await statuses(channel)).toEqual(["chat.postMessage 200"]);
  });
});
