/**
 * What an MP4 in the emulated container is, told by a program run there (the container's files are
 * read as text by the control plane, so the bytes are looked at where they are): its top-level ISO
 * BMFF boxes, size and SHA-256, and its first frame decoded back with the image's ffmpeg, as the
 * RGB colours at a few spots.
 *
 * Run: write `VIDEO_CHECK` to a file in the container, then `node <file> <mp4> <x,y>...`.
 */
export const VIDEO_CHECK = `
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
const [file, ...spots] = process.argv.slice(2);
const data = fs.readFileSync(file);
const boxes = [];
for (let at = 0; at + 8 <= data.length; ) {
  let size = data.readUInt32BE(at);
  if (size === 1) size = Number(data.readBigUInt64BE(at + 8));
  if (size === 0) size = data.length - at;
  if (size < 8) break;
  boxes.push({ type: data.toString("latin1", at + 4, at + 8), size });
  at += size;
}
const probe = spawnSync("ffmpeg", ["-hide_banner", "-i", file], { encoding: "utf8" }).stderr;
const video = /Video: (\\w+)[^\\n]*?, (\\d+)x(\\d+)/.exec(probe);
const frame = spawnSync("ffmpeg", ["-loglevel", "error", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { maxBuffer: 64 << 20 });
const width = Number(video?.[2] ?? 0);
const pixels = spots.map((spot) => {
  const [x, y] = spot.split(",").map(Number);
  const i = (y * width + x) * 3;
  return [frame.stdout[i], frame.stdout[i + 1], frame.stdout[i + 2]];
});
console.log(JSON.stringify({
  size: data.length,
  sha256: createHash("sha256").update(data).digest("hex"),
  boxes,
  codec: video?.[1] ?? null,
  width,
  height: Number(video?.[3] ?? 0),
  frameBytes: frame.stdout.length,
  decodeError: frame.stderr.toString(),
  pixels,
}));
`;

export interface VideoCheck {
  size: number;
  sha256: string;
  boxes: { type: string; size: number }[];
  codec: string | null;
  width: number;
  height: number;
  frameBytes: number;
  decodeError: string;
  pixels: [number, number, number][];
}

/** Each channel within `tolerance` of the expected colour (JPEG frames, then H.264 in 4:2:0). */
export function near(actual: [number, number, number], expected: [number, number, number], tolerance = 48): boolean {
  return actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance);
}
