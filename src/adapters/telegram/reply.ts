/**
 * The Telegram ReplySink: a "typing…" indicator kept alive while the agent works, streamed
 * answers (drafts in private chats, post-and-edit elsewhere), files from R2 and relay notices.
 *
 * Telegram shows `typing` for ~5 s only, and the bridge sets a status once per phase, so the sink
 * repeats it itself every `statusRefreshMs` until the answer is finished, a file is posted, the
 * status is cleared, or `maxStatusMs` passes without a new status (a turn left for a retry must
 * not keep a timer alive forever).
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import { createEditStream } from "../edit-stream";
import type { MediaItem, PlatformLimits, ReplySink, TextStream } from "../types";
import { type TelegramApiConfig, telegramApiConfig, telegramClient } from "./api";
import { markdownToTelegramHtml, TELEGRAM_TEXT_LIMIT } from "./format";
import { mediaLinkHtml, TELEGRAM_UPLOAD_LIMIT, uploadMedia } from "./media";
import { telegramMessages } from "./messages";
import type { TelegramReplyTarget } from "./parse";
import { createDraftStream } from "./stream";

export const telegramLimits: PlatformLimits = {
  maxTextLength: TELEGRAM_TEXT_LIMIT,
  // ~1 message per second per chat; sends and edits share that budget.
  minEditIntervalMs: 1_100,
  maxUploadBytes: TELEGRAM_UPLOAD_LIMIT,
  // `typing` lasts ~5 s.
  statusRefreshMs: 4_000,
};

/** Groups allow ~20 messages a minute. */
export const GROUP_EDIT_INTERVAL_MS = 3_000;
export const DEFAULT_MAX_STATUS_MS = 10 * 60_000;

export interface TelegramReplyOptions {
  /** Overrides for the API client: `fetch`, `retry`, `apiRoot`, `token`. */
  api?: Partial<TelegramApiConfig>;
  limits?: PlatformLimits;
  now?: () => number;
  /** Least time between edits in groups (private chats use `limits.minEditIntervalMs`). */
  groupEditIntervalMs?: number;
  /** Least time between drafts; defaults to `limits.minEditIntervalMs`. */
  draftIntervalMs?: number;
  maxStatusMs?: number;
  /** Where best-effort failures are reported. Never given a token or a request body. */
  log?: (message: string) => void;
}

export function openTelegramReply(env: Env, target: TelegramReplyTarget, options: TelegramReplyOptions = {}): ReplySink {
  const config = telegramApiConfig(env, options.api);
  const limits = options.limits ?? telegramLimits;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => console.warn(message));
  const call = telegramClient(config);
  // The indicator is best-effort: never wait out a 429 for it.
  const callOnce = telegramClient({ ...config, retry: { ...config.retry, attempts: 1 } });
  const messages = telegramMessages(call, target);
  const isPrivate = target.chat_type === "private";
  /** Once Telegram refuses drafts here, later answers in this turn go straight to post-and-edit. */
  let draftsRefused = !isPrivate;

  let typing: ReturnType<typeof setInterval> | undefined;
  let typingUntil = 0;

  async function sendTyping(): Promise<void> {
    const where = { chat_id: target.chat_id, ...(target.thread_id ? { message_thread_id: target.thread_id } : {}) };
    await callOnce("sendChatAction", { ...where, action: "typing" }, { idempotent: true }).catch((error) => log(describe("typing", error)));
  }

  function stopTyping(): void {
    if (typing) clearInterval(typing);
    typing = undefined;
  }

  const editStream = (): TextStream =>
    createEditStream(
      messages,
      { maxTextLength: limits.maxTextLength, minEditIntervalMs: isPrivate ? limits.minEditIntervalMs : (options.groupEditIntervalMs ?? GROUP_EDIT_INTERVAL_MS) },
      { now: options.now, onError: (error) => log(describe("edit", error)) },
    );

  /** The answer ends the "typing…" indicator when it is complete. */
  const stoppingTyping = (stream: TextStream): TextStream => ({
    update: (text) => stream.update(text),
    finish: (text) => stream.finish(text).finally(stopTyping),
    abort: (note) => stream.abort(note).finally(stopTyping),
  });

  async function postLink(media: MediaItem, reason: string): Promise<void> {
    const { html, plain } = mediaLinkHtml(media, reason);
    await messages.postHtml(html, plain);
  }

  return {
    async setStatus() {
      typingUntil = now() + (options.maxStatusMs ?? DEFAULT_MAX_STATUS_MS);
      await sendTyping();
      if (typing || limits.statusRefreshMs <= 0) return;
      typing = setInterval(() => {
        if (now() > typingUntil) stopTyping();
        else void sendTyping();
      }, limits.statusRefreshMs);
    },
    async clearStatus() {
      // Telegram clears `typing` itself when a message arrives; just stop repeating it.
      stopTyping();
    },
    async startText() {
      if (draftsRefused) return stoppingTyping(editStream());
      const draftStream = createDraftStream(
        messages,
        (refusal) => {
          draftsRefused = true;
          log(describe("drafts refused, using editMessageText", refusal));
          return editStream();
        },
        {
          now: options.now,
          intervalMs: options.draftIntervalMs ?? limits.minEditIntervalMs,
          maxTextLength: limits.maxTextLength,
          onError: (error) => log(describe("draft", error)),
        },
      );
      return stoppingTyping(draftStream);
    },
    async postMedia(media) {
      stopTyping();
      if (media.size > limits.maxUploadBytes) return postLink(media, "it is too large to upload");
      try {
        await uploadMedia(call, target, media);
      } catch (error) {
        log(describe(`upload of ${media.name}`, error));
        await postLink(media, "the upload failed");
      }
    },
    async postNotice(text, kind) {
      if (kind === "error") stopTyping();
      const html = markdownToTelegramHtml(text);
      await messages.postHtml(kind === "error" ? `⚠️ <b>Error:</b> ${html}` : `ℹ️ ${html}`, `${kind === "error" ? "⚠️ Error: " : "ℹ️ "}${text}`);
    },
  };
}

function describe(what: string, error: unknown): string {
  const reason = error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
  return `telegram ${what}: ${reason}`;
}
