/**
 * Turning verified Slack requests into inbound events: Events API callbacks (JSON) and slash
 * commands (form-encoded). Pure functions of the body; nothing here calls Slack.
 */
import { parseJson, parseShape } from "../schema";
import type { InboundCommand, InboundEvent, InboundMessage, ReplyTarget } from "../types";
import { AGENT_EVENT_TYPES, parseSlackAgentEvent, type SlackThreadStarted } from "./agent-events";
import { DEFAULT_SLACK_API_URL, trustedResponseUrl } from "./api";
import {
  type SlackPersonMessage,
  slackEnvelopeKind,
  slackEventCallback,
  slackMessageKind,
  slackPersonMessage,
  slackSlashCommand,
  slackUrlVerification,
} from "./schema";

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

/** Message subtypes that still carry a person's words; every other subtype is ignored. */
const HANDLED_SUBTYPES = new Set([undefined, "file_share", "thread_broadcast"]);

/** An Events API request: checked against Slack's shapes (schema.ts) before any field is read. */
export function parseSlackEvents(body: string): ParsedSlackEvents {
  const raw = parseJson(body, "Slack event body");
  const { type } = parseShape(slackEnvelopeKind, raw, "Slack event body");
  if (type === "url_verification") return { events: [], challenge: parseShape(slackUrlVerification, raw, "url_verification").challenge };
  if (type !== "event_callback") return { events: [] };
  const envelope = parseShape(slackEventCallback, raw, "event_callback");
  const event = envelope.event;
  if (AGENT_EVENT_TYPES.has(event.type)) return parseSlackAgentEvent(envelope);
  if (event.type !== "app_mention" && event.type !== "message") return { events: [] };

  const kind = parseShape(slackMessageKind, event, "event");
  if (kind.bot_id || !HANDLED_SUBTYPES.has(kind.subtype)) return { events: [] };
  const message = parseShape(slackPersonMessage, event, "event");
  const botUserId = envelope.authorizations?.find((a) => a.is_bot)?.user_id;
  if (message.user === botUserId) return { events: [] };
  const direct = message.type === "message" && message.channel_type === "im";
  if (message.type !== "app_mention" && !direct) return { events: [] };

  return { events: [toMessage(envelope.team_id, envelope.event_id, message, direct, botUserId)] };
}

function toMessage(team: string, eventId: string, event: SlackPersonMessage, direct: boolean, botUserId: string | undefined): InboundMessage {
  const { channel, ts, user } = event;
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
  const form = parseShape(slackSlashCommand, Object.fromEntries(new URLSearchParams(body)), "slash command");
  const { team_id: team, channel_id: channel, user_id: user } = form;
  const direct = form.channel_name === "directmessage" || channel.startsWith("D");
  const responseUrl = trustedResponseUrl(form.response_url ?? null, apiBaseUrl);
  const reply: SlackReplyTarget = { platform: "slack", team, channel, thread_ts: null, user, user_team: team };
  return {
    kind: "command",
    conversation: `slack:${team}:${channel}`,
    dedupeKeys: [`slack:command:${form.trigger_id ?? `${channel}:${user}:${form.text ?? ""}`}`],
    sender: { id: `slack:${user}`, name: form.user_name },
    direct,
    reply: responseUrl ? ({ ...reply, response_url: responseUrl } satisfies SlackCommandTarget) : reply,
    text: (form.text ?? "").trim(),
  };
}
