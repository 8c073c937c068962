/**
 * Driving the relay as Discord would: interactions POSTed to the Worker signed with Ed25519 (the
 * RFC 8032 test-1 key, whose public half is the test config's DISCORD_PUBLIC_KEY), and messages
 * sent over the emulator's Gateway (test/emulators/discord.mjs). Each test uses its own channels
 * and, for the Gateway, its own bot token and connection object, so tests don't see each other.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { listenerObject } from "../../src/bridge/listener-object";
import type { Env } from "../../src/env";
import { eventually } from "./slack-relay";

/** RFC 8032, test 1: the secret seed (public, of course: it is a test vector). */
export const RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/** An admin in the test config's ADMINS. */
export const DISCORD_ADMIN = "1100000000000000042";

const hex = (text: string) => new Uint8Array(text.match(/../g)!.map((byte) => parseInt(byte, 16)));
const toHex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** An Ed25519 private key from a 32-byte seed (PKCS#8 wraps it in a fixed 16-byte prefix). */
export async function signingKey(seedHex = RFC8032_SEED): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array([...hex("302e020100300506032b657004220420"), ...hex(seedHex)]);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
}

export async function signedHeaders(body: string, options: { timestamp?: number; seed?: string } = {}): Promise<Record<string, string>> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, await signingKey(options.seed), new TextEncoder().encode(timestamp + body));
  return { "content-type": "application/json", "x-signature-ed25519": toHex(signature), "x-signature-timestamp": timestamp };
}

export async function postInteraction(interaction: unknown, options: { timestamp?: number; seed?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = typeof interaction === "string" ? interaction : JSON.stringify(interaction);
  const headers = options.headers ?? (await signedHeaders(body, options));
  return SELF.fetch("https://relay.test/discord/interactions", { method: "POST", headers, body });
}

let counter = 0;
/** A fresh snowflake-like id. */
export function uniqueId(): string {
  return String(1200000000000000000n + BigInt(Date.now() % 1_000_000_000) * 1000n + BigInt(counter++ * 7 + Math.floor(Math.random() * 7)));
}

/** A `/molt <sub> ...` interaction, in a guild channel unless `dm`. */
export function moltInteraction(sub: string, options: Record<string, string | number> = {}, where: { channel?: string; user?: string; dm?: boolean } = {}) {
  const user = { id: where.user ?? DISCORD_ADMIN, username: "tess", global_name: "Tess" };
  return {
    id: uniqueId(),
    application_id: env.DISCORD_APPLICATION_ID,
    type: 2,
    token: `itoken-${uniqueId()}`,
    channel_id: where.channel ?? uniqueId(),
    ...(where.dm ? { user } : { guild_id: "1000000000000000777", member: { user } }),
    data: {
      name: "molt",
      type: 1,
      options: [{ name: sub, type: 1, options: Object.entries(options).map(([name, value]) => ({ name, type: typeof value === "number" ? 4 : 3, value })) }],
    },
  };
}

// ---- the emulator ------------------------------------------------------------------------------

const control = (path: string) => `${env.DISCORD_API_URL!.replace(/\/api\/v10$/, "")}/_emulator/${path}`;

async function controlPost<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
  const response = await fetch(control(path), { method: "POST", body: JSON.stringify(body) });
  expect(response.ok, `${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

export interface DiscordMessageRecord {
  id: string;
  content: string;
  edits: number;
  message_reference: { message_id: string } | null;
  attachments: { filename: string; size: number; sha256: string; content_type?: string }[];
}

export interface DiscordCallRecord {
  method: string;
  path: string;
  route: string;
  status: number;
  body: Record<string, unknown>;
  chunked: boolean;
}

export async function discordMessages(channel: string): Promise<DiscordMessageRecord[]> {
  return ((await (await fetch(control(`messages?channel_id=${channel}`))).json()) as { messages: DiscordMessageRecord[] }).messages;
}

export async function discordTyping(channel: string): Promise<number[]> {
  return ((await (await fetch(control(`messages?channel_id=${channel}`))).json()) as { typing: number[] }).typing;
}

export async function discordCalls(channel: string): Promise<DiscordCallRecord[]> {
  return ((await (await fetch(control(`calls?channel_id=${channel}`))).json()) as { calls: DiscordCallRecord[] }).calls;
}

export async function interactionRecord(token: string): Promise<{ original: { content: string; edits: number } | null; followups: { content: string }[] }> {
  return (await (await fetch(control(`interactions?token=${encodeURIComponent(token)}`))).json()) as never;
}

export async function discordFault(fault: Record<string, unknown>): Promise<void> {
  await controlPost("faults", fault);
}

export async function expectNoUnmatchedDiscordCalls(): Promise<void> {
  const { unmatched } = (await (await fetch(control("unmatched"))).json()) as { unmatched: unknown[] };
  expect(unmatched).toEqual([]);
}

export interface GatewayRecord {
  botId: string;
  connected: boolean;
  seq: number;
  connections: { opened: number; closed: number | null; closeCode: number | null; heartbeats: number; path: string }[];
  identifies: { intents: number }[];
  resumes: { session_id: string; seq: number }[];
}

export async function gatewayRecord(token: string): Promise<GatewayRecord> {
  return (await (await fetch(control(`gateway?token=${encodeURIComponent(token)}`))).json()) as GatewayRecord;
}

export const gatewayControl = (
  action: "drop" | "release" | "close" | "stop-acks" | "reconnect" | "invalid-session" | "config" | "redispatch" | "message",
  body: Record<string, unknown>,
) =>
  controlPost<Record<string, unknown>>(`gateway/${action}`, body);

// ---- a Gateway connection of the test's own -----------------------------------------------------

/**
 * A connection object of this test's own, with a bot token of its own (the emulator makes each
 * token a bot). Replies go out with the configured token; what the user sees is per channel.
 */
export async function ownGateway(options: { heartbeatInterval?: number } = {}) {
  const token = `MTE${uniqueId()}.test.${Math.random().toString(36).slice(2)}`;
  const { botId } = await gatewayControl("config", { token, heartbeatInterval: options.heartbeatInterval ?? 41_250 });
  const stub = listenerObject(env, `discord-test-${uniqueId()}`);
  await runInDurableObject(stub, (instance) => {
    const object = instance as unknown as { env: Env };
    object.env = { ...object.env, DISCORD_BOT_TOKEN: token };
  });
  const state = await stub.ensure("discord");
  expect(state.configured).toBe(true);
  await eventually(async () => (await stub.status("discord")).phase === "ready", 15_000, "the Gateway to be ready", () => stub.status("discord"));
  return {
    token,
    botId: botId as string,
    stub,
    status: () => stub.status("discord"),
    record: () => gatewayRecord(token),
    /** A message sent in a channel (mentioning the bot unless told) or a DM. */
    send: (message: { channel: string; content: string; author?: string; dm?: boolean; mention?: boolean; id?: string; bot?: boolean }) =>
      gatewayControl("message", {
        token,
        id: message.id,
        channel_id: message.channel,
        ...(message.dm ? {} : { guild_id: "1000000000000000777" }),
        author: { id: message.author ?? uniqueId(), username: "tess", ...(message.bot ? { bot: true } : {}) },
        content: message.dm || message.mention === false ? message.content : `<@${botId}> ${message.content}`,
        mentions: message.dm || message.mention === false ? [] : [{ id: botId }],
      }) as Promise<{ id: string; seq: number; delivered: boolean }>,
    control: (action: Parameters<typeof gatewayControl>[0], body: Record<string, unknown> = {}) => gatewayControl(action, { token, ...body }),
  };
}

// ---- Stop buttons --------------------------------------------------------------------------------

export interface DiscordComponentRow {
  type: number;
  components: { type: number; style: number; label?: string; custom_id?: string }[];
}

/** A channel's messages with their components (the Stop button). */
export async function discordMessagesWithComponents(channel: string): Promise<(DiscordMessageRecord & { components: DiscordComponentRow[] })[]> {
  return (await discordMessages(channel)) as never;
}

/** Messages the relay deleted in a channel. */
export async function discordDeleted(channel: string): Promise<DiscordMessageRecord[]> {
  return ((await (await fetch(control(`messages?channel_id=${channel}`))).json()) as { deleted: DiscordMessageRecord[] }).deleted;
}

/**
 * `user` presses the Stop button on `messageId` (at the emulator, which only lets a user press a
 * button that is there; `force` with `customId`: a press that crossed the answer's end). Answers
 * the MESSAGE_COMPONENT interaction Discord would send, unsigned.
 */
export async function pressDiscordButton(channel: string, messageId: string, user: string, options: { customId?: string; force?: boolean; dm?: boolean } = {}) {
  const response = await fetch(control(`press?channel_id=${channel}`), {
    method: "POST",
    body: JSON.stringify({
      message_id: messageId,
      user_id: user,
      application_id: env.DISCORD_APPLICATION_ID,
      ...(options.dm ? {} : { guild_id: "1000000000000000777" }),
      ...(options.customId ? { custom_id: options.customId } : {}),
      ...(options.force ? { force: true } : {}),
    }),
  });
  const body = (await response.json()) as { ok: boolean; interaction?: { token: string } & Record<string, unknown>; message?: string };
  if (!body.ok || !body.interaction) throw new Error(`no button to press: ${body.message}`);
  return body.interaction;
}

export type PressResponse = { type: number; data?: { content?: string; flags?: number } };

/** The relay's answer to a press (signed and posted as Discord would), checked by the emulator as Discord checks it. */
export async function answerToPress(interaction: { token: string }): Promise<PressResponse> {
  const response = await postInteraction(interaction);
  expect(response.status).toBe(200);
  const answer = (await response.json()) as PressResponse;
  const checked = await fetch(control("press-answer"), { method: "POST", body: JSON.stringify({ token: interaction.token, response: answer }) });
  expect(checked.status, await checked.clone().text()).toBe(200);
  return answer;
}
