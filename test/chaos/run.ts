/**
 * Running a chaos plan against the Worker and reading the outcome from the emulators' records.
 * The Worker is driven as the platforms drive it (signed Slack events, Telegram updates with the
 * secret header, Discord messages dispatched as MESSAGE_CREATE on the emulator's Gateway, which the
 * relay's own Gateway connection receives); faults go to the emulators' control endpoints, the
 * chaos gateway's, and the R2 binding (r2-faults.ts).
 */
import { env, SELF } from "cloudflare:test";
import { signedSlackRequest } from "../support/slack-sign";
import { TELEGRAM_SECRET_HEADER } from "../../src/adapters/telegram/verify";
import { conversation as conversationObject } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { listenerObject } from "../../src/bridge/listener-object";
import type { ChaosPlan, PlannedMessage } from "./plan";
import { registerR2Fault } from "./r2-faults";

const slackControl = () => `${new URL(env.SLACK_API_URL!).origin}/_emulator`;
const telegramControl = () => `${env.TELEGRAM_API_URL}/_emulator`;
const discordControl = () => `${env.DISCORD_API_URL!.replace(/\/api\/v10$/, "")}/_emulator`;
const GUILD = "1000000000000000777";
/** The relay's bot on the Discord emulator (its id, for mentions), once connected. */
let discordBot: string | undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Delivery {
  message: PlannedMessage;
  sentAt: number;
  status: number;
  duplicateStatus?: number;
}

/**
 * The relay's Discord Gateway connection (the listener object connects with the configured bot
 * token), ready before the first Discord message is dispatched; the emulator keeps what is
 * dispatched while it is down for the resume, as Discord does.
 */
export async function connectDiscord(): Promise<void> {
  const token = env.DISCORD_BOT_TOKEN!;
  const configured = (await (await fetch(`${discordControl()}/gateway/config`, { method: "POST", body: JSON.stringify({ token }) })).json()) as { botId: string };
  discordBot = configured.botId;
  const listener = listenerObject(env, "discord");
  await listener.ensure("discord");
  const deadline = Date.now() + 60_000;
  while ((await listener.status("discord")).phase !== "ready") {
    if (Date.now() > deadline) throw new Error(`the relay's Discord Gateway is not ready: ${JSON.stringify(await listener.status("discord"))}`);
    await sleep(250);
  }
}

/** Send every message on its schedule, with its duplicate, faults, orphaned input and the gateway kills. */
export async function execute(plan: ChaosPlan): Promise<Delivery[]> {
  if (plan.conversations.some((c) => c.platform === "discord")) await connectDiscord();
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
    if (message.r2Fault) registerR2Fault(message.conversation, message.r2Fault);
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
  if (conversation.platform === "discord") {
    // Scoped by the path, which names the conversation's channel.
    await fetch(`${discordControl()}/faults`, { method: "POST", body: JSON.stringify({ ...message.fault, times: 1 }) });
    return;
  }
  const scope = conversation.platform === "slack" ? { channel: conversation.id } : { chat_id: conversation.id };
  const url = `${conversation.platform === "slack" ? slackControl() : telegramControl()}/faults`;
  await fetch(url, { method: "POST", body: JSON.stringify({ ...message.fault, ...scope, times: 1 }) });
}

function deliver(message: PlannedMessage, retry: boolean): Promise<number> {
  const { platform } = message.conversation;
  return platform === "slack" ? deliverSlack(message, retry) : platform === "telegram" ? deliverTelegram(message) : deliverDiscord(message, retry);
}

/**
 * A mention in a guild channel, dispatched on the relay's Gateway session; a duplicate is the same
 * MESSAGE_CREATE dispatched again (as a resume replays it). 200 when the emulator took it.
 */
async function deliverDiscord(message: PlannedMessage, retry: boolean): Promise<number> {
  const token = env.DISCORD_BOT_TOKEN!;
  const id = discordMessageId(message);
  const body = retry
    ? { token, id }
    : {
        token,
        id,
        channel_id: message.conversation.id,
        guild_id: GUILD,
        author: { id: String(1_100_000_000_000_000_100n + BigInt(message.conversation.index)), username: "chaos" },
        content: `<@${discordBot}> ${message.words}`,
        mentions: [{ id: discordBot }],
      };
  const response = await fetch(`${discordControl()}/gateway/${retry ? "redispatch" : "message"}`, { method: "POST", body: JSON.stringify(body) });
  await response.body?.cancel();
  return response.status;
}

function discordMessageId(message: PlannedMessage): string {
  return String(1_500_000_000_000_000_000n + BigInt(plan_seed_offset(message)) * 100_000n + BigInt(message.index));
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
  /** The names of the files it carries (the stand-in model names a picture after the words). */
  files: string[];
}

type SlackMessages = { channels: Record<string, { messages: { ts: string; text: string; streaming: boolean; files?: { name: string }[] }[] }> };
type SlackCalls = { calls: { channel?: string; time: number; status: number; body: { ts?: string }; response?: { ok?: boolean; ts?: string } }[] };
type TelegramMessages = { chats: Record<string, { messages: { message_id: number; kind: string; text: string; file?: { filename: string } }[] }> };
type TelegramCalls = { calls: { chat_id?: string; method: string; time: number; status: number; body: { message_id?: unknown }; response?: { ok?: boolean; result?: { message_id?: number } } }[] };
type DiscordMessages = { messages: { id: string; content: string; attachments: { filename: string }[] }[] };
type DiscordCalls = { calls: { path: string; time: number; status: number; response?: { id?: string } | null }[] };

const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

/** Every bot message per conversation, with when it last changed and its files. */
export async function visibleMessages(plan: ChaosPlan): Promise<Map<string, SeenMessage[]>> {
  const out = new Map<string, SeenMessage[]>();
  const slack = await json<SlackMessages>(`${slackControl()}/messages`);
  const slackCalls = await json<SlackCalls>(`${slackControl()}/calls`);
  const telegram = await json<TelegramMessages>(`${telegramControl()}/messages`);
  const telegramCalls = await json<TelegramCalls>(`${telegramControl()}/calls`);
  for (const conversation of plan.conversations) {
    const seen: SeenMessage[] = [];
    if (conversation.platform === "slack") {
      const calls = slackCalls.calls.filter((call) => call.channel === conversation.id && call.response?.ok);
      for (const m of slack.channels[conversation.id]?.messages ?? []) {
        const touching = calls.filter((call) => call.response?.ts === m.ts || call.body.ts === m.ts);
        seen.push({ text: m.text, time: touching.at(-1)?.time ?? 0, final: !m.streaming, files: (m.files ?? []).map((f) => f.name) });
      }
    } else if (conversation.platform === "telegram") {
      const calls = telegramCalls.calls.filter((call) => call.chat_id === conversation.id && call.response?.ok);
      for (const m of telegram.chats[conversation.id]?.messages ?? []) {
        if (m.kind !== "text") {
          // A photo or document: its caption is not an answer, its file is counted.
          if (m.file) seen.push({ text: "", time: 0, final: true, files: [m.file.filename] });
          continue;
        }
        const touching = calls.filter((call) => call.response?.result?.message_id === m.message_id || Number(call.body.message_id) === m.message_id);
        seen.push({ text: m.text, time: touching.at(-1)?.time ?? 0, final: true, files: [] });
      }
    } else {
      const messages = await json<DiscordMessages>(`${discordControl()}/messages?channel_id=${conversation.id}`);
      const calls = (await json<DiscordCalls>(`${discordControl()}/calls?channel_id=${conversation.id}`)).calls.filter((call) => call.status >= 200 && call.status < 300);
      for (const m of messages.messages) {
        const touching = calls.filter((call) => call.response?.id === m.id || call.path.includes(`/messages/${m.id}`));
        seen.push({ text: m.content, time: touching.at(-1)?.time ?? 0, final: true, files: m.attachments.map((a) => a.filename) });
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
  /** Files delivered for the message (named after its words, so after its marker). */
  files: number;
  latencyMs?: number;
  /** When each whole answer last changed (the emulator's clock). */
  answeredAt: number[];
  /** The cut-short messages as shown, for the failure report. */
  partials: string[];
}

const INTERRUPTION_MARK = /the connection to the agent was lost, retrying/;

export function judge(deliveries: Delivery[], seen: Map<string, SeenMessage[]>): Verdict[] {
  return deliveries.map(({ message, sentAt }) => {
    const all = seen.get(message.conversation.id) ?? [];
    const messages = all.filter((m) => m.text.includes(message.marker));
    // A message the relay marked as interrupted is a partial, even when the whole text had streamed
    // before the gateway died (the run's final never came, so the turn is answered again).
    const whole = messages.filter((m) => m.final && !INTERRUPTION_MARK.test(m.text) && message.expected.every((part) => m.text.includes(part)));
    const rest = messages.filter((m) => !whole.includes(m));
    const interrupted = rest.filter((m) => /interrupted|connection to the agent was lost|retrying/i.test(m.text)).length;
    return {
      message,
      answers: whole.length,
      interrupted,
      cutShort: rest.length - interrupted,
      files: all.reduce((sum, m) => sum + m.files.filter((name) => name.includes(message.marker)).length, 0),
      latencyMs: whole[0] ? Math.max(0, whole[0].time - sentAt) : undefined,
      answeredAt: whole.map((m) => m.time),
      partials: rest.map((m) => `${m.final ? "" : "(still streaming) "}${m.text.slice(0, 160)}`),
    };
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function count429s(): Promise<{ slack: number; telegram: number; discord: number }> {
  const count = async (url: string) => (await json<{ calls: { status: number }[] }>(url)).calls.filter((c) => c.status === 429).length;
  return { slack: await count(`${slackControl()}/calls`), telegram: await count(`${telegramControl()}/calls`), discord: await count(`${discordControl()}/calls`) };
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

/** The bridge's key of a planned conversation (as the adapters name it). */
export function conversationKey(c: PlannedMessage["conversation"]): string {
  return c.platform === "slack" ? `slack:T0CHAOS:${c.id}:${c.threadTs}` : `${c.platform}:${c.id}`;
}

/**
 * What the records show about a message not answered exactly once: the bridge's turns of its
 * conversation, what passed between the relay and the gateway for that session (orphan-proxy.mjs),
 * the gateway's kills, and what the stand-in model was asked with its marker.
 */
export async function records(message: PlannedMessage): Promise<unknown> {
  const turns = await (conversationObject(env, conversationKey(message.conversation)) as unknown as { turns(limit?: number): Promise<Turn[]> }).turns(100);
  const { trace, kills } = (await (await fetch(`${env.TEST_CHAOS_CONTROL_URL}/trace?match=${encodeURIComponent(message.marker)}`)).json()) as { trace: unknown[]; kills: unknown[] };
  const model = (await json<{ requests: { at: number; words: string; cutOff?: boolean; finished?: boolean }[] }>(`${env.TEST_MODEL_URL}/_test/requests`)).requests;
  return {
    marker: message.marker,
    turns: turns
      .filter((t) => t.message.text.includes(message.marker))
      .map(({ seq, state, attempts, delivered, runId, resends, error, startedAt, finishedAt }) => ({ seq, state, attempts, delivered, runId, resends, error, startedAt, finishedAt })),
    kills,
    trace,
    model: model.filter((r) => r.words.includes(message.marker)),
  };
}
