/**
 * Running a chaos plan against the Worker and reading the outcome from the emulators' records.
 * The Worker is driven as the platforms drive it (signed Slack events, Telegram updates with the
 * secret header); faults go to the emulators' control endpoints and the chaos gateway's.
 */
import { env, SELF } from "cloudflare:test";
import { signedSlackRequest } from "../support/slack-sign";
import { TELEGRAM_SECRET_HEADER } from "../../src/adapters/telegram/verify";
import type { ChaosPlan, PlannedMessage } from "./plan";

const slackControl = () => `${new URL(env.SLACK_API_URL!).origin}/_emulator`;
const telegramControl = () => `${env.TELEGRAM_API_URL}/_emulator`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Delivery {
  message: PlannedMessage;
  sentAt: number;
  status: number;
  duplicateStatus?: number;
}

/** Send every message on its schedule, with its duplicate, fault, orphaned input and the gateway kills. */
export async function execute(plan: ChaosPlan): Promise<Delivery[]> {
  const start = Date.now();
  const deliveries: Delivery[] = [];
  const pending: Promise<unknown>[] = [];
  const kills = [...plan.kills];
  for (const message of plan.messages) {
    const wait = start + message.sendAt - Date.now();
    if (wait > 0) await sleep(wait);
    while (kills.length && Date.now() - start >= kills[0]!) {
      kills.shift();
      pending.push(fetch(`${env.TEST_CHAOS_CONTROL_URL}/kill`, { method: "POST" }));
    }
    if (message.fault) await fault(message);
    if (message.orphaned) await fetch(`${env.TEST_CHAOS_CONTROL_URL}/orphan`, { method: "POST", body: JSON.stringify({ match: message.marker }) });
    const delivery: Delivery = { message, sentAt: Date.now(), status: 0 };
    deliveries.push(delivery);
    pending.push(
      deliver(message, false).then(async (status) => {
        delivery.status = status;
        if (message.duplicateAfter === undefined) return;
        await sleep(message.duplicateAfter);
        delivery.duplicateStatus = await deliver(message, true);
      }),
    );
  }
  await Promise.all(pending);
  return deliveries;
}

async function fault(message: PlannedMessage): Promise<void> {
  const { conversation } = message;
  const scope = conversation.platform === "slack" ? { channel: conversation.id } : { chat_id: conversation.id };
  const url = `${conversation.platform === "slack" ? slackControl() : telegramControl()}/faults`;
  await fetch(url, { method: "POST", body: JSON.stringify({ ...message.fault, ...scope, times: 1 }) });
}

function deliver(message: PlannedMessage, retry: boolean): Promise<number> {
  return message.conversation.platform === "slack" ? deliverSlack(message, retry) : deliverTelegram(message);
}

async function deliverSlack(message: PlannedMessage, retry: boolean): Promise<number> {
  const { conversation } = message;
  const ts = `${1_760_000_100 + message.index}.${String(message.index).padStart(6, "0")}`;
  const payload = {
    token: "x",
    team_id: "T0CHAOS",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: `EvCHAOS${message.marker}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0CHAOS", user_id: "U0MOLTBOT", is_bot: true }],
    event: { type: "app_mention", user: "U0CHAOS", text: `<@U0MOLTBOT> ${message.words}`, ts, event_ts: ts, channel: conversation.id, thread_ts: conversation.threadTs },
  };
  const headers = retry ? { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } : undefined;
  const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", payload, { headers }));
  await response.body?.cancel();
  return response.status;
}

async function deliverTelegram(message: PlannedMessage): Promise<number> {
  const { conversation } = message;
  const chat = Number(conversation.id);
  const from = { id: conversation.group ? 5_000_000 + message.index : chat, is_bot: false, first_name: "Chaos" };
  const text = conversation.group ? `@molt_test_bot ${message.words}` : message.words;
  const update = {
    update_id: 500_000_000 + (plan_seed_offset(message) % 100_000_000),
    message: {
      message_id: 10_000 + message.index,
      from,
      chat: conversation.group ? { id: chat, title: "Chaos", type: "supergroup" } : { id: chat, type: "private", first_name: "Chaos" },
      date: Math.floor(Date.now() / 1000),
      text,
      ...(conversation.group ? { entities: [{ offset: 0, length: 14, type: "mention" }] } : {}),
    },
  };
  const response = await SELF.fetch("https://relay.test/telegram/webhook", {
    method: "POST",
    headers: { "content-type": "application/json", [TELEGRAM_SECRET_HEADER]: env.TELEGRAM_WEBHOOK_SECRET! },
    body: JSON.stringify(update),
  });
  await response.body?.cancel();
  return response.status;
}

/** Update ids unique per run: the marker's run part and the message's index. */
function plan_seed_offset(message: PlannedMessage): number {
  let hash = 0;
  for (const ch of message.marker) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  return hash;
}

// ---- reading the outcome ------------------------------------------------------------------------

interface SeenMessage {
  text: string;
  /** When the call that last changed it was answered (the emulator's clock). */
  time: number;
  final: boolean;
}

/** Every bot message per conversation, with when it last changed. */
export async function visibleMessages(plan: ChaosPlan): Promise<Map<string, SeenMessage[]>> {
  const out = new Map<string, SeenMessage[]>();
  const slack = (await (await fetch(`${slackControl()}/messages`)).json()) as { channels: Record<string, { messages: { ts: string; text: string; streaming: boolean }[] }> };
  const slackCalls = (await (await fetch(`${slackControl()}/calls`)).json()) as { calls: { channel?: string; time: number; status: number; body: { ts?: string }; response?: { ok?: boolean; ts?: string } }[] };
  const telegram = (await (await fetch(`${telegramControl()}/messages`)).json()) as { chats: Record<string, { messages: { message_id: number; kind: string; text: string }[] }> };
  const telegramCalls = (await (await fetch(`${telegramControl()}/calls`)).json()) as { calls: { chat_id?: string; method: string; time: number; status: number; body: { message_id?: unknown }; response?: { ok?: boolean; result?: { message_id?: number } } }[] };
  for (const conversation of plan.conversations) {
    const seen: SeenMessage[] = [];
    if (conversation.platform === "slack") {
      const calls = slackCalls.calls.filter((call) => call.channel === conversation.id && call.response?.ok);
      for (const m of slack.channels[conversation.id]?.messages ?? []) {
        const touching = calls.filter((call) => call.response?.ts === m.ts || call.body.ts === m.ts);
        seen.push({ text: m.text, time: touching.at(-1)?.time ?? 0, final: !m.streaming });
      }
    } else {
      const calls = telegramCalls.calls.filter((call) => call.chat_id === conversation.id && call.response?.ok);
      for (const m of telegram.chats[conversation.id]?.messages ?? []) {
        if (m.kind !== "text") continue;
        const touching = calls.filter((call) => call.response?.result?.message_id === m.message_id || Number(call.body.message_id) === m.message_id);
        seen.push({ text: m.text, time: touching.at(-1)?.time ?? 0, final: true });
      }
    }
    out.set(conversation.id, seen);
  }
  return out;
}

export interface Verdict {
  message: PlannedMessage;
  answers: number;
  /** Messages with the marker that are not the whole answer, marked as interrupted by the relay. */
  interrupted: number;
  /** Messages with the marker that are not the whole answer and not marked: text cut short. */
  cutShort: number;
  latencyMs?: number;
  /** The cut-short messages as shown, for the failure report. */
  partials: string[];
}

export function judge(deliveries: Delivery[], seen: Map<string, SeenMessage[]>): Verdict[] {
  return deliveries.map(({ message, sentAt }) => {
    const messages = (seen.get(message.conversation.id) ?? []).filter((m) => m.text.includes(message.marker));
    const whole = messages.filter((m) => m.final && message.expected.every((part) => m.text.includes(part)));
    const rest = messages.filter((m) => !whole.includes(m));
    const interrupted = rest.filter((m) => /interrupted|connection to the agent was lost|retrying/i.test(m.text)).length;
    return {
      message,
      answers: whole.length,
      interrupted,
      cutShort: rest.length - interrupted,
      latencyMs: whole[0] ? Math.max(0, whole[0].time - sentAt) : undefined,
      partials: rest.map((m) => `${m.final ? "" : "(still streaming) "}${m.text.slice(0, 160)}`),
    };
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function count429s(): Promise<{ slack: number; telegram: number }> {
  const slack = (await (await fetch(`${slackControl()}/calls`)).json()) as { calls: { status: number }[] };
  const telegram = (await (await fetch(`${telegramControl()}/calls`)).json()) as { calls: { status: number }[] };
  return { slack: slack.calls.filter((c) => c.status === 429).length, telegram: telegram.calls.filter((c) => c.status === 429).length };
}

/** What the chaos gateway's proxy did to the orphaned messages (orphan-proxy.mjs). */
export interface OrphanStats {
  swallowed: number;
  refused: number;
  sentUnderNewKey: number;
  /** The gateway's own refusals of a key after a kill, by message (the proxy only passed them on). */
  gatewayRefusals: string[];
}

export async function orphanStats(): Promise<OrphanStats> {
  return ((await (await fetch(`${env.TEST_CHAOS_CONTROL_URL}/status`)).json()) as { orphans: OrphanStats }).orphans;
}
