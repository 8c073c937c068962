/**
 * The Slack adapter: Events API and the `/molt` slash command in, streamed threaded replies out.
 */
import type { Env } from "../../env";
import { VerificationError } from "../../errors";
import type { Adapter, CommandReply, Inbound } from "../types";
import { splitText } from "../split";
import { slackStop, suggestPrompts, tellStopRefused } from "./agent-session";
import { slackApiConfig } from "./api";
import { markdownToMrkdwn } from "./format";
import { parseSlackCommand, parseSlackEvents, type SlackReplyTarget } from "./parse";
import { openSlackReply, slackLimits } from "./reply";
import { verifySlackRequest } from "./verify";

export const SLACK_EVENTS_PATH = "/slack/events";
export const SLACK_COMMANDS_PATH = "/slack/commands";

export const slackAdapter: Adapter = {
  platform: "slack",
  limits: slackLimits,
  routes: [SLACK_EVENTS_PATH, SLACK_COMMANDS_PATH],
  configured: (env) => Boolean(env.SLACK_SIGNING_SECRET && env.SLACK_BOT_TOKEN),

  async receive(request: Request, env: Env, now: number): Promise<Inbound> {
    if (!env.SLACK_SIGNING_SECRET) throw new VerificationError("Slack is not configured");
    const raw = await request.arrayBuffer();
    await verifySlackRequest(raw, request.headers, env.SLACK_SIGNING_SECRET, now);
    const body = new TextDecoder().decode(raw);

    if (new URL(request.url).pathname === SLACK_COMMANDS_PATH) {
      const command = parseSlackCommand(body, slackApiConfig(env).baseUrl);
      return { events: [command], ack: (replies) => renderCommandReplies(replies) };
    }
    const { events, challenge, threadStarted } = parseSlackEvents(body);
    return {
      events,
      ack: (replies, later) => {
        if (threadStarted) later(suggestPrompts(env, threadStarted));
        // A stop button press that was refused (or came too late) is told to the presser alone.
        const commands = events.filter((event) => event.kind === "command");
        replies.forEach((reply, i) => !reply.ok && commands[i] && later(tellStopRefused(env, commands[i].reply, reply.text)));
        return challenge === undefined ? Response.json({}) : Response.json({ challenge });
      },
    };
  },

  openReply: (env, target) => openSlackReply(env, target as SlackReplyTarget),
  stop: slackStop,
};

/** A slash command's answer: an ephemeral message only the caller sees. */
export function renderCommandReplies(replies: CommandReply[]): Response {
  if (replies.length === 0) return new Response(null, { status: 200 });
  const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
  const blocks = replies.flatMap((reply) => [
    section(`${reply.ok ? "" : ":warning: "}*${markdownToMrkdwn(reply.title)}*`),
    // Block Kit caps a section's text at 3,000 characters: split, don't cut.
    ...splitText(reply.text.trim() || " ", SECTION_LIMIT).map((part) => section(markdownToMrkdwn(part))),
  ]);
  const text = replies.map((reply) => `${reply.title}: ${reply.ok ? "ok" : "failed"}`).join("\n");
  return Response.json({ response_type: "ephemeral", text, blocks });
}

/** Leaves room for mrkdwn escaping to grow the text. */
const SECTION_LIMIT = 2_500;
