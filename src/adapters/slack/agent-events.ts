/**
 * Slack's agent events ("Agents & AI Apps"): `agent_session_stopped` (someone pressed the native
 * stop button of a session) and `assistant_thread_started` (someone opened the split pane). Pure:
 * nothing here calls Slack. A stop becomes the command `stop <thread_ts>` from the person who
 * pressed it; the bridge decides whether they may.
 */
import * as v from "valibot";
import { PayloadError } from "../../errors";
import type { InboundCommand } from "../types";
import type { SlackReplyTarget } from "./parse";

export const AGENT_EVENT_TYPES = new Set(["agent_session_stopped", "assistant_thread_started"]);

const Id = v.pipe(v.string(), v.minLength(1));

const StoppedEvent = v.object({
  type: v.literal("agent_session_stopped"),
  channel: Id,
  thread_ts: Id,
  user: Id,
  user_team: v.optional(v.string()),
  streaming_message_ts: v.optional(v.array(v.string())),
});

const ThreadStartedEvent = v.object({
  type: v.literal("assistant_thread_started"),
  assistant_thread: v.object({
    user_id: Id,
    channel_id: Id,
    thread_ts: Id,
    context: v.optional(v.looseObject({ channel_id: v.optional(v.string()), team_id: v.optional(v.string()) })),
  }),
});

const Envelope = v.object({
  team_id: Id,
  event_id: Id,
  event: v.variant("type", [StoppedEvent, ThreadStartedEvent]),
});

/** The split pane was opened: where its suggested prompts go. */
export interface SlackThreadStarted {
  channel: string;
  thread_ts: string;
  user: string;
}

export interface ParsedAgentEvent {
  events: InboundCommand[];
  threadStarted?: SlackThreadStarted;
}

/** Parse an `event_callback` envelope whose event is one of AGENT_EVENT_TYPES (400 on a bad shape). */
export function parseSlackAgentEvent(envelope: unknown): ParsedAgentEvent {
  const parsed = v.safeParse(Envelope, envelope);
  if (!parsed.success) throw new PayloadError(`Slack agent event of the wrong shape: ${v.summarize(parsed.issues).split("\n")[0]}`);
  const { team_id: team, event_id: eventId, event } = parsed.output;
  if (event.type === "assistant_thread_started") {
    const thread = event.assistant_thread;
    return { events: [], threadStarted: { channel: thread.channel_id, thread_ts: thread.thread_ts, user: thread.user_id } };
  }
  // DM channel ids start with D; a DM is one conversation, a channel thread is one of its own.
  const direct = event.channel.startsWith("D");
  const reply: SlackReplyTarget = {
    platform: "slack",
    team,
    channel: event.channel,
    thread_ts: event.thread_ts,
    user: event.user,
    user_team: event.user_team ?? team,
  };
  return {
    events: [
      {
        kind: "command",
        conversation: direct ? `slack:${team}:${event.channel}` : `slack:${team}:${event.channel}:${event.thread_ts}`,
        dedupeKeys: [`slack:event:${eventId}`],
        sender: { id: `slack:${event.user}` },
        direct,
        reply,
        text: `stop ${event.thread_ts}`,
      },
    ],
  };
}
