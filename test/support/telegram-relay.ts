/**
 * Driving the relay as Telegram would (updates POSTed to the webhook with the secret header), and
 * watching what a user would see through the Bot API emulator (test/emulators/telegram.mjs). Each
 * test uses its own chat id, so tests in parallel files don't see each other.
 */
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { TELEGRAM_SECRET_HEADER } from "../../src/adapters/telegram/verify";
import { policy } from "../../src/policy/policy-object";

export const TELEGRAM_BOT_ID = 7000000001;

/**
 * A fresh private chat id (positive), or a group id (negative, supergroup style). Random, from
 * 6e9 values: test files start at the same moment in workers of their own, so a clock and a
 * per-file counter would give two of them the same ids. Private ids stay between 1e9 and 7e9,
 * clear of the test admin (424242) and the emulator's bot (7000000001).
 */
export function uniqueChatId(kind: "private" | "group" = "private"): number {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  const id = 1_000_000_000 + (((high! & 1) * 2 ** 32 + low!) % 6_000_000_000);
  return kind === "private" ? id : -(1_000_000_000_000 + id);
}

let updateCounter = Math.floor(Math.random() * 1_000_000) * 100;
export const nextUpdateId = () => ++updateCounter;

/**
 * A fresh private chat whose user may DM the agent: allowed through the policy's public
 * `allowSender`, as `/molt allow telegram:<id>` does (DMs follow the default `pairing` policy).
 */
export async function allowedChatId(): Promise<number> {
  const id = uniqueChatId();
  await policy(env).allowSender(`telegram:${id}`, "telegram:424242");
  return id;
}

/** The webhook request Telegram would send for `update` (the right secret). */
export function webhookRequest(update: unknown): Request {
  return new Request("https://relay.test/telegram/webhook", {
    method: "POST",
    headers: { "content-type": "application/json", [TELEGRAM_SECRET_HEADER]: env.TELEGRAM_WEBHOOK_SECRET! },
    body: JSON.stringify(update),
  });
}

/** POST an update to the Worker's webhook, with the right secret unless told otherwise. */
export function postUpdate(update: unknown, secret: string | null = env.TELEGRAM_WEBHOOK_SECRET!): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== null) headers[TELEGRAM_SECRET_HEADER] = secret;
  return SELF.fetch("https://relay.test/telegram/webhook", {
    method: "POST",
    headers,
    body: typeof update === "string" ? update : JSON.stringify(update),
  });
}

let messageCounter = 1000;

/** A private text message from `userId` (the chat id of a DM is the user's id). */
export function privateText(userId: number, text: string, options: { updateId?: number; messageId?: number } = {}) {
  const entities = text.startsWith("/") ? [{ offset: 0, length: text.split(/\s/)[0]!.length, type: "bot_command" }] : undefined;
  return {
    update_id: options.updateId ?? nextUpdateId(),
    message: {
      message_id: options.messageId ?? ++messageCounter,
      from: { id: userId, is_bot: false, first_name: "Tess", username: `tess${userId}` },
      chat: { id: userId, first_name: "Tess", type: "private" },
      date: Math.floor(Date.now() / 1000),
      text,
      ...(entities ? { entities } : {}),
    },
  };
}

const control = () => `${env.TELEGRAM_API_URL}/_emulator/`;

export interface TelegramCallRecord {
  method: string;
  chat_id?: string;
  body: Record<string, unknown>;
  files: { name: string; filename: string; bytes: number; sha256: string }[];
  chunked: boolean;
  status: number;
  response: { ok: boolean; error_code?: number; description?: string; result?: unknown };
}

export interface TelegramMessageRecord {
  message_id: number;
  kind: "text" | "photo" | "video" | "document";
  text: string;
  html: string | null;
  edits: number;
  reply_to?: number;
  thread_id?: number;
  file?: { field: string; filename: string; bytes: number; sha256: string };
}

export interface TelegramChatRecord {
  messages: TelegramMessageRecord[];
  drafts: Record<string, { text: string; updates: number }>;
  actions: { action: string; time: number }[];
}

export async function telegramCalls(chatId: number, method?: string): Promise<TelegramCallRecord[]> {
  const { calls } = (await (await fetch(`${control()}calls?chat_id=${chatId}`)).json()) as { calls: TelegramCallRecord[] };
  return method ? calls.filter((call) => call.method === method) : calls;
}

export async function telegramChat(chatId: number): Promise<TelegramChatRecord> {
  return (await (await fetch(`${control()}messages?chat_id=${chatId}`)).json()) as TelegramChatRecord;
}

export async function telegramFault(fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${control()}faults`, { method: "POST", body: JSON.stringify(fault) });
  expect(response.ok).toBe(true);
}

/** Turn the emulator's rate limits off (or back on) for one chat: for tests of other behaviour that post faster than Telegram allows. */
export async function telegramLimitsFor(chatId: number, mode: "off" | "channel" | "all"): Promise<void> {
  const response = await fetch(`${control()}limits`, { method: "POST", body: JSON.stringify({ mode, chat_id: chatId }) });
  expect(response.ok).toBe(true);
}

export async function expectNoUnmatchedTelegramCalls(): Promise<void> {
  const { unmatched } = (await (await fetch(`${control()}unmatched`)).json()) as { unmatched: unknown[] };
  expect(unmatched).toEqual([]);
}

/** Send a Bot API call straight to the emulator (to check what the Worker answered would be accepted). */
export async function emulatorCall(method: string, body: unknown): Promise<TelegramCallRecord["response"]> {
  const response = await fetch(`${env.TELEGRAM_API_URL}/bot${env.TELEGRAM_BOT_TOKEN}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as TelegramCallRecord["response"];
}
