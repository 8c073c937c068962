/**
 * The browser-video skill inside the container: its `record()` reaches the agent's browser as the
 * image configures it (`BROWSER_CDP_URL`, discovery, then the CDP socket through `browser.internal`
 * and the Worker's pass-through) and brings back frames of the page from the real Chromium; the
 * whole script then joins them into an H.264 MP4 with the image's ffmpeg (in the tests, the binary
 * of the npm package `@ffmpeg-installer/linux-x64`, on the container's PATH). The agent's own turn
 * with it is test/sandbox/browser-video-agent.test.ts.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { containerStats, expectNoUnmatchedContainerCalls, uniqueSandbox } from "../support/container";
import { near, VIDEO_CHECK, type VideoCheck } from "../support/video-check";

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

  it("records the page into an MP4 that decodes back to the page", async () => {
    expect(inject("browserSetupError")).toBe("");
    const { sandbox } = uniqueSandbox("video-mp4");
    const page = new URL(inject("testPageUrl"));
    page.hostname = "127.0.0.1";
    const result = await sandbox.exec(
      `node /opt/molt-relay/skills/browser-video/record.mjs --url ${page.href} --seconds 2 --no-scroll --width 640 --height 360 --out videos/page.mp4`,
      { timeout: 90_000 },
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // The line the agent ends its reply with, naming the file on the container's disk.
    const media = /^MEDIA:(\S+)$/m.exec(result.stdout)?.[1];
    expect(media, result.stdout).toMatch(/\/workspace\/videos\/page\.mp4$/);

    await sandbox.writeFile("/workspace/video-check.mjs", VIDEO_CHECK);
    const check = await sandbox.exec(`node video-check.mjs ${media} 100,100 600,250`, { timeout: 60_000 });
    const video = JSON.parse(check.stdout) as VideoCheck;
    // An MP4 as players want it: `ftyp`, then the index (`moov`, moved first by +faststart), then
    // the frames (`mdat`); ffmpeg leaves a `free` box of padding between them.
    expect(video.boxes.map((box) => box.type).filter((type) => type !== "free")).toEqual(["ftyp", "moov", "mdat"]);
    expect(video.boxes.reduce((sum, box) => sum + box.size, 0)).toBe(video.size);
    expect(video.size).toBeGreaterThan(2000);
    expect(video).toMatchObject({ codec: "h264", width: 640, height: 360, frameBytes: 640 * 360 * 3, decodeError: "" });
    // Its first frame is the test page: the blue square at the top left, the red page around it.
    expect(near(video.pixels[0]!, [0, 0, 255]), `blue at (100, 100): ${video.pixels[0]}`).toBe(true);
    expect(near(video.pixels[1]!, [255, 0, 0]), `red at (600, 250): ${video.pixels[1]}`).toBe(true);
  });
});
