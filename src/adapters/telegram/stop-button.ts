/**
 * Telegram's stop control: while a turn runs, a quiet "working" message with a Stop button (an
 * inline keyboard) sits in the chat; it goes away when the turn ends. It is a message of its own
 * rather than a keyboard on the answer because private chats stream the answer as a draft, which
 * carries no keyboard, and a long browse shows no answer at all until it has one: the button must
 * be there from early on. It shows after `delayMs`, so a quick answer comes without one.
 * Best-effort: a failure here never fails the turn.
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import type { StopCapable, StopControl } from "../types";
import { type TelegramApiConfig, telegramApiConfig, telegramClient } from "./api";
import { stopButtonData } from "./callback";
import type { TelegramReplyTarget } from "./parse";

export const WORKING_TEXT = "⏳ Working on it…";
export const STOP_BUTTON_TEXT = "⏹ Stop";
/** How long a turn runs before its Stop button shows. */
export const STOP_BUTTON_DELAY_MS = 2_000;

export const telegramStop: StopCapable = {
  // The button carries the turn number: a press on an old button never stops a newer turn.
  stopRef: (_target, seq) => String(seq),
  openStopControl: (env, target) => openTelegramStopButton(env, target as TelegramReplyTarget),
};

export interface StopButtonOptions {
  api?: Partial<TelegramApiConfig>;
  log?: (message: string) => void;
  delayMs?: number;
}

export function openTelegramStopButton(env: Env, target: TelegramReplyTarget, options: StopButtonOptions = {}): StopControl {
  const config = telegramApiConfig(env, options.api);
  // Never wait out a long rate limit for the button: one try.
  const call = telegramClient({ ...config, retry: { ...config.retry, attempts: 1 } });
  const log = options.log ?? ((message: string) => console.warn(message));
  let shown: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the turn ended: a button still being posted is taken away again. */
  let over = false;
  let posting: Promise<void> | undefined;

  async function show(ref: string): Promise<void> {
    try {
      const message = await call("sendMessage", {
        chat_id: target.chat_id,
        ...(target.thread_id ? { message_thread_id: target.thread_id } : {}),
        text: WORKING_TEXT,
        disable_notification: true,
        reply_markup: { inline_keyboard: [[{ text: STOP_BUTTON_TEXT, callback_data: stopButtonData(ref) }]] },
      });
      shown = message.message_id;
      if (over) await remove();
    } catch (error) {
      log(`telegram stop button: ${describe(error)}`);
    }
  }

  async function remove(): Promise<void> {
    const id = shown;
    shown = undefined;
    if (id === undefined) return;
    try {
      await call("deleteMessage", { chat_id: target.chat_id, message_id: id }, { idempotent: true });
    } catch (error) {
      log(`telegram stop button: ${describe(error)}`);
    }
  }

  return {
    async running({ ref }) {
      if (timer || shown !== undefined) return;
      over = false;
      timer = setTimeout(() => void (posting = show(ref)), options.delayMs ?? STOP_BUTTON_DELAY_MS);
    },
    async ended() {
      over = true;
      clearTimeout(timer);
      timer = undefined;
      await posting;
      await remove();
    },
  };
}

function describe(error: unknown): string {
  return error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
}
