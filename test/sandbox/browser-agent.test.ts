/**
 * The headline path from inside the agent's container: a Slack mention asks the agent for a
 * screenshot of a page; the gateway that the real start script runs in the (emulated) container
 * calls OpenClaw's browser tool (driven by the stand-in model: open, screenshot, send), whose CDP
 * leaves the container for `browser.internal`, where the Worker's outbound handler relays it through
 * the agent's Browser Rendering session to a real Chromium. The PNG comes back through the media
 * path (R2) and is uploaded to the thread.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { browserSession } from "../../src/sandbox/browser-session";
import { SANDBOX_ID } from "../../src/sandbox/transport";
import { agentStats, readyAgent } from "../support/agent";
import { containerLogs, expectNoUnmatchedContainerCalls } from "../support/container";
import { decodePng } from "../support/png";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackMessages, uniqueChannel } from "../support/slack-relay";
import { uploadsInThread } from "../support/slack-uploads";

/** A cold start on a busy two-core machine, then a browser turn. */
const TURN_MS = 480_000;

beforeAll(() => {
  // Never skipped: a missing Chromium fails this test (CI or not).
  expect(inject("browserSetupError")).toBe("");
});

afterEach(async () => {
  await expectNoUnmatchedContainerCalls();
  await expectNoUnmatchedSlackCalls();
});


describe("the agent's browser, from the container to the Slack thread", () => {
  it("takes a screenshot with the browser tool through browser.internal and posts it in the thread", async () => {
    await readyAgent();
    const opened = (await browserSession(env).status()).sessionsOpened;
    const channel = uniqueChannel();
    // The test Chromium runs on this machine, and so does the page (on loopback).
    const page = new URL(inject("testPageUrl"));
    page.hostname = "127.0.0.1";
    const { ts } = await mention(channel, `browse ${page.href}`);

    const reply = await eventually(
      async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && /Here is|failed|No browser/.test(m.text)),
      TURN_MS,
      "the agent's reply",
      async () => ({ messages: await slackMessages(channel), outbound: (await agentStats()).outbound, logs: (await containerLogs(SANDBOX_ID)).slice(-3000) }),
    );
    expect(reply.text).toContain(`Here is ${page.href}`);
    // The uploaded bytes are a PNG of the page: its blue square on a red background.
    const [uploaded] = await uploadsInThread(channel, ts);
    expect(uploaded!.stored, "the uploaded file is the agent's screenshot from R2").toBeDefined();
    const picture = await decodePng(uploaded!.stored!.bytes);
    expect(picture.pixel(100, 100)).toEqual([0, 0, 255]);
    expect(picture.pixel(picture.width - 50, picture.height - 50)).toEqual([255, 0, 0]);

    // The CDP left the container for browser.internal (discovery, then the socket, both handed to
    // the Worker's handler) and went through the relay's Browser Rendering session.
    const outbound = (await agentStats()).outbound;
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/json/version" });
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/devtools/browser", upgrade: true });
    const browser = await browserSession(env).status();
    expect(browser.sessionsOpened).toBeGreaterThanOrEqual(Math.max(opened, 1));
  }, TURN_MS + 60_000);
});
