/**
 * The Discord adapter: slash-command interactions over HTTP (`/molt`), mentions and DMs over the
 * Gateway (held in a Durable Object, gateway.ts), and streamed replies, files and `/molt` results
 * out. See docs/discord.md.
 */
import type { Env } from "../../env";
import { VerificationError } from "../../errors";
import { splitText } from "../split";
import type { Adapter, CommandReply, Inbound } from "../types";
import { discordApiConfig, discordRequest, interactionPath } from "./api";
import { createDiscordGateway } from "./gateway";
import { type DiscordReplyTarget, parseInteraction, parseInteractionBody, PLATFORM } from "./parse";
import { discordLimits, EPHEMERAL, fitted, NO_MENTIONS, openDiscordReply } from "./reply";
import { discordStop } from "./stop-button";
import { verifyDiscordRequest } from "./verify";

export const DISCORD_INTERACTIONS_PATH = "/discord/interactions";

/** Interaction response types (Discord's numbers). */
const PONG = 1;
const CHANNEL_MESSAGE = 4;
const DEFERRED_CHANNEL_MESSAGE = 5;
const DEFERRED_UPDATE_MESSAGE = 6;
const AUTOCOMPLETE_RESULT = 8;

export const discordAdapter: Adapter = {
  platform: PLATFORM,
  limits: discordLimits,
  routes: [DISCORD_INTERACTIONS_PATH],
  configured: (env) => Boolean(env.DISCORD_PUBLIC_KEY && env.DISCORD_BOT_TOKEN && env.DISCORD_APPLICATION_ID),

  async receive(request: Request, env: Env, now: number): Promise<Inbound> {
    if (!env.DISCORD_PUBLIC_KEY) throw new VerificationError("Discord is not configured");
    const raw = await request.arrayBuffer();
    await verifyDiscordRequest(raw, request.headers, env.DISCORD_PUBLIC_KEY, now);
    const parsed = parseInteraction(parseInteractionBody(new TextDecoder().decode(raw)));
    switch (parsed.kind) {
      case "ping":
        return { events: [], ack: () => Response.json({ type: PONG }) };
      case "autocomplete":
        return { events: [], ack: () => Response.json({ type: AUTOCOMPLETE_RESULT, data: { choices: [] } }) };
      case "unsupported":
        return { events: [], ack: () => ephemeral("That interaction isn't something molt-relay handles.") };
      case "command": {
        const target = parsed.event.reply as DiscordReplyTarget;
        return { events: [parsed.event], ack: (replies, later) => renderCommandReplies(env, target, replies, later) };
      }
      case "press": {
        const target = parsed.event.reply as DiscordReplyTarget;
        return { events: [parsed.event], ack: (replies, later) => renderPressReply(env, target, replies, later) };
      }
    }
  },

  openReply: (env, target) => openDiscordReply(env, target as DiscordReplyTarget),
  listen: (host) => createDiscordGateway(host),
  stop: discordStop,
};

/**
 * The answer to a Stop button press. Stopped: a deferred update (type 6), which changes nothing on
 * screen by itself; the answer then ends marked as stopped and loses its button. Refused, or
 * nothing left to stop: an ephemeral note to the presser only. Not done in time: like any command.
 */
export function renderPressReply(env: Env, target: DiscordReplyTarget, replies: CommandReply[], later: (work: Promise<unknown>) => void): Response {
  const [reply] = replies;
  if (!reply || reply.pending) return renderCommandReplies(env, target, replies, later);
  if (reply.ok) return Response.json({ type: DEFERRED_UPDATE_MESSAGE });
  return ephemeral(reply.text);
}

/**
 * A `/molt` result, seen only by the admin who ran it. Done within the ack: the answer itself
 * (a long one continues in follow-ups). Still running: a deferred answer ("thinking…"), which the
 * runner's late result edits (reply.ts, `PATCH .../messages/@original`).
 */
export function renderCommandReplies(env: Env, target: DiscordReplyTarget, replies: CommandReply[], later: (work: Promise<unknown>) => void): Response {
  if (replies.length === 0 || replies.some((reply) => reply.pending)) {
    return Response.json({ type: DEFERRED_CHANNEL_MESSAGE, data: { flags: EPHEMERAL } });
  }
  const [first = "", ...rest] = splitText(replies.map(commandMarkdown).join("\n\n"), discordLimits.maxTextLength);
  if (rest.length > 0 && target.interaction) {
    const config = discordApiConfig(env);
    const path = `${interactionPath(target.interaction)}?wait=true`;
    later(
      (async () => {
        for (const part of rest) {
          await discordRequest(config, "POST", path, { json: { content: fitted(part), flags: EPHEMERAL, allowed_mentions: NO_MENTIONS }, auth: false });
        }
      })().catch((error) => console.warn("discord /molt follow-up failed:", error instanceof Error ? error.message : String(error))),
    );
  }
  return ephemeral(first);
}

function ephemeral(markdown: string): Response {
  return Response.json({ type: CHANNEL_MESSAGE, data: { content: fitted(markdown), flags: EPHEMERAL, allowed_mentions: NO_MENTIONS } });
}

function commandMarkdown(reply: CommandReply): string {
  const title = `${reply.ok ? "" : "⚠️ "}**${reply.title.replace(/\*/g, "")}**`;
  return reply.text.trim() ? `${title}\n${reply.text.trim()}` : title;
}
