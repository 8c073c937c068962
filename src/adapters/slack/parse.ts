/**
 * Turning verified Slack requests into inbound events: Events API callbacks (JSON) and slash
 * commands (form-encoded). Pure functions of the body; nothing here calls Slack.
 */
import { PayloadError } from "../../errors";
import type { InboundCommand, InboundEvent, InboundMessage, ReplyTarget } from "../types";
import { AGENT_EVENT_TYPES, parseSlackAgentEvent, type SlackThreadStarted } from "./agent-events";
import { DEFAULT_SLACK_API_URL, trustedResponseUrl } from "./api";

/** Where one Slack conversation's replies go. */
export interface SlackReplyTarget extends ReplyTarget {
  platform: "slack";
  /** The workspace the app is installed in. */
  team: string;
  channel: string;
  /**
   * The thread replies go to: `thread_ts ?? ts` of the message. DMs use it too: Slack's streaming
   * and status methods need a thread, so a DM answer is a thread reply inside the DM. Null for
   * slash commands, which Slack sends without thread context.
   */
  thread_ts: string | null;
  /** The user who asked: streams in channels are addressed to them. */
  user: string;
  /** That user's own workspace (differs from `team` in shared channels). */
  user_team: string;
}

/** A slash command's target: Slack's `response_url` rides along when there is a trusted one. */
export interface SlackCommandTarget extends SlackReplyTarget {
  /**
   * Where Slack takes the command's late results (30 minutes, 5 posts), even in channels the bot
   * is not in. Only a trusted URL is kept (see trustedResponseUrl). A credential: never logged.
   */
  response_url: string;
}

/** What an Events API request amounts to: events for the bridge, or Slack's URL challenge. */
export interface ParsedSlackEvents {
  events: InboundEvent[];
  challenge?: string;
  /** The agent split pane was opened (assistant_thread_started): it gets suggested prompts. */
  threadStarted?: SlackThreadStarted;
}

interface SlackMessageEvent {
  type?: string;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  user_team?: string;
  team?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
}

interface SlackEnvelope {
  type?: string;
  challenge?: string;
  team_id?: string;
  event_id?: string;
  event?: SlackMessageEvent;
  authorizations?: { user_id?: string; is_bot?: boolean }[];
}

/** Message subtypes that still carry a person's words; every other subtype is ignored. */
const HANDLED_SUBTYPES = new Set([undefined, "file_share", "thread_broadcast"]);

export function parseSlackEvents(body: string): ParsedSlackEvents {
  const envelope = parseJsonObject(body) as SlackEnvelope;
  if (envelope.type === "url_verification") {
    if (typeof envelope.challenge !== "string") throw new PayloadError("url_verification without a challenge");
    return { events: [], challenge: envelope.challenge };
  }
  if (envelope.type !== "event_callback") return { events: [] };
  const event = envelope.event;
  if (!event || typeof event !== "object") throw new PayloadError("event_callback without an event");
  if (!envelope.team_id || !envelope.event_id) throw new PayloadError("event_callback without team_id or event_id");
  if (AGENT_EVENT_TYPES.has(String(event.type))) return parseSlackAgentEvent(envelope);

  const botUserId = envelope.authorizations?.find((a) => a.is_bot)?.user_id;
  if (!isFromPerson(event, botUserId)) return { events: [] };
  const direct = event.type === "message" && event.channel_type === "im";
  if (event.type !== "app_mention" && !direct) return { events: [] };

  return { events: [toMessage(envelope.team_id, envelope.event_id, event, direct, botUserId)] };
}

function isFromPerson(event: SlackMessageEvent, botUserId: string | undefined): boolean {
  if (event.bot_id || !event.user || event.user === botUserId) return false;
  if (!HANDLED_SUBTYPES.has(event.subtype)) return false;
  return typeof event.channel === "string" && typeof event.ts === "string";
}

function toMessage(
  team: string,
  eventId: string,
  event: SlackMessageEvent,
  direct: boolean,
  botUserId: string | undefined,
): InboundMessage {
  const channel = event.channel as string;
  const ts = event.ts as string;
  const user = event.user as string;
  const thread = event.thread_ts ?? ts;
  return {
    kind: "message",
    conversation: direct ? `slack:${team}:${channel}` : `slack:${team}:${channel}:${thread}`,
    dedupeKeys: [`slack:event:${eventId}`, `slack:msg:${channel}:${ts}`],
    sender: { id: `slack:${user}` },
    direct,
    reply: {
      platform: "slack",
      team,
      channel,
      thread_ts: thread,
      user,
      user_team: event.user_team ?? event.team ?? team,
      // The message's own ts: equal to `thread_ts` when it started the thread (agent-session.ts).
      ts,
    } satisfies SlackReplyTarget,
    text: stripLeadingMention(event.text ?? "", botUserId),
    sentAt: Math.round(Number(ts) * 1000),
  };
}

/** Drop the `<@BOT>` a mention starts with; without a known bot id, any leading mention. */
export function stripLeadingMention(text: string, botUserId?: string): string {
  const mention = botUserId ? `<@${botUserId}(?:\\|[^>]*)?>` : "<@[A-Z0-9]+(?:\\|[^>]*)?>";
  return text.replace(new RegExp(`^\\s*${mention}[\\s,:]*`), "").trim();
}

/** A `/molt ...` slash command (form-encoded). `apiBaseUrl` decides which response URLs are kept. */
export function parseSlackCommand(body: string, apiBaseUrl = DEFAULT_SLACK_API_URL): InboundCommand {
  const form = new URLSearchParams(body);
  const team = form.get("team_id");
  const channel = form.get("channel_id");
  const user = form.get("user_id");
  const trigger = form.get("trigger_id");
  if (!team || !channel || !user || !form.get("command")) {
    throw new PayloadError("slash command without team_id, channel_id, user_id or command");
  }
  const direct = form.get("channel_name") === "directmessage" || channel.startsWith("D");
  const responseUrl = trustedResponseUrl(form.get("response_url"), apiBaseUrl);
  const reply: SlackReplyTarget = { platform: "slack", team, channel, thread_ts: null, user, user_team: team };
  return {
    kind: "command",
    conversation: `slack:${team}:${channel}`,
    dedupeKeys: [`slack:command:${trigger ?? `${channel}:${user}:${form.get("text") ?? ""}`}`],
    sender: { id: `slack:${user}`, name: form.get("user_name") ?? undefined },
    direct,
    reply: responseUrl ? ({ ...reply, response_url: responseUrl } satisfies SlackCommandTarget) : reply,
    text: (form.get("text") ?? "").trim(),
  };
}

function parseJsonObject(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PayloadError("Slack event body is not JSON");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new PayloadError("Slack event body is not an object");
  return value as Record<string, unknown>;
}
