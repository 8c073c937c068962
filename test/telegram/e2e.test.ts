/**
 * End to end through the real parts: a Telegram DM update goes to the Worker's webhook with the
 * secret header, the bridge stores it and runs a turn on the REAL OpenClaw gateway (stand-in
 * model), and the reply arrives at the Bot API emulator: a typing indicator, drafts, the final
 * message, and the agent's picture uploaded from R2 with sendPhoto.
 *
 * The test config sets `DM_POLICY=telegram:open`, so these DMs reach the bridge; the pairing flow
 * for a stranger runs with `pairing` in force and a Telegram admin (the same app, another env).
 */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { TELEGRAM_SECRET_HEADER } from "../../src/adapters/telegram/verify";
import { conversation } from "../../src/bridge/conversation-object";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { policy } from "../../src/policy/policy-object";
import { eventually } from "../support/slack-relay";
import { isStopButtonCall } from "../support/stop";
import { expectNoUnmatchedTelegramCalls, postUpdate, privateText, telegramCalls, telegramChat, uniqueChatId } from "../support/telegram-relay";

afterAll(expectNoUnmatchedTelegramCalls);

const finalText = (chat: number, needle: string) => async () =>
  (await telegramChat(chat)).messages.find((m) => m.kind === "text" && m.text.includes(needle));

describe("Telegram DM → bridge → real gateway → Telegram", () => {
  it("answers a DM with a streamed reply and the agent's picture, streamed from R2", async () => {
    const user = uniqueChatId();
    const response = await postUpdate(privateText(user, "send me a picture please"));
    expect(response.status).toBe(200);

    const reply = await eventually(finalText(user, "Here is the picture"), 90_000, "the final reply");
    expect(reply.html).not.toBeNull();
    const photo = await eventually(
      async () => (await telegramChat(user)).messages.find((m) => m.kind === "photo"),
      30_000,
      "the photo",
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

  it("answers a redelivered update once", async () => {
    const user = uniqueChatId();
    const update = privateText(user, "only once please");
    expect((await postUpdate(update)).status).toBe(200);
    expect((await postUpdate(update)).status).toBe(200);
    await eventually(finalText(user, "Echo: only once please"), 90_000, "the reply");
    // A follow-up in the same chat is answered after any duplicate would have been.
    await postUpdate(privateText(user, "and a follow-up"));
    await eventually(finalText(user, "Echo: and a follow-up"), 90_000, "the follow-up");
    const answers = (await telegramChat(user)).messages.filter((m) => m.text.includes("Echo: only once please"));
    expect(answers).toHaveLength(1);
  });
});

describe("a stranger's DM under the pairing policy", () => {
  /** An admin in the test config's ADMINS (commands from chat run in objects of their own, with that env). */
  const admin = 424242;
  const pairingEnv = { ...env, DM_POLICY: "telegram:pairing" };

  async function post(update: unknown): Promise<Response> {
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request("https://relay.test/telegram/webhook", {
        method: "POST",
        headers: { "content-type": "application/json", [TELEGRAM_SECRET_HEADER]: env.TELEGRAM_WEBHOOK_SECRET! },
        body: JSON.stringify(update),
      }),
      pairingEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  }

  /**
   * The policy object reads DM_POLICY from its own env, which the test config pins to
   * `telegram:open`: switch the live instance to `pairing` for this test, and back after it.
   */
  async function withPairingPolicy(run: () => Promise<void>): Promise<void> {
    const stub = policy(env);
    let original: Env | undefined;
    await runInDurableObject(stub, (instance) => {
      const object = instance as unknown as { env: Env };
      original = object.env;
      object.env = { ...object.env, DM_POLICY: pairingEnv.DM_POLICY };
    });
    try {
      await run();
    } finally {
      await runInDurableObject(stub, (instance) => void ((instance as unknown as { env: Env }).env = original!));
    }
  }

  it("gets a pairing code, reaches the agent only after an admin approves it", () => withPairingPolicy(async () => {
    const stranger = uniqueChatId();
    expect((await post(privateText(stranger, "hello, who are you?"))).status).toBe(200);

    const notice = await eventually(finalText(stranger, "pairing code"), 10_000, "the pairing notice");
    const code = /`?([A-Z0-9]{8})`?/.exec(notice.text.split("pairing code is")[1] ?? "")?.[1];
    expect(code).toBeDefined();
    // Refused at the edge: nothing stored in a bridge, so nothing reached the gateway.
    const bridge = conversation(env, `telegram:${stranger}`) as unknown as { turns(): Promise<unknown[]> };
    expect(await bridge.turns()).toEqual([]);

    const approval = await post(privateText(admin, `/molt pair approve ${code}`));
    const answer = (await approval.json()) as { method: string; chat_id: number; text: string };
    expect(answer).toMatchObject({ method: "sendMessage", chat_id: admin });
    expect(answer.text).not.toMatch(/⚠️/);

    expect((await post(privateText(stranger, "hello again"))).status).toBe(200);
    await eventually(finalText(stranger, "Echo: hello again"), 90_000, "the answer after approval");
    expect((await telegramChat(stranger)).messages.some((m) => m.text.includes("Echo: hello, who are you?"))).toBe(false);
  }));
});
