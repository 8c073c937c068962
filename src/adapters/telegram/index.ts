/**
 * The Telegram adapter: Bot API webhook updates in, streamed replies, files and `/molt` results
 * out. Why grammY's `webhookCallback` is not used (its client, errors and InputFile are): see
 * docs/telegram.md.
 */
import type { Env } from "../../env";
import { VerificationError } from "../../errors";
import { splitText } from "../split";
import type { Adapter, CommandReply, Inbound, InboundEvent } from "../types";
import { groupMode, telegramBotInfo } from "./bot-info";
import { isCallbackTarget } from "./callback";
import { markdownToTelegramHtml, TELEGRAM_TEXT_LIMIT } from "./format";
import { parseTelegramUpdate, type TelegramReplyTarget } from "./parse";
import { openTelegramReply, telegramLimits } from "./reply";
import { telegramStop } from "./stop-button";
import { parseUpdateBody, verifyTelegramRequest } from "./verify";
import { parseJson } from "../schema";

export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";

export const telegramAdapter: Adapter = {
  platform: "telegram",
  limits: telegramLimits,
  routes: [TELEGRAM_WEBHOOK_PATH],
  configured: (env) => Boolean(env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_WEBHOOK_SECRET),

  async receive(request: Request, env: Env): Promise<Inbound> {
    if (!env.TELEGRAM_WEBHOOK_SECRET) throw new VerificationError("Telegram is not configured");
    await verifyTelegramRequest(request.headers, env.TELEGRAM_WEBHOOK_SECRET);
    // parseTelegramUpdate checks the update's shape itself (400 when it is wrong).
    const events = parseTelegramUpdate(parseJson(await request.text(), "Telegram update"), { bot: telegramBotInfo(env), groupMode: groupMode(env) });
    return { events, ack: (replies, later) => renderCommandReplies(env, events, replies, later) };
  },

  openReply: (env, target) => openTelegramReply(env, target as TelegramReplyTarget),
  stop: telegramStop,
};

/**
 * Telegram lets the webhook's answer be one Bot API call: a command's result goes back as a
 * `sendMessage` in the response body, with no request of our own. A result longer than one
 * message is sent whole, split, through the API after the answer instead.
 */
export function renderCommandReplies(
  env: Env,
  events: InboundEvent[],
  replies: CommandReply[],
  later: (work: Promise<unknown>) => void,
): Response {
  const command = events.find((event) => event.kind === "command");
  if (!command || replies.length === 0) return new Response(null, { status: 200 });
  const target = command.reply as TelegramReplyTarget;
  // A button press (the Stop button) is answered with a short notice on the presser's screen.
  if (isCallbackTarget(target)) {
    const reply = replies[0]!;
    return Response.json({ method: "answerCallbackQuery", callback_query_id: target.callback_query_id, text: reply.text.slice(0, 200), show_alert: !reply.ok });
  }
  // Telegram counts the limit after parsing the markup, so splitting the Markdown is enough.
  const markdown = replies.map(commandMarkdown).join("\n\n");
  const parts = splitText(markdown, TELEGRAM_TEXT_LIMIT - 64);
  if (parts.length > 1) {
    later(
      (async () => (await openTelegramReply(env, target).startText()).finish(markdown))().catch((error) =>
        console.warn("telegram /molt reply failed:", error instanceof Error ? error.message : String(error)),
      ),
    );
    return new Response(null, { status: 200 });
  }
  return Response.json({
    method: "sendMessage",
    chat_id: target.chat_id,
    ...(target.thread_id ? { message_thread_id: target.thread_id } : {}),
    ...(target.reply_to ? { reply_parameters: { message_id: target.reply_to, allow_sending_without_reply: true } } : {}),
    text: markdownToTelegramHtml(markdown),
    parse_mode: "HTML",
  });
}

function commandMarkdown(reply: CommandReply): string {
  const title = `${reply.ok ? "" : "⚠️ "}**${reply.title.replace(/\*/g, "")}**`;
  return reply.text.trim() ? `${title}\n${reply.text.trim()}` : title;
}
