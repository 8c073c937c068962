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
import { eventually, mention, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";

beforeAll(() => {
  // Never skipped: a missing Chromium fails this test (CI or not).
  expect(inject("browserSetupError")).toBe("");
});

async function sha256(data: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

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
    const completed = await eventually(
      async () => (await slackCalls(channel)).find((call) => call.method === "files.completeUploadExternal"),
      60_000,
      "the upload",
    );
    expect(completed.body.thread_ts).toBe(ts);

    // The uploaded bytes are a PNG of the page: its blue square and red background.
    const uploaded = (await slackCalls(channel)).find((call) => call.method === "upload" && call.status === 200);
    expect(uploaded, "the file bytes reached Slack").toBeDefined();
    const stored = await env.MEDIA.list({ prefix: "media/slack:" });
    let png: Uint8Array | undefined;
    for (const object of stored.objects) {
      const bytes = new Uint8Array(await (await env.MEDIA.get(object.key))!.arrayBuffer());
      if ((await sha256(bytes)) === uploaded!.sha256) png = bytes;
    }
    expect(png, "the uploaded file is the agent's screenshot from R2").toBeDefined();
    const picture = await decodePng(png!);
    expect(picture.pixel(100, 100)).toEqual([0, 0, 255]);
    expect(picture.pixel(picture.width - 50, picture.height - 50)).toEqual([255, 0, 0]);

    // And the CDP went through the relay's one Browser Rendering session.
    const browser = await browserSession(env).status();
    expect(browser.sessionsOpened).toBeGreaterThanOrEqual(1);
  });
});
