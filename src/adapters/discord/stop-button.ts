/**
 * Discord's stop control: a Stop button (a message component) on the streaming answer. While a
 * turn runs, the answer's newest message carries an action row with one button whose custom_id
 * names the turn (`molt:stop:<ref>`); it is taken off when the turn ends. A turn that shows no
 * text for a moment (a long browse) gets a quiet "working" message with the button instead, which
 * the answer then takes over (it is edited into the answer's first message), so the button is
 * there from early on. A press comes back as a MESSAGE_COMPONENT interaction (parse.ts).
 *
 * The reply sink and the stop control of one turn are opened separately (the contract keeps them
 * apart); here they share the turn's button through the reply target they were both opened for.
 * Best-effort: a failure here never fails the turn.
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import type { ReplyTarget, StopCapable, StopControl } from "../types";
import { type DiscordApiConfig, discordApiConfig, discordRequest } from "./api";
import type { DiscordReplyTarget } from "./parse";

export const STOP_CUSTOM_ID_PREFIX = "molt:stop:";
export const stopCustomId = (ref: string) => `${STOP_CUSTOM_ID_PREFIX}${ref}`;
export const WORKING_TEXT = "⏳ Working on it…";
export const STOP_BUTTON_LABEL = "Stop";
/** How long a turn runs without text before its "working" message with the button shows. */
export const STOP_BUTTON_DELAY_MS = 2_000;

/** Component types and the button style (Discord's numbers). */
const ACTION_ROW = 1;
const BUTTON = 2;
const DANGER = 4;

/** The message components of a Stop button for the run `ref`. */
export function stopComponents(ref: string) {
  return [{ type: ACTION_ROW, components: [{ type: BUTTON, style: DANGER, label: STOP_BUTTON_LABEL, emoji: { name: "⏹️" }, custom_id: stopCustomId(ref) }] }];
}

/** One turn's button, shared by its reply sink and its stop control. */
export interface TurnButton {
  /** The run the button stops, while it is offered. */
  ref?: string;
  /** The message carrying the button; `working` while it is the placeholder, not yet the answer. */
  message?: { id: string; working: boolean };
  /** A placeholder being posted: the answer waits for it, so that it takes it over. */
  posting?: Promise<void>;
  /** The answer's first message is being posted (with the button): no placeholder any more. */
  answering?: boolean;
}

const buttons = new WeakMap<ReplyTarget, TurnButton>();

/** The button of the turn whose replies go to `target` (the same object for the sink and the control). */
export function turnButton(target: ReplyTarget): TurnButton {
  let found = buttons.get(target);
  if (!found) buttons.set(target, (found = {}));
  return found;
}

export const discordStop: StopCapable = {
  // The button carries the turn number: a press on an old button never stops a newer turn.
  stopRef: (_target, seq) => String(seq),
  openStopControl: (env, target) => openDiscordStopButton(env, target as DiscordReplyTarget),
};

export interface StopButtonOptions {
  api?: Partial<DiscordApiConfig>;
  log?: (message: string) => void;
  delayMs?: number;
}

export function openDiscordStopButton(env: Env, target: DiscordReplyTarget, options: StopButtonOptions = {}): StopControl {
  const config = discordApiConfig(env, options.api);
  // Never wait out a long rate limit for the button: one try.
  const once = { ...config, retry: { ...config.retry, attempts: 1 } };
  const log = options.log ?? ((message: string) => console.warn(message));
  const button = turnButton(target);
  const channelPath = `/channels/${target.channel_id}/messages`;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function showWorking(ref: string): Promise<void> {
    if (button.message || button.answering || button.ref !== ref) return;
    try {
      const reference = target.reply_to ? { message_reference: { message_id: target.reply_to, channel_id: target.channel_id, fail_if_not_exists: false } } : {};
      const message = await discordRequest<{ id: string }>(once, "POST", channelPath, {
        json: { content: WORKING_TEXT, components: stopComponents(ref), ...reference, allowed_mentions: { parse: [], replied_user: false }, flags: SUPPRESS_NOTIFICATIONS },
      });
      button.message = { id: message.id, working: true };
    } catch (error) {
      log(`discord stop button: ${describe(error)}`);
    }
  }

  return {
    async running({ ref }) {
      button.ref = ref;
      if (timer || button.message) return;
      timer = setTimeout(() => void (button.posting = showWorking(ref)), options.delayMs ?? STOP_BUTTON_DELAY_MS);
    },
    async ended() {
      clearTimeout(timer);
      timer = undefined;
      button.ref = undefined;
      await button.posting;
      button.posting = undefined;
      const message = button.message;
      button.message = undefined;
      if (!message) return;
      try {
        // A placeholder that never became the answer goes; an answer keeps its text, without the button.
        if (message.working) await discordRequest(config, "DELETE", `${channelPath}/${message.id}`, { idempotent: true });
        else await takeButtonOff(config, target, message.id);
      } catch (error) {
        log(`discord stop button: ${describe(error)}`);
      }
    },
  };
}

/** `SUPPRESS_NOTIFICATIONS`: the placeholder doesn't notify anyone. */
const SUPPRESS_NOTIFICATIONS = 1 << 12;

/** Remove the button from a message, leaving its text as it is. */
export function takeButtonOff(config: DiscordApiConfig, target: DiscordReplyTarget, id: string): Promise<unknown> {
  return discordRequest(config, "PATCH", `/channels/${target.channel_id}/messages/${id}`, { json: { components: [] }, idempotent: true });
}

function describe(error: unknown): string {
  return error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
}
