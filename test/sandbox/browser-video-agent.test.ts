/**
 * A video asked for in Slack, made by the agent in its container: a mention asks for a video of a
 * page; the stand-in model finds the relay's `browser-video` skill in the skills catalog that the
 * real gateway (started in the emulated container by the real start script) puts in its prompt,
 * and runs the skill's record.mjs with OpenClaw's `exec` tool. The script records the page through
 * `browser.internal` and the Worker's pass-through to the real Chromium, joins the frames with the
 * image's ffmpeg, and prints `MEDIA:<file>`; the model ends its reply with that line, and the MP4
 * comes back through the media path (R2) as an upload in the thread, byte for byte the file the
 * skill wrote.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openSandbox, SANDBOX_ID } from "../../src/sandbox/transport";
import { agentStats, readyAgent } from "../support/agent";
import { containerLogs, expectNoUnmatchedContainerCalls } from "../support/container";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackMessages, uniqueChannel } from "../support/slack-relay";
import { uploadsInThread } from "../support/slack-uploads";
import { near, VIDEO_CHECK, type VideoCheck } from "../support/video-check";

/** A cold start on a busy two-core machine, then a recording and its encoding. */
const TURN_MS = 480_000;

beforeAll(() => {
  // Never skipped: a missing Chromium fails this test (CI or not).
  expect(inject("browserSetupError")).toBe("");
});

afterEach(async () => {
  await expectNoUnmatchedContainerCalls();
  await expectNoUnmatchedSlackCalls();
});

/** The newest MP4 the skill wrote (its default place: the agent's workspace), looked at in the container. */
async function newestVideo(): Promise<VideoCheck & { file: string }> {
  const sandbox = openSandbox(env);
  const dir = '"$HOME/.openclaw/workspace/videos"';
  const listed = await sandbox.exec(`ls -t ${dir}`);
  const file = listed.stdout.split("\n").find((name) => name.endsWith(".mp4"));
  expect(file, `videos in the workspace: ${listed.stdout}${listed.stderr}`).toBeDefined();
  await sandbox.writeFile("/workspace/video-check.mjs", VIDEO_CHECK);
  const check = await sandbox.exec(`node video-check.mjs ${dir}/${file} 100,100 600,250`, { timeout: 60_000 });
  return { file: file!, ...(JSON.parse(check.stdout) as VideoCheck) };
}


describe("a browsing video, from the agent's skill to the Slack thread", () => {
  it("runs the browser-video skill with the exec tool and uploads its MP4 to the thread", async () => {
    await readyAgent();
    const channel = uniqueChannel();
    // The test Chromium runs on this machine, and so does the page (on loopback).
    const page = new URL(inject("testPageUrl"));
    page.hostname = "127.0.0.1";
    const { ts } = await mention(channel, `record a video of ${page.href}`);

    const reply = await eventually(
      async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && /Here is|failed|No /.test(m.text)),
      TURN_MS,
      "the agent's reply",
      async () => ({ messages: await slackMessages(channel), outbound: (await agentStats()).outbound, logs: (await containerLogs(SANDBOX_ID)).slice(-3000) }),
    );
    expect(reply.text).toContain(`Here is the video of ${page.href}`);
    // One file reached Slack: the MP4 the skill wrote in the container, byte for byte, typed as a video in R2.
    const uploads = await uploadsInThread(channel, ts);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.filename).toMatch(/\.mp4$/);
    const video = await newestVideo();
    expect(uploads[0]!.sha256).toBe(video.sha256);
    expect(uploads[0]!.stored?.contentType).toBe("video/mp4");

    // A real recording of the page: H.264 in an MP4 whose first frame is the blue square on red.
    expect(video.boxes.map((box) => box.type).filter((type) => type !== "free")).toEqual(["ftyp", "moov", "mdat"]);
    expect(video).toMatchObject({ codec: "h264", width: 640, height: 360, decodeError: "" });
    expect(near(video.pixels[0]!, [0, 0, 255]), `blue at (100, 100): ${video.pixels[0]}`).toBe(true);
    expect(near(video.pixels[1]!, [255, 0, 0]), `red at (600, 250): ${video.pixels[1]}`).toBe(true);

    // The skill found the agent's browser as the browser tool does: through browser.internal.
    const outbound = (await agentStats()).outbound;
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/json/version" });
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/devtools/browser", upgrade: true });
  }, TURN_MS + 120_000);
});
