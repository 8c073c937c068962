/**
 * The usage ledger: awake intervals from the supervisor's phases, a sandbox container's unseen
 * sleep after its last activity, and the per-day totals the cost charts draw. Each test has a
 * ledger of its own and an explicit clock.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sleepAfterMs } from "../../src/sandbox/usage-object";

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0); // 2026-11-20 10:00 UTC
const ledger = () => env.USAGE.get(env.USAGE.idFromName(`test-${crypto.randomUUID()}`));
const sleepAfter = sleepAfterMs(env); // the relay project's default: 10 min

describe("the usage ledger", () => {
  it("counts a gateway at GATEWAY_URL awake from ready to stop", async () => {
    const usage = ledger();
    await usage.phase("awake", "url", T0);
    await usage.phase("asleep", "url", T0 + 90 * MIN);
    const [today] = (await usage.days(1, T0 + 2 * 60 * MIN)).slice(-1);
    expect(today).toMatchObject({ day: "2026-11-20", awakeSeconds: 90 * 60 });
  });

  it("ends a sandbox container's time at its sleep after the last turn, when nobody saw it go", async () => {
    expect(sleepAfter).toBe(10 * MIN);
    const usage = ledger();
    await usage.phase("starting", "sandbox", T0);
    await usage.phase("awake", "sandbox", T0 + 1 * MIN);
    await usage.turn(T0 + 5 * MIN, 4 * MIN);
    // An hour later: the container slept 10 min after the turn, unseen.
    let [today] = await usage.days(1, T0 + 60 * MIN);
    expect(today!.awakeSeconds).toBe(15 * 60);
    // The next message starts it again: the first interval closes where it slept.
    await usage.phase("starting", "sandbox", T0 + 120 * MIN);
    await usage.phase("awake", "sandbox", T0 + 121 * MIN);
    [today] = await usage.days(1, T0 + 125 * MIN);
    expect(today!.awakeSeconds).toBe(15 * 60 + 5 * 60);
    expect(today).toMatchObject({ turns: 1, turnSeconds: 240 });
  });

  it("splits time across UTC days and keeps 30 days, oldest first", async () => {
    const usage = ledger();
    const late = Date.UTC(2026, 10, 20, 23, 30);
    await usage.phase("awake", "url", late);
    await usage.phase("asleep", "url", late + 60 * MIN);
    const days = await usage.days(30, late + DAY);
    expect(days).toHaveLength(30);
    expect(days.at(-1)!.day).toBe("2026-11-21");
    expect(days.at(-2)).toMatchObject({ day: "2026-11-20", awakeSeconds: 30 * 60 });
    expect(days.at(-1)).toMatchObject({ day: "2026-11-21", awakeSeconds: 30 * 60 });
    expect(days.slice(0, -2).every((day) => day.awakeSeconds === 0 && day.turns === 0)).toBe(true);
  });

  it("adds up this month, and Browser Rendering time where there is one", async () => {
    const usage = ledger();
    await usage.phase("awake", "url", Date.UTC(2026, 9, 31, 23, 0)); // October
    await usage.phase("asleep", "url", Date.UTC(2026, 10, 1, 1, 0)); // into November
    await usage.browser(Date.UTC(2026, 10, 2), 90_000);
    await usage.turn(Date.UTC(2026, 10, 2), 2_000);
    const month = await usage.month(Date.UTC(2026, 10, 3));
    expect(month).toEqual({ awakeSeconds: 3600, turns: 1, turnSeconds: 2, browserSeconds: 90 });
  });
});

describe("SANDBOX_SLEEP_AFTER", () => {
  it("reads the Sandbox's duration forms", () => {
    expect(sleepAfterMs({ SANDBOX_SLEEP_AFTER: "3m" })).toBe(180_000);
    expect(sleepAfterMs({ SANDBOX_SLEEP_AFTER: "1h" })).toBe(3_600_000);
    expect(sleepAfterMs({ SANDBOX_SLEEP_AFTER: "45" })).toBe(45_000);
    expect(sleepAfterMs({ SANDBOX_SLEEP_AFTER: "soon" })).toBe(600_000);
    expect(sleepAfterMs({})).toBe(600_000);
  });
});
