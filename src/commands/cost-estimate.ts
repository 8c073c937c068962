/**
 * What the agent costs on Cloudflare: Cloudflare's published prices in one table (with the date
 * they were read, their source, and whether the figure was read on Cloudflare's own page), and
 * the arithmetic that turns measured usage into a month's estimate. Pure: no I/O, so every
 * number the console and `/molt status` show can be checked by a unit test.
 */

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  /** Included each month with Workers Paid, in `unit`s (shared by the whole account). */
  included: number;
  source: string;
  /** Read on Cloudflare's own page (true), or only as quoted elsewhere (false). */
  verified: boolean;
}

/** When the prices below were read. */
export const PRICES_CHECKED = "2026-11-29";

export const PRICES = {
  workersPaid: { usd: 5, unit: "month", included: 0, source: "https://developers.cloudflare.com/workers/platform/pricing/", verified: false },
  containerMemory: { usd: 0.0000025, unit: "GiB-s", included: 25 * 3600, source: "https://developers.cloudflare.com/containers/pricing/", verified: false },
  containerCpu: { usd: 0.00002, unit: "vCPU-s", included: 375 * 60, source: "https://developers.cloudflare.com/containers/pricing/", verified: false },
  containerDisk: { usd: 0.00000007, unit: "GB-s", included: 200 * 3600, source: "https://developers.cloudflare.com/containers/pricing/", verified: false },
  durableObjectRequests: { usd: 0.15 / 1e6, unit: "request", included: 1e6, source: "https://developers.cloudflare.com/durable-objects/platform/pricing/", verified: true },
  durableObjectDuration: { usd: 12.5 / 1e6, unit: "GB-s", included: 400_000, source: "https://developers.cloudflare.com/durable-objects/platform/pricing/", verified: true },
  r2Storage: { usd: 0.015, unit: "GB-month", included: 10, source: "https://developers.cloudflare.com/r2/pricing/", verified: true },
  browserHours: { usd: 0.09, unit: "browser-hour", included: 10, source: "https://developers.cloudflare.com/browser-rendering/pricing/", verified: false },
} satisfies Record<string, Price>;

/** Predefined container instance types (https://developers.cloudflare.com/containers/platform/limits/, read on that page). */
export const INSTANCE_TYPES: Record<string, { vcpu: number; memoryGib: number; diskGb: number }> = {
  lite: { vcpu: 1 / 16, memoryGib: 0.25, diskGb: 2 },
  basic: { vcpu: 1 / 4, memoryGib: 1, diskGb: 4 },
  "standard-1": { vcpu: 1 / 2, memoryGib: 4, diskGb: 8 },
  "standard-2": { vcpu: 1, memoryGib: 6, diskGb: 12 },
  "standard-3": { vcpu: 2, memoryGib: 8, diskGb: 16 },
  "standard-4": { vcpu: 4, memoryGib: 12, diskGb: 20 },
};

/** The instance type wrangler.toml gives the container. */
export const INSTANCE_TYPE = "standard-1";

/**
 * Durable Object requests per turn: intake, admission, the bridge's receive and alarm, the
 * supervisor's checks, the usage record. An estimate from reading the turn path, not a count.
 */
export const DO_REQUESTS_PER_TURN = 8;
/** A Durable Object is billed at 128 MB of memory while it runs. */
const DO_MEMORY_GB = 0.128;

/** What the relay measured over some period. */
export interface Usage {
  /** Time the container was awake. */
  awakeSeconds: number;
  turns: number;
  /** Time bridges spent running turns (they stay in memory meanwhile). */
  turnSeconds: number;
  /** Browser Rendering session time (0 where there is no browser). */
  browserSeconds: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  /** Dollars after the monthly allowance. */
  usd: number;
  price: Price;
  /** What the figure rests on, when it is not a measurement. */
  note?: string;
}

export interface CostEstimate {
  lines: CostLine[];
  usd: number;
}

/** The cost of `usage` over one month, after Workers Paid's monthly allowances. */
export function estimateCost(usage: Usage, instanceType = INSTANCE_TYPE): CostEstimate {
  const instance = INSTANCE_TYPES[instanceType] ?? INSTANCE_TYPES[INSTANCE_TYPE]!;
  const line = (item: string, price: Price, quantity: number, note?: string): CostLine => ({
    item,
    quantity,
    unit: price.unit,
    usd: Math.max(0, quantity - price.included) * price.usd,
    price,
    ...(note ? { note } : {}),
  });
  const lines = [
    line("Workers Paid plan", PRICES.workersPaid, 1),
    line(`Container memory (${instanceType}: ${instance.memoryGib} GiB)`, PRICES.containerMemory, usage.awakeSeconds * instance.memoryGib),
    line(`Container CPU (${instanceType}: ${instance.vcpu} vCPU)`, PRICES.containerCpu, usage.awakeSeconds * instance.vcpu, "at most: billed on active CPU only, counted here as if fully used"),
    line(`Container disk (${instanceType}: ${instance.diskGb} GB)`, PRICES.containerDisk, usage.awakeSeconds * instance.diskGb),
    line("Durable Object requests", PRICES.durableObjectRequests, usage.turns * DO_REQUESTS_PER_TURN, `about ${DO_REQUESTS_PER_TURN} per turn`),
    line("Durable Object duration", PRICES.durableObjectDuration, usage.turnSeconds * DO_MEMORY_GB),
    line("Browser Rendering", PRICES.browserHours, usage.browserSeconds / 3600),
    line("R2 storage (media)", PRICES.r2Storage, 0, "not measured"),
  ];
  return { lines, usd: sum(lines.map((entry) => entry.usd)) };
}

export interface MonthEstimate {
  /** `2026-11` */
  month: string;
  /** Share of the month gone, 0..1. */
  elapsed: number;
  soFar: Usage;
  /** Usage so far, carried on at the same rate to the end of the month. */
  projected: Usage;
  estimate: CostEstimate;
  /** The same agent with its container awake all month (same turns). */
  alwaysOn: CostEstimate;
}

/** This month's estimate from the usage measured since the month began. */
export function estimateMonth(soFar: Usage, now: number, instanceType = INSTANCE_TYPE): MonthEstimate {
  const date = new Date(now);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  // At least an hour in, so that the first minutes of a month don't multiply a start by hundreds.
  const elapsed = Math.min(1, Math.max(now - start, 3_600_000) / (end - start));
  const scale = (value: number) => value / elapsed;
  const projected: Usage = {
    awakeSeconds: Math.min(scale(soFar.awakeSeconds), (end - start) / 1000),
    turns: scale(soFar.turns),
    turnSeconds: scale(soFar.turnSeconds),
    browserSeconds: scale(soFar.browserSeconds),
  };
  return {
    month: date.toISOString().slice(0, 7),
    elapsed,
    soFar,
    projected,
    estimate: estimateCost(projected, instanceType),
    alwaysOn: estimateCost({ ...projected, awakeSeconds: (end - start) / 1000 }, instanceType),
  };
}

/** One line for `/molt status`. */
export function describeMonth(month: MonthEstimate): string {
  const hours = month.soFar.awakeSeconds / 3600;
  return `~${usd(month.estimate.usd)} this month (${hours.toFixed(1)} h awake so far); awake all month it would be ~${usd(month.alwaysOn.usd)}`;
}

export function usd(value: number): string {
  return value < 10 ? `$${value.toFixed(2)}` : `$${value.toFixed(0)}`;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
