/**
 * What the adapter knows about its own bot, from configuration alone: parsing an update must not
 * call `getMe` (it runs before Telegram has been answered, in every fresh isolate). The id is the
 * part of the token before the colon; the @username comes from TELEGRAM_BOT_USERNAME, which
 * `npm run setup` prints.
 */
import type { Env } from "../../env";

export interface TelegramBotInfo {
  /** 0 when the token is missing or malformed: nothing then counts as a reply to the bot. */
  id: number;
  /** Without the `@`, lower-cased; undefined when not configured (mentions then go unnoticed). */
  username?: string;
}

/** Which group messages reach the agent. */
export type GroupMode = "mention" | "all" | "off";

export function telegramBotInfo(env: Env): TelegramBotInfo {
  const id = Number(/^(\d+):/.exec(env.TELEGRAM_BOT_TOKEN ?? "")?.[1] ?? 0);
  const username = env.TELEGRAM_BOT_USERNAME?.trim().replace(/^@/, "").toLowerCase() || undefined;
  return { id: Number.isSafeInteger(id) ? id : 0, username };
}

export function groupMode(env: Env): GroupMode {
  const mode = env.TELEGRAM_GROUP_MODE?.trim().toLowerCase();
  return mode === "all" || mode === "off" ? mode : "mention";
}
