/** The cost arithmetic: allowances, instance sizes, the month's projection, the always-on comparison. */
import { describe, expect, it } from "vitest";
import { describeMonth, estimateCost, estimateMonth, INSTANCE_TYPES, PRICES, PRICES_CHECKED } from "../../src/commands/cost-estimate";

const HOUR = 3600;
const idle = { awakeSeconds: 0, turns: 0, turnSeconds: 0, browserSeconds: 0 };
const line = (estimate: ReturnType<typeof estimateCost>, prefix: string) => estimate.lines.find((entry) => entry.item.startsWith(prefix))!;

describe("estimateCost", () => {
  it("charges only the Workers Paid plan when nothing ran", () => {
    const estimate = estimateCost(idle);
    expect(estimate.usd).toBe(5);
    expect(estimate.lines.filter((entry) => entry.usd > 0).map((entry) => entry.item)).toEqual(["Workers Paid plan"]);
  });

  it("keeps usage within the monthly allowances free", () => {
    // standard-1: 4 GiB, so 25 GiB-h of memory last 6.25 h; ½ vCPU, so 375 vCPU-min last 12.5 h.
    const estimate = estimateCost({ ...idle, awakeSeconds: 6 * HOUR });
    expect(line(estimate, "Container memory").quantity).toBe(4 * 6 * HOUR);
    expect(line(estimate, "Container memory").usd).toBe(0);
    expect(line(estimate, "Container CPU").usd).toBe(0);
    expect(line(estimate, "Container disk").usd).toBe(0);
  });

  it("prices a standard-1 container awake for 100 hours", () => {
    const estimate = estimateCost({ ...idle, awakeSeconds: 100 * HOUR });
    // memory: (4 GiB × 360,000 s − 90,000 GiB-s) × $0.0000025 = $3.375
    expect(line(estimate, "Container memory").usd).toBeCloseTo(3.375, 6);
    // CPU, at most: (0.5 × 360,000 − 22,500) vCPU-s × $0.00002 = $3.15
    expect(line(estimate, "Container CPU").usd).toBeCloseTo(3.15, 6);
    // disk: (8 GB × 360,000 s − 720,000 GB-s) × $0.00000007 = $0.1512
    expect(line(estimate, "Container disk").usd).toBeCloseTo(0.1512, 6);
    expect(estimate.usd).toBeCloseTo(5 + 3.375 + 3.15 + 0.1512, 6);
  });

  it("scales with the instance type", () => {
    const small = estimateCost({ ...idle, awakeSeconds: 200 * HOUR }, "basic");
    const big = estimateCost({ ...idle, awakeSeconds: 200 * HOUR }, "standard-4");
    expect(line(small, "Container memory").quantity).toBe(INSTANCE_TYPES.basic!.memoryGib * 200 * HOUR);
    expect(big.usd).toBeGreaterThan(small.usd);
  });

  it("counts Durable Object requests per turn and Browser Rendering hours beyond the 10 included", () => {
    const estimate = estimateCost({ ...idle, turns: 200_000, turnSeconds: 0, browserSeconds: 15 * HOUR });
    // 200,000 turns × 8 = 1.6M requests; 0.6M beyond the included million at $0.15/M.
    expect(line(estimate, "Durable Object requests").usd).toBeCloseTo(0.09, 6);
    // 15 h − 10 h included, at $0.09 an hour.
    expect(line(estimate, "Browser Rendering").usd).toBeCloseTo(0.45, 6);
  });

  it("says where each price comes from, and when it was read", () => {
    expect(PRICES_CHECKED).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const price of Object.values(PRICES)) expect(price.source).toMatch(/^https:\/\/developers\.cloudflare\.com\//);
    for (const entry of estimateCost(idle).lines) expect(entry.price.source).toBeTruthy();
  });
});

describe("estimateMonth", () => {
  const NOV_16 = Date.UTC(2026, 10, 16); // half of November (30 days) gone

  it("carries the month so far on at the same rate", () => {
    const month = estimateMonth({ awakeSeconds: 50 * HOUR, turns: 100, turnSeconds: 500, browserSeconds: 0 }, NOV_16);
    expect(month.month).toBe("2026-11");
    expect(month.elapsed).toBeCloseTo(0.5, 6);
    expect(month.projected.awakeSeconds).toBeCloseTo(100 * HOUR, 3);
    expect(month.projected.turns).toBeCloseTo(200, 6);
    expect(month.estimate.usd).toBeCloseTo(estimateCost(month.projected).usd, 9);
  });

  it("compares with the same agent awake all month", () => {
    const month = estimateMonth({ ...idle, awakeSeconds: 10 * HOUR }, NOV_16);
    const allMonth = 30 * 24 * HOUR;
    expect(line(month.alwaysOn, "Container memory").quantity).toBe(4 * allMonth);
    // memory (4 GiB × 2,592,000 s − 90,000) × $0.0000025 = $25.695
    expect(line(month.alwaysOn, "Container memory").usd).toBeCloseTo(25.695, 6);
    expect(month.alwaysOn.usd).toBeGreaterThan(month.estimate.usd);
  });

  it("never projects more awake time than the month has", () => {
    // Awake the whole time so far (and a clock skew beyond): the projection stops at the month.
    const month = estimateMonth({ ...idle, awakeSeconds: 16 * 24 * HOUR }, NOV_16);
    expect(month.projected.awakeSeconds).toBeLessThanOrEqual(30 * 24 * HOUR);
    expect(month.estimate.usd).toBeCloseTo(month.alwaysOn.usd, 6);
  });

  it("doesn't multiply the first minutes of a month by hundreds", () => {
    const month = estimateMonth({ ...idle, awakeSeconds: 60 }, Date.UTC(2026, 11, 1, 0, 1));
    expect(month.projected.awakeSeconds).toBeLessThanOrEqual(60 * 24 * 31);
  });

  it("gives /molt status one line", () => {
    const text = describeMonth(estimateMonth({ ...idle, awakeSeconds: 10 * HOUR }, NOV_16));
    expect(text).toMatch(/^~\$\d+\.\d\d this month \(10\.0 h awake so far\); awake all month it would be ~\$\d+$/);
  });
});
