/**
 * The chaos run's plan, all from one seed: which conversation each message goes to, what it says
 * (each carries a marker of its own, which the stand-in model echoes back), when it is sent,
 * whether the platform delivers it twice, which platform API call fails around it and how, whether
 * the gateway takes it and dies before running it (then refuses its key: orphan-proxy.mjs), and when
 * the gateway is killed.
 */
import { rng } from "../fuzz/generate";

export type Platform = "slack" | "telegram";

export interface Conversation {
  index: number;
  platform: Platform;
  /** Slack channel id, or Telegram chat id (negative for groups). */
  id: string;
  /** Slack: the thread every message of the conversation is posted in. */
  threadTs?: string;
  group: boolean;
}

export interface Fault {
  method: string;
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
  const messages: PlannedMessage[] = [];
  for (let index = 0; index < count; index++) {
    // Ends in a letter, so that no marker is the start of another (x2 and x27).
    const marker = `m${run}x${index}q`;
    const conversation = r.pick(conversations);
    const slow = r.chance(0.2);
    const words = slow ? `slow chaos ${marker} please` : `chaos ${marker} please`;
    const expected = slow ? [`Slow echo: ${words}.`, "tick ".repeat(20).trim()] : [`Echo: ${words}`];
    const message: PlannedMessage = { index, marker, conversation, words, expected, sendAt: index * spacing };
    if (r.chance(0.1)) message.duplicateAfter = r.int(3_000);
    if (r.chance(0.15)) {
      const methods = conversation.platform === "slack" ? SLACK_FAULT_METHODS : TELEGRAM_FAULT_METHODS;
      const kind = r.int(3);
      message.fault = { method: r.pick(methods), ...(kind === 0 ? { status: 429, retryAfter: 1 } : kind === 1 ? { status: 500 } : { disconnect: true }) };
    }
    messages.push(message);
  }
  // From a stream of their own, so that the rest of the plan is the same as before they existed.
  const o = rng(seed ^ 0x0e0e0e);
  for (let i = 0; i < Math.max(1, Math.floor(count / 100)); i++) messages[o.int(count)]!.orphaned = true;
  const span = count * spacing;
  const killCount = Math.max(1, Math.floor(count / 400));
  const kills = Array.from({ length: killCount }, (_, i) => Math.round(span * ((i + 0.4) / killCount)));
  return { seed, conversations, messages, kills };
}
