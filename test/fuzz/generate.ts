/**
 * Seeded payloads for every inbound route: well-formed bases mutated at random (wrong JSON types,
 * missing and extra fields, huge and deeply nested values, odd Unicode), random JSON, garbage
 * bytes, random slash-command forms; and a share of mis-signed requests. The same seed gives the
 * same cases, so a failure replays with `FUZZ_SEED=<seed> npm run fuzz -- --n <n>`.
 *
 * Bases that are valid are chosen so that a valid case is ignored (a channel message without a
 * mention, a bot's post, an edit, a Telegram group message without a mention): the fuzz tests
 * the edge, not the agent, and leaves no pairing requests or turns behind. Mis-signed cases are valid messages that would be answered if
 * they got through, under ids marked MISSIGNED (Slack) or in MISSIGNED_CHAT_BASE.. (Telegram).
 */

export type Route = "slack-events" | "slack-commands" | "telegram";

export interface FuzzCase {
  index: number;
  route: Route;
  /** Signed correctly (Slack: HMAC; Telegram: the secret header). */
  signed: boolean;
  /** How a mis-signed case is wrong. */
  forgery?: "wrong-secret" | "no-signature" | "stale" | "tampered";
  body: string;
  /** What the generator did, for the failure message. */
  recipe: string;
  /** The ids a mis-signed case would be answered under. */
  marker?: string;
}

export const MISSIGNED_CHAT_BASE = 9_900_000_000;

/** mulberry32: small, fast and good enough to spread cases. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

const ODD = [
  "\u0000", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "😀", "👩‍👩‍👧‍👦", "e\u0301", "\u{10ffff}", "ﷺ", "𝔘𝔫𝔦", "\r\n", "\\", '"', "<@U0MOLTBOT>", "&lt;", "%00", "/molt", "@molt_test_bot",
];

function oddString(r: Rng, max = 40): string {
  let out = "";
  const n = r.int(max);
  for (let i = 0; i < n; i++) out += r.chance(0.4) ? r.pick(ODD) : String.fromCharCode(32 + r.int(95));
  return out;
}

function hugeString(r: Rng): string {
  return r.pick(["x", "é", "😀", "<@U0MOLTBOT> ", "\u0000"]).repeat(r.pick([5_000, 50_000, 300_000]));
}

function deepValue(r: Rng): unknown {
  const depth = r.pick([50, 500, 3_000]);
  let value: unknown = r.chance(0.5) ? "bottom" : 1;
  for (let i = 0; i < depth; i++) value = r.chance(0.5) ? [value] : { a: value };
  return value;
}

function randomJson(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, 1760000400.0003]);
    case 3: return oddString(r);
    case 4: return String(r.int(1e9));
    case 5: return "1760000400.000100";
    case 6: return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [oddString(r, 8), randomJson(r, depth + 1)]));
    default: return r.chance(0.3) ? deepValue(r) : r.chance(0.3) ? hugeString(r) : [];
  }
}

/** A value of a different kind than `value`, or a hard one. */
function wrongValue(r: Rng, value: unknown): unknown {
  const options: (() => unknown)[] = [
    () => (typeof value === "string" ? Number(value) || 42 : String(value)),
    () => [value],
    () => ({ value }),
    () => null,
    () => r.chance(0.5),
    () => hugeString(r),
    () => deepValue(r),
    () => oddString(r),
    () => randomJson(r),
    () => (typeof value === "number" ? r.pick([-1, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 2]) : 7),
  ];
  return r.pick(options)();
}

/** Paths to the values in the top levels of a JSON tree. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length) out.push(prefix);
  if (prefix.length >= 6) return out;
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...prefix, i], out));
  else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) paths(item, [...prefix, key], out);
  return out;
}

function mutate(r: Rng, base: unknown): { value: unknown; recipe: string } {
  const value = structuredClone(base) as Record<string, unknown>;
  const steps: string[] = [];
  for (let n = 1 + r.int(3); n > 0; n--) {
    const all = paths(value);
    const path = r.pick(all);
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], value);
    const key = path.at(-1)!;
    const action = r.int(5);
    if (action === 0 && !Array.isArray(parent)) {
      delete parent[key];
      steps.push(`delete ${path.join(".")}`);
    } else if (action === 1 && parent[key] && typeof parent[key] === "object") {
      parent[key][oddString(r, 6) || "extra"] = randomJson(r);
      steps.push(`add field under ${path.join(".")}`);
    } else {
      parent[key] = wrongValue(r, parent[key]);
      steps.push(`set ${path.join(".")} to ${describeValue(parent[key])}`);
    }
  }
  return { value, recipe: steps.join("; ") };
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `string(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return value === null ? "null" : typeof value;
}

// ---- bases ---------------------------------------------------------------------------------------

const now = () => Math.floor(Date.now() / 1000);

function slackEnvelope(event: Record<string, unknown>, eventId: string) {
  return {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: "T0FUZZTEAM",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: eventId,
    event_time: now(),
    authorizations: [{ enterprise_id: null, team_id: "T0FUZZTEAM", user_id: "U0MOLTBOT", is_bot: true, is_enterprise_install: false }],
    event,
  };
}

function slackBases(index: number) {
  const ts = `${now()}.${String(index).padStart(6, "0")}`;
  return [
    // A channel message that doesn't mention the bot: valid, ignored.
    slackEnvelope({ type: "message", user: `U0FZ${index}`, text: "hello", ts, team: "T0FUZZTEAM", channel: `C0FZ${index}`, event_ts: ts, channel_type: "channel" }, `Ev0FZ${index}a`),
    // A bot's mention: valid, ignored.
    slackEnvelope({ type: "app_mention", user: "U0OTHERBOT", bot_id: "B0OTHER", text: "<@U0MOLTBOT> hi", ts, team: "T0FUZZTEAM", channel: `C0FZ${index}`, event_ts: ts }, `Ev0FZ${index}b`),
    // An edit: ignored.
    slackEnvelope({ type: "message", subtype: "message_changed", channel: `D0FZ${index}`, ts, message: { user: "U0ALICE", text: "x", ts } }, `Ev0FZ${index}c`),
    { token: "x", challenge: `challenge-${index}`, type: "url_verification" },
    { type: "app_rate_limited", team_id: "T0FUZZTEAM", minute_rate_limited: now() },
  ];
}

function slackCommandForm(r: Rng, index: number): { body: string; recipe: string } {
  const fields: [string, string][] = [
    ["token", "x"],
    ["team_id", "T0FUZZTEAM"],
    ["channel_id", `C0FZ${index}`],
    ["user_id", `U0FZ${index}`],
    ["channel_name", "general"],
    ["user_name", "fuzz"],
    ["command", "/molt"],
    ["text", "help"],
    ["trigger_id", `${index}.1.abc`],
  ];
  const steps: string[] = [];
  // A valid command runs (and waits up to 2.5 s for) a command runner of its own, which the
  // command tests cover: here every case breaks a required field, so the edge is what is tested.
  {
    const i = r.pick([1, 2, 3, 6]);
    fields[i] = [fields[i]![0], r.pick(["", "A:B", "x".repeat(100), oddString(r, 12) || "?"])];
    steps.push(`break ${fields[i]![0]}`);
  }
  for (let n = r.int(3); n > 0; n--) {
    const i = r.int(fields.length);
    const action = r.int(4);
    if (action === 0) {
      steps.push(`drop ${fields[i]![0]}`);
      fields.splice(i, 1);
    } else if (action === 1) {
      fields.push([fields[i]![0], oddString(r)]);
      steps.push(`repeat ${fields[i]![0]}`);
    } else {
      fields[i] = [fields[i]![0], r.chance(0.2) ? hugeString(r) : oddString(r)];
      steps.push(`set ${fields[i]![0]}`);
    }
  }
  const raw = r.chance(0.1) ? `${new URLSearchParams(fields)}&%E0%A4%A=bad&&=` : String(new URLSearchParams(fields));
  return { body: raw, recipe: `form: ${steps.join("; ")}` };
}

function telegramBases(index: number) {
  const from = { id: 5_550_000 + index, is_bot: false, first_name: "Fuzz", username: "fuzz" };
  const group = { id: -1_009_000_000_000 - index, title: "Fuzz", type: "supergroup" };
  return [
    // A group message without a mention: valid, ignored.
    { update_id: 900_000_000 + index, message: { message_id: index + 1, from, chat: group, date: now(), text: "just chatting", entities: [{ offset: 0, length: 4, type: "bold" }] } },
    // A bot's DM: valid, ignored.
    { update_id: 900_000_000 + index, message: { message_id: index + 1, from: { ...from, is_bot: true }, chat: { id: from.id, type: "private" }, date: now(), text: "hi" } },
    // A channel post and an edit: ignored.
    { update_id: 900_000_000 + index, channel_post: { message_id: 1, chat: { id: -100123, type: "channel" }, date: now(), text: "post" } },
    { update_id: 900_000_000 + index, edited_message: { message_id: 1, from, chat: { id: from.id, type: "private" }, date: now(), edit_date: now(), text: "edit" } },
  ];
}

// ---- cases ---------------------------------------------------------------------------------------

function validMissigned(r: Rng, route: Route, index: number): { body: string; marker: string } {
  if (route === "telegram") {
    const chat = MISSIGNED_CHAT_BASE + index;
    const update = { update_id: 800_000_000 + index, message: { message_id: 1, from: { id: chat, is_bot: false, first_name: "Mallory" }, chat: { id: chat, type: "private" }, date: now(), text: "let me in" } };
    return { body: JSON.stringify(update), marker: String(chat) };
  }
  const channel = `CMISSIGNED${index}`;
  if (route === "slack-commands") {
    return { body: String(new URLSearchParams({ team_id: "T0FUZZTEAM", channel_id: channel, user_id: "U0ADMIN", command: "/molt", text: "status" })), marker: channel };
  }
  const ts = `${now()}.${String(index).padStart(6, "0")}`;
  const event = { type: "app_mention", user: "U0ADMIN", text: "<@U0MOLTBOT> let me in", ts, channel, event_ts: ts };
  return { body: JSON.stringify(slackEnvelope(event, `EvMISSIGNED${index}`)), marker: channel };
}

export function fuzzCase(seed: number, index: number): FuzzCase {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const route = r.pick<Route>(["slack-events", "slack-events", "slack-events", "slack-events", "slack-commands", "telegram", "telegram", "telegram", "telegram"]);
  if (r.chance(0.1)) {
    const forgery = r.pick(["wrong-secret", "no-signature", "stale", "tampered"] as const);
    const { body, marker } = validMissigned(r, route, index);
    return { index, route, signed: false, forgery, body, marker, recipe: `mis-signed (${forgery})` };
  }
  if (route === "slack-commands") return { index, route, signed: true, ...slackCommandForm(r, index) };
  const strategy = r.int(10);
  if (strategy === 0) {
    const body = r.pick(["", "{", "[]", "null", "0", '"text"', "{not json", "\ufeff{}", oddString(r, 200), "[".repeat(100_000)]);
    return { index, route, signed: true, body, recipe: `raw body of ${body.length} chars` };
  }
  if (strategy === 1) return { index, route, signed: true, body: JSON.stringify(randomJson(r)), recipe: "random JSON" };
  const base = r.pick<unknown>(route === "telegram" ? telegramBases(index) : slackBases(index));
  const { value, recipe } = mutate(r, base);
  return { index, route, signed: true, body: JSON.stringify(value), recipe };
}
