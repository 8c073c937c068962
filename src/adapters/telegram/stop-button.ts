/**
 * Telegram's stop control: while a turn runs, a quiet "working" message with a Stop button (an
 * inline keyboard) sits in the chat; it goes away when the turn ends. It is a message of its own
 * rather than a keyboard on the answer because private chats stream the answer as a draft, which
 * carries no keyboard, and a long browse shows no answer at all until it has one: the button must
 * be there from the start. Best-effort: a failure here never fails the turn.
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import type { StopCapable, StopControl } from "../types";
import { type TelegramApiConfig, telegramApiConfig, telegramClient } from "./api";
import { stopButtonData } from "./callback";
import type { TelegramReplyTarget } from "./parse";

export const WORKING_TEXT = "⏳ Working on it…";
export const STOP_BUTTON_TEXT = "⏹ Stop";

export const telegramStop: StopCapable = {
  // The button carries the turn number: a press on an old button never stops a newer turn.
  stopRef: (_target, seq) => String(seq),
  openStopControl: (env, target) => openTelegramStopButton(env, target as TelegramReplyTarget),
};

export interface StopButtonOptions {
  api?: Partial<TelegramApiConfig>;
  log?: (message: string) => void;
}

export function openTelegramStopButton(env: Env, target: TelegramReplyTarget, options: StopButtonOptions = {}): StopControl {
  const config = telegramApiConfig(env, options.api);
  // Never wait out a long rate limit for the button: one try.
  const call = telegramClient({ ...config, retry: { ...config.retry, attempts: 1 } });
  const log = options.log ?? ((message: string) => console.warn(message));
  let shown: number | undefined;

  return {
    async running({ ref }) {
      if (shown !== undefined) return;
      try {
        const message = await call("sendMessage", {
          chat_id: target.chat_id,
          ...(target.thread_id ? { message_thread_id: target.thread_id } : {}),
          text: WORKING_TEXT,
          disable_notification: true,
          reply_markup: { inline_keyboard: [[{ text: STOP_BUTTON_TEXT, callback_data: stopButtonData(ref) }]] },
        });
        shown = message.message_id;
      } catch (error) {
        log(`telegram stop button: ${describe(error)}`);
      }
    },
    async ended() {
      const id = shown;
      shown = undefined;
      if (id === undefined) return;
      try {
        await call("deleteMessage", { chat_id: target.chat_id, message_id: id }, { idempotent: true });
      } catch (error) {
        log(`telegram stop button: ${describe(error)}`);
      }
    },
  };
}

function describe(error: unknown): string {
  return error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
}
