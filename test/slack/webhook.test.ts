/**
 * Slack's two webhooks through the Worker: a request that isn't signed with the app's signing
 * secret, or whose signature is stale, is answered 401 before anything happens. Nothing is stored
 * in the intake (its delivery keys are not even remembered), no command runs, and nothing reaches
 * the Slack API. The same request, signed right, goes through (so the checks below can see it).
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { slackAdapter } from "../../src/adapters/slack";
import { policy } from "../../src/policy/policy-object";
import { intakeHolds } from "../support/intake-keys";
import { slashRequest } from "../support/slack-admin";
import { slackCalls, uniqueChannel } from "../support/slack-relay";
import { slackSignature, TEST_SLACK_SIGNING_SECRET } from "../support/slack-sign";

const EVENTS = "https://relay.test/slack/events";

function mentionPayload(channel: string) {
  const ts = `${Math.floor(Date.now() / 1000)}.000100`;
  return {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: "T0TESTTEAM",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: `Ev${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0TESTTEAM", user_id: "U0MOLTBOT", is_bot: true }],
    event: { type: "app_mention", user: "U0ADMIN", text: "<@U0MOLTBOT> forged words", ts, event_ts: ts, channel, team: "T0TESTTEAM" },
  };
}

/** The ways a request can fail Slack's signing check, as headers for `body`. */
async function badSignatures(body: string): Promise<[string, Record<string, string>][]> {
  const now = Math.floor(Date.now() / 1000);
  const header = (signature: string, timestamp = now) => ({ "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature });
  const good = await slackSignature(body, now);
  return [
    ["signed with another secret", header(await slackSignature(body, now, "not-the-signing-secret"))],
    ["signed for another body", header(await slackSignature(`${body} `, now))],
    ["one hex digit changed", header(`${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`)],
    ["a replay from 10 minutes ago", header(await slackSignature(body, now - 600), now - 600)],
    ["no signature", { "x-slack-request-timestamp": String(now) }],
    ["no timestamp", { "x-slack-signature": good }],
  ];
}

function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  const type = url.endsWith("/slack/commands") ? "application/x-www-form-urlencoded" : "application/json";
  return SELF.fetch(url, { method: "POST", headers: { "content-type": type, ...headers }, body });
}

describe("Slack webhooks refuse what Slack didn't sign", () => {
  it("answer a mis-signed event 401, store nothing and call nothing", async () => {
    const channel = uniqueChannel();
    const body = JSON.stringify(mentionPayload(channel));
    // What the message would be, read by the adapter from the same body signed right.
    const { events } = await slackAdapter.receive(await signed(EVENTS, body), env, Date.now());
    const [event] = events;
    expect(event?.kind).toBe("message");

    for (const [what, headers] of await badSignatures(body)) {
      const response = await post(EVENTS, body, headers);
      expect(response.status, what).toBe(401);
      expect(await response.text(), what).not.toContain(TEST_SLACK_SIGNING_SECRET);
    }
    expect(await intakeHolds(event!)).toEqual({ keys: 0, pending: 0 });
    expect(await slackCalls(channel)).toEqual([]);

    // Signed right, the same body is stored (the check above would have seen it).
    expect((await SELF.fetch(await signed(EVENTS, body))).status).toBe(200);
    expect((await intakeHolds(event!)).keys).toBe(event!.dedupeKeys.length);
  });

  it("answer a mis-signed /molt command 401 and run nothing, even an admin's", async () => {
    const channel = uniqueChannel();
    const target = `slack:U0FORGED${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const request = await slashRequest(`allow ${target}`, { channel });
    const body = await request.clone().text();
    for (const [what, headers] of await badSignatures(body)) {
      const response = await post(request.url, body, headers);
      expect(response.status, what).toBe(401);
    }
    const allowed = async () => (await policy(env).lists()).senders.map((entry) => entry.value).includes(target);
    const audited = async () => (await policy(env).audit(500)).some((entry) => entry.detail.includes(target));
    expect(await allowed()).toBe(false);
    expect(await audited()).toBe(false);
    expect(await slackCalls(channel)).toEqual([]);

    // Signed right, the same command runs.
    expect((await SELF.fetch(request)).status).toBe(200);
    expect(await allowed()).toBe(true);
    expect(await audited()).toBe(true);
    await policy(env).removeSender(target);
  });
});

async function signed(url: string, body: string): Promise<Request> {
  const now = Math.floor(Date.now() / 1000);
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-slack-request-timestamp": String(now), "x-slack-signature": await slackSignature(body, now) },
    body,
  });
}
