/**
 * Telegram webhook authenticity: `setWebhook` was given a `secret_token`, and Telegram sends it back
 * in `X-Telegram-Bot-Api-Secret-Token` on every update. There is no signature over the body, so the
 * header is the whole check; it is compared in constant time (both sides hashed first, so that
 * neither the content nor the length of the secret leaks through timing).
 */
import { VerificationError } from "../../errors";
import { parseJson, parseShape } from "../schema";
import { type TelegramUpdate, telegramUpdate } from "./schema";

export const TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token";

const encoder = new TextEncoder();

export async function verifyTelegramRequest(headers: Headers, secret: string): Promise<void> {
  const given = headers.get(TELEGRAM_SECRET_HEADER);
  if (!given) throw new VerificationError("missing Telegram secret token");
  const [a, b] = await Promise.all([digest(given), digest(secret)]);
  if (!crypto.subtle.timingSafeEqual(a, b)) throw new VerificationError("Telegram secret token does not match");
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** The JSON of one update, checked against Telegram's shape; anything else is a 400. */
export function parseUpdateBody(body: string): TelegramUpdate {
  return parseShape(telegramUpdate, parseJson(body, "Telegram update"), "Telegram update");
}
