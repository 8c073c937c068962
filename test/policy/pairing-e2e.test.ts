/**
 * DM pairing end to end through the Slack emulator and the real gateway: a stranger's DM gets a
 * code and goes no further (no bridge turn, no model request), an admin approves the code with
 * `/molt pair approve`, and the stranger's next DM reaches the agent.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { policy } from "../../src/policy/policy-object";
import { directMessage, slash } from "../support/slack-admin";
import { eventually, slackMessages, uniqueChannel } from "../support/slack-relay";

async function modelHeard(words: string): Promise<boolean> {
  const response = await fetch(`${env.TEST_MODEL_URL}/_test/requests`);
  const { requests } = (await response.json()) as { requests: { words: string }[] };
  return requests.some((request) => request.words.includes(words));
}

/** Typed by hand: the RPC type of Turn is too deep for the compiler. */
const turnsOf = (key: string) => (conversation(env, key) as unknown as { turns(): Promise<Turn[]> }).turns();

const codeIn = (text: string) => /pairing code is `([A-Z0-9]{8})`/.exec(text)?.[1];

describe("DM pairing through Slack", () => {
  it("keeps a stranger away from the agent until an admin approves their code", async () => {
    const dm = uniqueChannel("D");
    const stranger = `U0STRANGE${crypto.randomUUID().slice(0, 4).toUpperCase()}`;
    const secretWords = `unpaired words ${crypto.randomUUID().slice(0, 8)}`;

    const first = await directMessage(dm, stranger, secretWords);
    expect(first.response.status).toBe(200);
    const notice = await eventually(async () => (await slackMessages(dm)).find((m) => codeIn(m.text)), 30_000, "the pairing code");
    const code = codeIn(notice.text)!;
    expect(code).toHaveLength(8);
    expect(notice.thread_ts).toBe(first.ts);

    // Asking again gives the same code, not a new request.
    await directMessage(dm, stranger, `${secretWords} again`);
    await eventually(async () => (await slackMessages(dm)).filter((m) => codeIn(m.text)).length === 2, 30_000, "the second notice");
    expect(new Set((await slackMessages(dm)).map((m) => codeIn(m.text)).filter(Boolean))).toEqual(new Set([code]));

    // Nothing reached the bridge, so nothing could reach the gateway or wake the container.
    const key = `slack:T0TESTTEAM:${dm}`;
    expect(await turnsOf(key)).toEqual([]);
    expect(await modelHeard(secretWords)).toBe(false);
    expect((await policy(env).pairings()).map((request) => request.sender)).toContain(`slack:${stranger}`);

    // A non-admin can't approve it (the stranger least of all).
    const refused = await slash(`pair approve ${code}`, { user: stranger, channel: dm });
    expect(refused.shown).toMatch(/admins only/);
    expect((await policy(env).pairings()).map((request) => request.code)).toContain(code);

    // The admin approves it; the stranger is told.
    const approved = await slash(`pair approve ${code.toLowerCase()}`);
    expect(approved.shown).toMatch(new RegExp(`Approved .*slack:${stranger}`));
    await eventually(async () => (await slackMessages(dm)).find((m) => /You're approved/.test(m.text)), 30_000, "the approval notice");
    expect((await policy(env).pairings()).map((request) => request.code)).not.toContain(code);

    // Now the stranger's DMs reach the agent; the first ones were never stored, so never answered.
    const later = await directMessage(dm, stranger, "hello after pairing");
    const reply = await eventually(async () => (await slackMessages(dm)).find((m) => m.thread_ts === later.ts && !m.streaming && m.text.includes("Echo: hello after pairing")), 90_000, "the agent's reply");
    expect(reply).toBeDefined();
    const turns = await turnsOf(key);
    expect(turns.map((turn) => turn.message.text)).toEqual(["hello after pairing"]);
    expect(await modelHeard(secretWords)).toBe(false);
  });

  it("lets an admin DM the agent without pairing", async () => {
    const dm = uniqueChannel("D");
    const { ts } = await directMessage(dm, "U0ADMIN", "admin says hi");
    await eventually(async () => (await slackMessages(dm)).find((m) => m.thread_ts === ts && !m.streaming && m.text.includes("Echo: admin says hi")), 90_000, "the reply");
    expect((await slackMessages(dm)).some((m) => codeIn(m.text))).toBe(false);
  });
});
