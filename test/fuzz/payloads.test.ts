/**
 * Fuzzing every inbound route through the whole Worker (its exported fetch handler, with an
 * execution context of its own per request): seeded cases from generate.ts, checked against the
 * edge's invariants:
 * - no case gets a 5xx; a correctly signed one gets 200 or a 400 with a short reason;
 * - a mis-signed one gets 401, is not stored, and nothing reaches a platform API for it;
 * - afterwards the Worker is healthy and still answers a real message end to end.
 *
 * `npm test` runs FUZZ_CASES cases with a fixed seed; `npm run fuzz -- --n 100000 [--seed S]`
 * runs more, and a failure names the seed and case index to replay.
 *
 * Why not SELF.fetch: under @cloudflare/vitest-pool-workers each SELF.fetch costs more the more
 * have been made in the same workerd instance (cloudflare/workers-sdk#15446; here 500 trivial
 * mis-signed requests took 19 s, the next 500 took 140 s). The Worker is not what slows down: the
 * same requests through its fetch handler take a flat 0.3-0.8 ms each over 4,000 of them.
 */
import { createExecutionContext, env, runInDurableObject, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { INTAKE_SHARDS } from "../../src/bridge/intake-object";
import worker from "../../src/index";
import { testSecrets } from "../secrets";
import { eventually } from "../support/slack-relay";
import { slackSignature } from "../support/slack-sign";
import { allowedChatId, postUpdate, privateText, telegramChat } from "../support/telegram-relay";
import { TELEGRAM_SECRET_HEADER } from "../../src/adapters/telegram/verify";
import { type FuzzCase, fuzzCase, MISSIGNED_CHAT_BASE } from "./generate";

/** Cases in `npm test`. */
const FUZZ_CASES = 3_000;
const DEFAULT_SEED = 20_261_129;
/** Requests in flight at once. */
const PARALLEL = 24;

const settings = inject("fuzz") ?? { seed: 0, cases: 0 };
const seed = settings.seed || DEFAULT_SEED;
const cases = settings.cases || FUZZ_CASES;

const PATHS = { "slack-events": "/slack/events", "slack-commands": "/slack/commands", telegram: "/telegram/webhook" } as const;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

async function request(fuzzed: FuzzCase): Promise<Request> {
  // The body as the bytes a platform would send: a lone surrogate in a generated string becomes
  // U+FFFD, so what is signed is exactly what is sent.
  const c = { ...fuzzed, body: fromUtf8.decode(utf8.encode(fuzzed.body)) };
  const url = `https://relay.test${PATHS[c.route]}`;
  if (c.route === "telegram") {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const secret = testSecrets.TELEGRAM_WEBHOOK_SECRET;
    if (c.signed) headers[TELEGRAM_SECRET_HEADER] = secret;
    else if (c.forgery === "wrong-secret") headers[TELEGRAM_SECRET_HEADER] = "guess";
    else if (c.forgery === "stale") headers[TELEGRAM_SECRET_HEADER] = `${secret}x`;
    else if (c.forgery === "tampered") headers[TELEGRAM_SECRET_HEADER] = `X${secret.slice(1)}`;
    return new Request(url, { method: "POST", headers, body: c.body });
  }
  const form = c.route === "slack-commands";
  let timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" };
  if (c.forgery === "stale") timestamp -= 600;
  const secret = c.forgery === "wrong-secret" ? "not-the-signing-secret" : testSecrets.SLACK_SIGNING_SECRET;
  if (c.forgery !== "no-signature") {
    headers["x-slack-request-timestamp"] = String(timestamp);
    headers["x-slack-signature"] = await slackSignature(c.body, timestamp, secret);
  }
  // Tampered: signed, then changed by one byte on the way.
  const body = c.forgery === "tampered" ? `${c.body} ` : c.body;
  return new Request(url, { method: "POST", headers, body });
}

interface Outcome {
  /** The case without its body: bodies run to megabytes, and thousands of them would fill the isolate. */
  c: Omit<FuzzCase, "body">;
  status: number;
  error?: string;
}

async function run(c: FuzzCase): Promise<Outcome> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(await request(c), env, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  let error: string | undefined;
  if (response.status >= 400) {
    try {
      error = (JSON.parse(text) as { error?: string }).error;
    } catch {
      error = `(not JSON: ${text.slice(0, 40)})`;
    }
  }
  const { body: _body, ...rest } = c;
  return { c: rest, status: response.status, error };
}

function violation({ c, status, error }: Outcome): string | undefined {
  const where = `seed ${seed} case ${c.index} (${c.route}, ${c.recipe})`;
  if (status >= 500) return `${where}: ${status} ${error ?? ""}`;
  if (!c.signed) return status === 401 ? undefined : `${where}: mis-signed but answered ${status}`;
  if (status !== 200 && status !== 400) return `${where}: answered ${status} ${error ?? ""}`;
  if (status === 400 && (!error || error.length > 200)) return `${where}: a 400 without a short reason`;
  for (const secret of Object.values(testSecrets)) if (error?.includes(secret)) return `${where}: a secret in the answer`;
  return undefined;
}

describe(`fuzzing the inbound routes (seed ${seed}, ${cases} cases)`, () => {
  it("never answers 5xx, stores nothing mis-signed, and stays healthy", async () => {
    // A pool of lanes, so that a slow case (a slash command waits for its runner) holds up only its own.
    const outcomes: Outcome[] = [];
    let next = 0;
    const began = Date.now();
    const lane = async () => {
      while (next < cases) {
        const c = fuzzCase(seed, next++);
        const t = Date.now();
        outcomes.push(await run(c));
        if (Date.now() - t > 5_000) console.log(`fuzz: case ${c.index} took ${Date.now() - t} ms (${c.route}, ${c.recipe.slice(0, 100)})`);
        if (outcomes.length % 250 === 0) console.log(`fuzz: ${outcomes.length}/${cases} after ${Date.now() - began} ms`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    console.log(`fuzz: ${cases} cases in ${Date.now() - began} ms (seed ${seed})`);
    const violations = outcomes.map(violation).filter(Boolean);
    expect(violations.slice(0, 20)).toEqual([]);

    // The cases reached every route, both ways, and the edge both took and refused payloads.
    const count = (test: (o: Outcome) => boolean) => outcomes.filter(test).length;
    for (const route of Object.keys(PATHS)) expect(count((o) => o.c.route === route && o.status === 400), route).toBeGreaterThan(0);
    expect(count((o) => o.c.signed && o.status === 200)).toBeGreaterThan(0);
    expect(count((o) => !o.c.signed)).toBeGreaterThan(cases / 20);

    // Nothing mis-signed was stored in any intake shard...
    const markers = outcomes.filter((o) => !o.c.signed).map((o) => o.c.marker!);
    const isMarked = (text: string) => text.includes("MISSIGNED") || markers.some((m) => text.includes(m));
    for (let shard = 0; shard < INTAKE_SHARDS; shard++) {
      const stub = env.INTAKE.get(env.INTAKE.idFromName(`shard-${shard}`));
      const stored = await runInDurableObject(stub, (_, state) => [
        ...state.storage.sql.exec<{ key: string }>("SELECT key FROM seen").toArray().map((row) => row.key),
        ...state.storage.sql.exec<{ message: string }>("SELECT message FROM pending").toArray().map((row) => row.message),
      ]);
      expect(stored.filter(isMarked), `intake shard ${shard}`).toEqual([]);
    }
    // ...and no platform API call was made for one.
    const slackApi = new URL(env.SLACK_API_URL!).origin;
    const slackCalls = JSON.stringify(await (await fetch(`${slackApi}/_emulator/calls`)).json());
    expect(slackCalls.includes("MISSIGNED")).toBe(false);
    const telegramCalls = ((await (await fetch(`${env.TELEGRAM_API_URL}/_emulator/calls`)).json()) as { calls: { chat_id?: string }[] }).calls;
    expect(telegramCalls.filter((call) => Number(call.chat_id) >= MISSIGNED_CHAT_BASE)).toEqual([]);

    // The Worker is healthy, and a real message still goes all the way through.
    expect((await SELF.fetch("https://relay.test/healthz")).status).toBe(200);
    const user = await allowedChatId();
    expect((await postUpdate(privateText(user, "still there after the fuzz?"))).status).toBe(200);
    await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "text" && m.text.includes("still there after the fuzz")),
      90_000,
      "an answer after the fuzz",
    );
  }, 180_000 + cases * 200);
});

declare module "vitest" {
  export interface ProvidedContext {
    /** Set by `npm run fuzz` (FUZZ_SEED, FUZZ_CASES); zeros mean the defaults above. */
    fuzz: { seed: number; cases: number };
  }
}
