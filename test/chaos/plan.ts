/**
 * The chaos run's plan, all from one seed: which conversation each message goes to, what it says
 * (each carries a marker of its own, which the stand-in model echoes back), when it is sent,
 * whether the platform delivers it twice, which platform API call fails around it and how, whether
 * the gateway takes it and dies before running it (then refuses its key: orphan-proxy.mjs), whether
 * it asks for a file and whether R2 fails on that file (r2-faults.ts), and when the gateway is
 * killed. Draws added after the first version (orphaned input, Discord, media) come from streams
 * of their own, so the Slack and Telegram messages drawn before them stay as they were.
 */
import { rng } from "../fuzz/generate";

export type Platform = "slack" | "telegram" | "discord";

export interface Conversation {
  index: number;
  platform: Platform;
  /** Slack channel id, Telegram chat id (negative for groups), or Discord guild channel id. */
  id: string;
  /** Slack: the thread every message of the conversation is posted in. */
  threadTs?: string;
  group: boolean;
}

export interface Fault {
  /** The platform's API method (Slack, Telegram), or the HTTP method (Discord, with `path`). */
  method: string;
  /** Discord: the route the fault applies to (a substring, scoped to the channel). */
  path?: string;
  status?: number;
  retryAfter?: number;
  disconnect?: boolean;
}

export interface PlannedMessage {
  index: number;
  marker: string;
  conversation: Conversation;
  /** The words the person sends (without any mention). */
  words: string;
  /** What the final answer must contain, in full. */
  expected: string[];
  /** Milliseconds after the run starts. */
  sendAt: number;
  /** Delivered a second time this many ms after the first (a platform retry). */
  duplicateAfter?: number;
  /** A platform API failure registered for the conversation just before this message. */
  fault?: Fault;
  /** The gateway takes its first send and dies holding it, and refuses that key after (OpenClaw's pending input). */
  orphaned?: boolean;
  /** Asks for a picture: the answer carries one file, named after the words (so after the marker). */
  media?: boolean;
  /** R2 fails on this message's file: `times` failures of `put` (the copy in) or `get` (the upload's read). */
  r2Fault?: R2Fault;
}

export interface R2Fault {
  op: "put" | "get";
  /** One or two in a row: transient, as R2's internal errors are; more would exhaust the relay's tries. */
  times: number;
}

export interface ChaosPlan {
  seed: number;
  conversations: Conversation[];
  messages: PlannedMessage[];
  /** Milliseconds after the start at which the gateway is killed. */
  kills: number[];
}

const SLACK_FAULT_METHODS = ["chat.startStream", "chat.appendStream", "chat.stopStream", "chat.postMessage", "assistant.threads.setStatus"];
const TELEGRAM_FAULT_METHODS = ["sendMessage", "sendMessageDraft", "editMessageText", "sendChatAction"];
/** Discord routes (HTTP method and path under the channel): sends, edits, typing. */
const DISCORD_FAULT_ROUTES: [string, string][] = [["POST", "messages"], ["PATCH", "messages/"], ["POST", "typing"]];
/** Of the messages, this share goes to Discord conversations instead (drawn from a stream of its own). */
const DISCORD_SHARE = 0.3;
const DISCORD_FAULT_SHARE = 0.25;
const MEDIA_SHARE = 0.1;
/** Of the files, this share meets R2 errors. */
const R2_FAULT_SHARE = 0.5;

export function chaosPlan(seed: number, count: number, options: { spacingMs?: number } = {}): ChaosPlan {
  const r = rng(seed);
  const spacing = options.spacingMs ?? 150;
  const run = (seed % 100_000).toString(36).toUpperCase();
  const conversationCount = Math.max(10, Math.round(count / 20));
  const conversations: Conversation[] = Array.from({ length: conversationCount }, (_, index) => {
    if (index % 2 === 0) {
      return { index, platform: "slack", id: `CCH${run}X${index}`, threadTs: `1760000000.${String(index).padStart(6, "0")}`, group: false };
    }
    const group = index % 6 === 5;
    const base = 700_000_000 + (seed % 1_000_000) * 100 + index;
    return { index, platform: "telegram", id: String(group ? -(1_000_000_000_000 + base) : base), group };
  });
  // Discord guild channels, after the others (the bot is mentioned in each message).
  const discordCount = Math.max(3, Math.round(conversationCount / 2));
  const discord: Conversation[] = Array.from({ length: discordCount }, (_, i) => ({
    index: conversationCount + i,
    platform: "discord",
    id: String(1_400_000_000_000_000_000n + BigInt(seed % 1_000_000) * 10_000n + BigInt(i)),
    group: true,
  }));
  const d = rng(seed ^ 0xd15c0d);
  const m = rng(seed ^ 0x3ed1a);
  const messages: PlannedMessage[] = [];
  for (let index = 0; index < count; index++) {
    // Ends in a letter, so that no marker is the start of another (x2 and x27).
    const marker = `m${run}x${index}q`;
    const drawn = r.pick(conversations);
    const toDiscord = d.chance(DISCORD_SHARE);
    const conversation = toDiscord ? d.pick(discord) : drawn;
    const slow = r.chance(0.2);
    const media = m.chance(MEDIA_SHARE);
    const words = media ? `picture chaos ${marker} please` : slow ? `slow chaos ${marker} please` : `chaos ${marker} please`;
    const expected = media ? [`Here is the picture you asked for: ${words}.`] : slow ? [`Slow echo: ${words}.`, "tick ".repeat(20).trim()] : [`Echo: ${words}`];
    const message: PlannedMessage = { index, marker, conversation, words, expected, sendAt: index * spacing };
    if (media) {
      message.media = true;
      if (m.chance(R2_FAULT_SHARE)) message.r2Fault = { op: m.pick(["put", "get"] as const), times: 1 + m.int(2) };
    }
    if (r.chance(0.1)) message.duplicateAfter = r.int(3_000);
    // The Slack and Telegram draws are made for every message (so the others' stay as they were);
    // a Discord message's fault is drawn from the Discord stream instead.
    const faulted = r.chance(0.15);
    const kind = faulted ? r.int(3) : 0;
    const method = faulted ? r.pick(drawn.platform === "slack" ? SLACK_FAULT_METHODS : TELEGRAM_FAULT_METHODS) : "";
    if (toDiscord) {
      if (d.chance(DISCORD_FAULT_SHARE)) {
        const [verb, route] = d.pick(DISCORD_FAULT_ROUTES);
        const how = d.int(3);
        // Discord's retry_after is in seconds with a fraction, as its API answers.
        const what = how === 0 ? { status: 429, retryAfter: (200 + d.int(1_300)) / 1000 } : how === 1 ? { status: 500 } : { disconnect: true };
        message.fault = { method: verb, path: `/channels/${conversation.id}/${route}`, ...what };
      }
    } else if (faulted) {
      message.fault = { method, ...(kind === 0 ? { status: 429, retryAfter: 1 } : kind === 1 ? { status: 500 } : { disconnect: true }) };
    }
    messages.push(message);
  }
  // From a stream of their own, so that the rest of the plan is the same as before they existed.
  const o = rng(seed ^ 0x0e0e0e);
  for (let i = 0; i < Math.max(1, Math.floor(count / 100)); i++) messages[o.int(count)]!.orphaned = true;
  const span = count * spacing;
  const killCount = Math.max(1, Math.floor(count / 400));
  const kills = Array.from({ length: killCount }, (_, i) => Math.round(span * ((i + 0.4) / killCount)));
  return { seed, conversations: [...conversations, ...discord], messages, kills };
}
