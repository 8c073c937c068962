/**
 * End to end through the real parts: a Telegram DM update goes to the Worker's webhook with the
 * secret header, the bridge stores it and runs a turn on the REAL OpenClaw gateway (stand-in
 * model), and the reply arrives at the Bot API emulator: a typing indicator, drafts, the final
 * message, and the agent's picture uploaded from R2 with sendPhoto.
 *
 * DMs follow the default policy, `pairing`: the DM tests' users are allowed first, through the
 * policy's public `allowSender` (what `/molt allow` does), and a stranger gets a pairing code that
 * the test config's Telegram admin approves with `/molt pair approve`.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { telegramAdapter } from "../../src/adapters/telegram";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { intakeHolds, sweepIntakeKeys } from "../support/intake-keys";
import { eventually } from "../support/slack-relay";
import { isStopButtonCall } from "../support/stop";
import { allowedChatId, postUpdate, privateText, telegramCalls, telegramChat, uniqueChatId, webhookRequest } from "../support/telegram-relay";

const finalText = (chat: number, needle: string) => async () =>
  (await telegramChat(chat)).messages.find((m) => m.kind === "text" && m.text.includes(needle));

describe("Telegram DM → bridge → real gateway → Telegram", () => {
  it("answers a DM with a streamed reply and the agent's picture, streamed from R2", async () => {
    const user = await allowedChatId();
    const response = await postUpdate(privateText(user, "send me a picture please"));
    expect(response.status).toBe(200);

    const reply = await eventually(finalText(user, "Here is the picture"), 90_000, "the final reply");
    expect(reply.html).not.toBeNull();
    const photo = await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "photo"),
      90_000,
      "the photo",
      async () => (await telegramCalls(user)).map(({ method, status, response, files }) => ({ method, status, response, files })),
    );

    // The Stop button (stop-e2e.test.ts) may show while a slow first turn runs: not counted here.
    const calls = (await telegramCalls(user)).filter((call) => !isStopButtonCall(call));
    const methods = calls.map((call) => call.method);
    // Typing first, drafts while the answer grew, then one final message, then the photo.
    expect(methods[0]).toBe("sendChatAction");
    expect(methods).toContain("sendMessageDraft");
    expect(methods.lastIndexOf("sendMessageDraft")).toBeLessThan(methods.indexOf("sendMessage"));
    expect(methods.filter((m) => m === "sendMessage")).toHaveLength(1);
    expect(methods.indexOf("sendPhoto")).toBeGreaterThan(methods.indexOf("sendMessage"));

    // The uploaded bytes are the object stored in R2, and they came as a streamed (chunked) body.
    const upload = calls.find((call) => call.method === "sendPhoto")!;
    expect(upload.chunked).toBe(true);
    const stored = await env.MEDIA.list({ prefix: `media/telegram:${user}/` });
    expect(stored.objects).toHaveLength(1);
    const object = await env.MEDIA.get(stored.objects[0]!.key);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await object!.arrayBuffer()))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(photo.file).toMatchObject({ bytes: stored.objects[0]!.size, sha256: digest });
  });

  it("answers a redelivered update once, whichever layer recognises it", async () => {
    const user = await allowedChatId();
    const update = privateText(user, "only once please");
    expect((await postUpdate(update)).status).toBe(200);
    // The intake recognises this one.
    expect((await postUpdate(update)).status).toBe(200);
    await eventually(finalText(user, "Echo: only once please"), 90_000, "the reply");

    // One that comes after the intake swept its keys gets past it: the bridge alone must recognise it.
    const [event] = (await telegramAdapter.receive(webhookRequest(update), env, Date.now())).events;
    await sweepIntakeKeys(event!);
    expect((await postUpdate(update)).status).toBe(200);
    expect((await intakeHolds(event!)).keys).toBe(event!.dedupeKeys.length);
    await eventually(async () => (await intakeHolds(event!)).pending === 0, 30_000, "the hand-over to the bridge");

    // A follow-up in the same chat is answered after any duplicate would have been.
    await postUpdate(privateText(user, "and a follow-up"));
    await eventually(finalText(user, "Echo: and a follow-up"), 90_000, "the follow-up");
    const answers = (await telegramChat(user)).messages.filter((m) => m.text.includes("Echo: only once please"));
    expect(answers).toHaveLength(1);
    const turns = await (conversation(env, event!.conversation) as unknown as { turns(): Promise<Turn[]> }).turns();
    expect(turns.map((turn) => turn.message.text)).toEqual(["and a follow-up", "only once please"]);
  });
});

describe("a stranger's DM under the pairing policy", () => {
  /** An admin in the test config's ADMINS. */
  const admin = 424242;

  it("gets a pairing code, reaches the agent only after an admin approves it", async () => {
    const stranger = uniqueChatId();
    expect((await postUpdate(privateText(stranger, "hello, who are you?"))).status).toBe(200);

    const notice = await eventually(finalText(stranger, "pairing code"), 30_000, "the pairing notice");
    const code = /`?([A-Z0-9]{8})`?/.exec(notice.text.split("pairing code is")[1] ?? "")?.[1];
    expect(code).toBeDefined();
    // Refused at the edge: nothing stored in a bridge, so nothing reached the gateway.
    const bridge = conversation(env, `telegram:${stranger}`) as unknown as { turns(): Promise<unknown[]> };
    expect(await bridge.turns()).toEqual([]);

    // The admin approves it from their own DM; the answer comes in the webhook's response.
    const approval = await postUpdate(privateText(admin, `/molt pair approve ${code}`));
    const answer = (await approval.json()) as { method: string; chat_id: number; text: string };
    expect(answer).toMatchObject({ method: "sendMessage", chat_id: admin });
    expect(answer.text).toMatch(new RegExp(`Approved .*telegram:${stranger}`));
    await eventually(finalText(stranger, "You're approved"), 30_000, "the approval notice");

    expect((await postUpdate(privateText(stranger, "hello again"))).status).toBe(200);
    await eventually(finalText(stranger, "Echo: hello again"), 90_000, "the answer after approval");
    expect((await telegramChat(stranger)).messages.some((m) => m.text.includes("Echo: hello, who are you?"))).toBe(false);
  });
});
