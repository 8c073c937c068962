/**
 * Stopping runs in tests: pressing Slack's session stop button and Telegram's Stop button at the
 * emulators (which only let a user press a button that is there), posting what the platform would
 * deliver to the relay, and reading what the stand-in model says about its requests.
 */
import { env, SELF } from "cloudflare:test";
import { WORKING_TEXT } from "../../src/adapters/telegram/stop-button";
import { signedSlackRequest } from "./slack-sign";
import type { TelegramCallRecord } from "./telegram-relay";
import { postUpdate } from "./telegram-relay";

const slackControl = () => `${new URL(env.SLACK_API_URL!).origin}/_emulator/`;
const telegramControl = () => `${env.TELEGRAM_API_URL}/_emulator/`;

export interface SlackSession {
  status: string | null;
  title: string | null;
  history: string[];
}

export async function slackSessions(channel: string): Promise<{ sessions: Record<string, SlackSession>; suggested: Record<string, { title: string | null; prompts: { title: string; message: string }[] }> }> {
  return (await (await fetch(`${slackControl()}sessions?channel=${channel}`)).json()) as never;
}

/** Let the app subscribe to other events in `channel` (default: manifest.yml's). */
export async function slackAppEvents(channel: string, botEvents: string[]): Promise<void> {
  const response = await fetch(`${slackControl()}app?channel=${channel}`, { method: "POST", body: JSON.stringify({ bot_events: botEvents }) });
  if (!response.ok) throw new Error(`emulator: ${response.status}`);
}

/**
 * `user` presses the stop button of the thread's session; the event Slack sends goes to the
 * relay. `force`: a press that crossed the answer's end (the button was still on screen).
 */
export async function pressSlackStop(channel: string, threadTs: string, user: string, force = false): Promise<Response> {
  const pressed = await fetch(`${slackControl()}press_stop?channel=${channel}`, { method: "POST", body: JSON.stringify({ thread_ts: threadTs, user, force }) });
  const body = (await pressed.json()) as { ok: boolean; event?: object; error?: string };
  if (!body.ok || !body.event) throw new Error(`no stop button to press: ${body.error}`);
  return SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", body.event));
}

/** The Stop button message in a Telegram chat, if one is shown. */
export function isStopButtonCall(call: Pick<TelegramCallRecord, "method" | "body">): boolean {
  return (call.method === "sendMessage" && call.body.text === WORKING_TEXT) || call.method === "deleteMessage";
}

/** `userId` presses the Stop button on `messageId`; the update Telegram sends goes to the relay. */
export async function pressTelegramStop(chatId: number, messageId: number, userId: number): Promise<Response> {
  const pressed = await fetch(`${telegramControl()}press?chat_id=${chatId}`, { method: "POST", body: JSON.stringify({ message_id: messageId, user_id: userId }) });
  const body = (await pressed.json()) as { ok: boolean; update?: object; description?: string };
  if (!body.ok || !body.update) throw new Error(`no button to press: ${body.description}`);
  return postUpdate(body.update);
}

export interface ModelRequest {
  at: number;
  words: string;
  cutOff: boolean;
  finished: boolean;
}

/** What the stand-in model was asked, and whether each streamed answer was cut off. */
export async function modelRequests(needle: string): Promise<ModelRequest[]> {
  const { requests } = (await (await fetch(`${env.TEST_MODEL_URL}/_test/requests`)).json()) as { requests: ModelRequest[] };
  return requests.filter((request) => request.words.includes(needle));
}
