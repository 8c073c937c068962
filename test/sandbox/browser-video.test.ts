/**
 * The browser-video skill's recording, from inside the container: its `record()` (the part before
 * ffmpeg) reaches the agent's browser as the image configures it (`BROWSER_CDP_URL`, discovery,
 * then the CDP socket through `browser.internal` and the Worker's pass-through) and brings back
 * frames of the page from the real Chromium. Joining them into an MP4 needs ffmpeg, which the
 * tests do not have; how a video reaches the chat is tested in test/bridge/video-e2e.test.ts.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { containerStats, expectNoUnmatchedContainerCalls, uniqueSandbox } from "../support/container";

afterEach(expectNoUnmatchedContainerCalls);

/** argv: the skill's record.mjs (an image path), the page. Prints what the frames are. */
const RECORD = `
import { pathToFileURL } from "node:url";
const { record } = await import(pathToFileURL(process.argv[2]).href);
const recording = await record({ url: process.argv[3], seconds: 2, scroll: false, width: 640, height: 360 });
/** Width and height from a JPEG's start-of-frame marker. */
function jpegSize(data) {
  for (let i = 2; i < data.length - 8; ) {
    if (data[i] !== 0xff) return null;
    const marker = data[i + 1];
    if (marker >= 0xc0 && marker <= 0xc2) return { height: data.readUInt16BE(i + 5), width: data.readUInt16BE(i + 7) };
    i += 2 + data.readUInt16BE(i + 2);
  }
  return null;
}
console.log(JSON.stringify({
  frames: recording.frames.length,
  jpeg: recording.frames.every((frame) => frame.data[0] === 0xff && frame.data[1] === 0xd8),
  size: jpegSize(recording.frames[0].data),
  bytes: recording.frames[0].data.length,
}));
`;

describe("the browser-video skill in the container", () => {
  it("records frames of a page through browser.internal", async () => {
    expect(inject("browserSetupError")).toBe("");
    const { name, sandbox } = uniqueSandbox("video");
    const page = new URL(inject("testPageUrl"));
    page.hostname = "127.0.0.1";
    await sandbox.writeFile("/workspace/record-frames.mjs", RECORD);
    const result = await sandbox.exec(`node record-frames.mjs /opt/molt-relay/skills/browser-video/record.mjs ${page.href}`, { timeout: 60_000 });
    expect(result.stderr).toBe("");
    const frames = JSON.parse(result.stdout) as { frames: number; jpeg: boolean; size: { width: number; height: number } | null; bytes: number };
    // A still page sends few screencast frames; the skill adds a screenshot every half second.
    expect(frames.frames).toBeGreaterThanOrEqual(2);
    expect(frames.jpeg).toBe(true);
    expect(frames.size).toEqual({ width: 640, height: 360 });
    expect(frames.bytes).toBeGreaterThan(1000);
    // The skill found the browser as the agent does: discovery, then the socket, both through the
    // Worker's handler for browser.internal.
    const outbound = (await containerStats(name)).outbound;
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/json/version" });
    expect(outbound).toContainEqual({ method: "GET", url: "http://browser.internal/devtools/browser", upgrade: true });
  });
});
