/**
 * Sending, editing and drafting one message of at most 4,096 characters of Markdown, as Telegram
 * HTML, with the one fallback that keeps a reply from being lost: when Telegram can't parse the
 * markup, the same call goes again with the Markdown as plain text.
 */
import type { MessageEditor } from "../edit-stream";
import { isEntityParseError, markdownToTelegramHtml } from "./format";
import { isNotModified, type TelegramCall } from "./api";
import type { TelegramReplyTarget } from "./parse";

export interface TelegramMessages extends MessageEditor {
  /** Show `text` as the draft `draftId` (private chats only); drafts vanish once a message is sent. */
  draft(draftId: number, text: string): Promise<void>;
  /** Send ready-made HTML, with `plain` as the fallback text. */
  postHtml(html: string, plain: string): Promise<string>;
}

export function telegramMessages(call: TelegramCall, target: TelegramReplyTarget): TelegramMessages {
  const where = {
    chat_id: target.chat_id,
    ...(target.thread_id ? { message_thread_id: target.thread_id } : {}),
  };
  /** In groups the first message of the answer replies to the question; the rest follow it. */
  let replyPending = target.reply_to !== null;

  async function withPlainFallback<T>(html: string, plain: string, send: (text: string, html: boolean) => Promise<T>): Promise<T> {
    try {
      return await send(html, true);
    } catch (error) {
      if (!isEntityParseError(error)) throw error;
      return send(plain, false);
    }
  }

  async function postHtml(html: string, plain: string): Promise<string> {
    const reply = replyPending && target.reply_to ? { reply_parameters: { message_id: target.reply_to, allow_sending_without_reply: true } } : {};
    const message = await withPlainFallback(html, plain, (text, isHtml) =>
      call("sendMessage", { ...where, ...reply, text, ...(isHtml ? { parse_mode: "HTML" as const } : {}) }),
    );
    replyPending = false;
    return String(message.message_id);
  }

  return {
    postHtml,
    post: (text) => postHtml(markdownToTelegramHtml(text), text),
    async edit(id, text) {
      try {
        await withPlainFallback(markdownToTelegramHtml(text), text, (body, isHtml) =>
          call(
            "editMessageText",
            { chat_id: target.chat_id, message_id: Number(id), text: body, ...(isHtml ? { parse_mode: "HTML" as const } : {}) },
            { idempotent: true },
          ),
        );
      } catch (error) {
        if (!isNotModified(error)) throw error;
      }
    },
    async draft(draftId, text) {
      await withPlainFallback(markdownToTelegramHtml(text), text, (body, isHtml) =>
        call(
          "sendMessageDraft",
          { ...where, chat_id: target.chat_id, draft_id: draftId, text: body, ...(isHtml ? { parse_mode: "HTML" as const } : {}) },
          { idempotent: true },
        ),
      );
    },
  };
}
