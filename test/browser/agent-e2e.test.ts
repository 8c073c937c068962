/**
 * The headline path, end to end through real parts: a Slack mention asks the agent to look at a
 * page; the real OpenClaw gateway's browser tool (driven by the stand-in model: open, screenshot,
 * send) speaks CDP to the relay's pass-through (the Worker's loopback dev route, as a local
 * gateway reaches it), which relays it to the local Browser Rendering binding and its real
 * Chromium. The screenshot comes back through the media path (R2) and is uploaded to the thread.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { browserSession } from "../../src/sandbox/browser-session";
import { decodePng } from "../support/png";
import { eventually, mention, slackMessages, uniqueChannel } from "../support/slack-relay";
import { uploadsInThread } from "../support/slack-uploads";

beforeAll(() => {
  // Never skipped: a missing Chromium fails this test (CI or not).
  expect(inject("browserSetupError")).toBe("");
});


describe("the agent's browser, from Slack to the upload", () => {
  it("takes a screenshot of a page with the browser tool and posts it in the thread", async () => {
    const channel = uniqueChannel();
    // The gateway's browser may open private addresses in this set-up (the page is on loopback).
    const page = new URL(inject("testPageUrl"));
    page.hostname = "127.0.0.1";
    const { ts } = await mention(channel, `browse ${page.href}`);

    const reply = await eventually(
      async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && /Here is|failed|No browser/.test(m.text)),
      180_000,
      "the agent's reply",
      () => slackMessages(channel),
    );
    expect(reply.text).toContain(`Here is ${page.href}`);
    // The uploaded bytes are a PNG of the page: its blue square and red background.
    const [uploaded] = await uploadsInThread(channel, ts);
    expect(uploaded!.stored, "the uploaded file is the agent's screenshot from R2").toBeDefined();
    const picture = await decodePng(uploaded!.stored!.bytes);
    expect(picture.pixel(100, 100)).toEqual([0, 0, 255]);
    expect(picture.pixel(picture.width - 50, picture.height - 50)).toEqual([255, 0, 0]);

    // And the CDP went through the relay's one Browser Rendering session.
    const browser = await browserSession(env).status();
    expect(browser.sessionsOpened).toBeGreaterThanOrEqual(1);
  });
});
