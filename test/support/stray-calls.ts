/**
 * Stray platform calls fail the test that made them. The emulators answer a call they don't know
 * with 404 and record it in their `unmatched` list; this setup file (loaded for every test file of
 * the `relay` project) notes where each list stands before a test and fails the test if anything
 * was added by its end. The emulators are shared by the files that run at the same time, so a
 * call is blamed on the test that was running when it came (a file running in parallel may share
 * the blame; the entry's path and time say whose it is).
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, expect } from "vitest";

interface Unmatched {
  method: string;
  path: string;
  time: number;
}

const emulators = () => [
  { name: "Slack", control: env.SLACK_API_URL ? new URL("/_emulator/unmatched", env.SLACK_API_URL).href : undefined },
  { name: "Telegram", control: env.TELEGRAM_API_URL ? `${env.TELEGRAM_API_URL}/_emulator/unmatched` : undefined },
  { name: "Discord", control: env.DISCORD_API_URL ? `${env.DISCORD_API_URL.replace(/\/api\/v10$/, "")}/_emulator/unmatched` : undefined },
];

async function unmatched(control: string): Promise<Unmatched[]> {
  const response = await fetch(control);
  return ((await response.json()) as { unmatched: Unmatched[] }).unmatched;
}

let seen = new Map<string, number>();

beforeEach(async () => {
  seen = new Map();
  for (const { name, control } of emulators()) if (control) seen.set(name, (await unmatched(control)).length);
});

afterEach(async () => {
  for (const { name, control } of emulators()) {
    if (!control || !seen.has(name)) continue;
    const stray = (await unmatched(control)).slice(seen.get(name));
    expect(stray, `calls the ${name} emulator doesn't know, made during this test`).toEqual([]);
  }
});
