/**
 * Driving the relay as Slack would, and watching what a user would see, through the Slack API
 * emulator. Each test uses its own channel id, so tests in parallel files don't see each other.
 */
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { signedSlackRequest } from "./slack-sign";

let counter = 0;

export function uniqueChannel(prefix = "C"): string {
  return `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
}

function nextTs(): string {
  counter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(counter).padStart(6, "0")}`;
}

/** Post a signed `app_mention` in `channel` (a new thread unless `threadTs` is given). */
export async function mention(channel: string, text: string, options: { threadTs?: string; user?: string; eventId?: string; ts?: string } = {}) {
  const ts = options.ts ?? nextTs();
  const payload = {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: "T0TESTTEAM",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: options.eventId ?? `Ev${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0TESTTEAM", user_id: "U0MOLTBOT", is_bot: true }],
    event: {
      type: "app_mention",
      user: options.user ?? "U0ALICE",
      text: `<@U0MOLTBOT> ${text}`,
      ts,
      event_ts: ts,
      channel,
      team: "T0TESTTEAM",
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
  };
  const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", payload));
  return { response, ts, payload };
}

const emulatorOrigin = () => new URL(env.SLACK_API_URL!).origin;

export interface EmulatorCall {
  method: string;
  channel?: string;
  body: Record<string, unknown>;
  [key: string]: unknown;
}

export async function slackCalls(channel: string): Promise<EmulatorCall[]> {
  const response = await fetch(`${emulatorOrigin()}/_emulator/calls?channel=${channel}`);
  return ((await response.json()) as { calls: EmulatorCall[] }).calls;
}

export interface EmulatorMessage {
  ts: string;
  text: string;
  thread_ts?: string;
  [key: string]: unknown;
}

export async function slackMessages(channel: string): Promise<EmulatorMessage[]> {
  const response = await fetch(`${emulatorOrigin()}/_emulator/messages?channel=${channel}`);
  return ((await response.json()) as { messages: EmulatorMessage[] }).messages;
}

export async function slackFault(fault: Record<string, unknown>): Promise<void> {
  await fetch(`${emulatorOrigin()}/_emulator/faults`, { method: "POST", body: JSON.stringify(fault) });
}

export async function expectNoUnmatchedSlackCalls(): Promise<void> {
  const response = await fetch(`${emulatorOrigin()}/_emulator/unmatched`);
  expect(((await response.json()) as { unmatched: unknown[] }).unmatched).toEqual([]);
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  what = "condition",
  /** What to report when it times out, to see why. */
  diagnose?: () => Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = diagnose ? `\n${JSON.stringify(await diagnose().catch((error) => String(error)), null, 2).slice(0, 6000)}` : "";
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
