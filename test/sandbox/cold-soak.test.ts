/**
 * A small seeded soak of the cold path: exactly once under fire, with the agent's container cold
 * and then gone. Messages across Slack threads and Telegram chats (DMs and a group) are sent while
 * the container is stopped (one cold start under a burst), some delivered twice as the platforms
 * retry; more are sent once answers stream; then the container dies under the streaming answers
 * (the host kills it: its processes and disk are gone) and the rest are sent while it is away, so
 * that the turns left must wait for a second cold start. At the end every message must have
 * exactly one final answer carrying its own marker, in full, and any partial text must carry the
 * relay's interruption mark.
 *
 * The plan (which conversation, slow or not, which deliveries are repeated and when) comes from
 * SEED; the conversations' ids are fresh per run. The judge follows the chaos soak's
 * (test/chaos/run.ts), reading what the emulators show a user.
 */
import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { SANDBOX_ID } from "../../src/sandbox/transport";
import { rng } from "../fuzz/generate";
import { agentStats, GATEWAY_ID, stoppedAgent } from "../support/agent";
import { containerLogs, expectNoUnmatchedContainerCalls, host, sandboxObjectId } from "../support/container";
import { signedSlackRequest } from "../support/slack-sign";
import { eventually, slackCalls, slackMessages, uniqueChannel } from "../support/slack-relay";
import { allowedChatId, nextUpdateId, postUpdate, telegramCalls, telegramChat, uniqueChatId } from "../support/telegram-relay";

const SEED = 2_611;
/** Two cold starts on a busy two-core machine, and the answers queued behind them. */
const BUDGET_MS = 900_000;
const MARK = "the connection to the agent was lost, retrying…";
const NOTICE = "The agent was interrupted. Retrying your message…";
const INTERRUPTED = /interrupted|connection to the agent was lost|retrying/i;
/**
 * What the relay may show that carries no message's marker: the interruption mark (on a partial
 * answer cut before the marker), its notices, and Telegram's Stop button message.
 */
const RELAY_NOTICES = [MARK, NOTICE, "The agent isn't reachable right now.", "⏳ Working on it…"];

interface Conversation {
  platform: "slack" | "telegram";
  /** Slack channel, or Telegram chat id. */
  id: string;
  threadTs?: string;
  group?: boolean;
}

/** cold: sent while the container is stopped; streaming: once answers come; away: after it died. */
type Phase = "cold" | "streaming" | "away";

interface Planned {
  index: number;
  marker: string;
  conversation: Conversation;
  phase: Phase;
  words: string;
  expected: string[];
  /** Delivered again this many ms after the first delivery was acknowledged. */
  duplicateAfter?: number;
  ts: string;
  eventId: string;
  updateId: number;
  messageId: number;
}

const PHASES: [Phase, number][] = [["cold", 12], ["streaming", 5], ["away", 7]];

async function conversations(): Promise<Conversation[]> {
  const [a, b, c] = [uniqueChannel(), uniqueChannel(), uniqueChannel()];
  const base = Math.floor(Date.now() / 1000) - 600;
  return [
    // Two threads in one channel, one each in two others.
    { platform: "slack", id: a, threadTs: `${base}.000101` },
    { platform: "slack", id: a, threadTs: `${base + 1}.000102` },
    { platform: "slack", id: b, threadTs: `${base + 2}.000103` },
    { platform: "slack", id: c, threadTs: `${base + 3}.000104` },
    { platform: "telegram", id: String(await allowedChatId()) },
    { platform: "telegram", id: String(await allowedChatId()) },
    { platform: "telegram", id: String(uniqueChatId("group")), group: true },
  ];
}

function plan(seed: number, convs: Conversation[]): Planned[] {
  const r = rng(seed);
  const run = (seed % 100_000).toString(36).toUpperCase();
  const now = Math.floor(Date.now() / 1000);
  const out: Planned[] = [];
  for (const [phase, count] of PHASES) {
    for (let i = 0; i < count; i++) {
      const index = out.length;
      // Ends in a letter, so that no marker is the start of another (x2 and x21).
      const marker = `k${run}x${index}q`;
      // What streams when the container dies is slow: those sent once answers stream, and some more.
      const slow = phase === "streaming" || r.chance(0.35);
      const conversation = phase === "streaming" ? convs[i % convs.length]! : r.pick(convs);
      const words = slow ? `slow soak ${marker} please` : `soak ${marker} please`;
      const expected = slow ? [`Slow echo: ${words}.`, "tick ".repeat(20).trim()] : [`Echo: ${words}`];
      const message: Planned = {
        index, marker, conversation, phase, words, expected,
        ts: `${now + index}.${String(500_000 + index).padStart(6, "0")}`,
        eventId: `EvSOAK${marker.toUpperCase()}${crypto.randomUUID().slice(0, 6).toUpperCase()}`,
        updateId: nextUpdateId(),
        messageId: 20_000 + index,
      };
      // A platform retry: at once (racing the first), soon, or late (across the container's death).
      if (r.chance(0.3)) message.duplicateAfter = r.pick([0, 500, 5_000, 20_000]);
      out.push(message);
    }
  }
  return out;
}

async function deliverSlack(m: Planned, retry: boolean): Promise<number> {
  const payload = {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: "T0TESTTEAM",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: m.eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0TESTTEAM", user_id: "U0MOLTBOT", is_bot: true }],
    event: { type: "app_mention", user: "U0ALICE", text: `<@U0MOLTBOT> ${m.words}`, ts: m.ts, event_ts: m.ts, channel: m.conversation.id, team: "T0TESTTEAM", thread_ts: m.conversation.threadTs },
  };
  const headers = retry ? { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } : undefined;
  const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", payload, { headers }));
  await response.body?.cancel();
  return response.status;
}

async function deliverTelegram(m: Planned): Promise<number> {
  const chat = Number(m.conversation.id);
  const group = m.conversation.group;
  const update = {
    update_id: m.updateId,
    message: {
      message_id: m.messageId,
      from: { id: group ? 3_000_000_000 + m.index : chat, is_bot: false, first_name: "Soak" },
      chat: group ? { id: chat, title: "Soak", type: "supergroup" } : { id: chat, type: "private", first_name: "Soak" },
      date: Math.floor(Date.now() / 1000),
      text: group ? `@molt_test_bot ${m.words}` : m.words,
      ...(group ? { entities: [{ offset: 0, length: 14, type: "mention" }] } : {}),
    },
  };
  const response = await postUpdate(update);
  await response.body?.cancel();
  return response.status;
}

const deliver = (m: Planned, retry: boolean) => (m.conversation.platform === "slack" ? deliverSlack(m, retry) : deliverTelegram(m));

interface Shown {
  text: string;
  final: boolean;
}

/** What each conversation's user sees from the bot, by Slack channel or Telegram chat. */
async function shown(convs: Conversation[]): Promise<Map<string, Shown[]>> {
  const out = new Map<string, Shown[]>();
  for (const id of new Set(convs.map((c) => c.id))) {
    const slack = convs.find((c) => c.id === id)!.platform === "slack";
    out.set(
      id,
      slack
        ? (await slackMessages(id)).map((m) => ({ text: m.text, final: !m.streaming }))
        : (await telegramChat(Number(id))).messages.filter((m) => m.kind === "text").map((m) => ({ text: m.text, final: true })),
    );
  }
  return out;
}

function judge(messages: Planned[], seen: Map<string, Shown[]>) {
  return messages.map((message) => {
    const carrying = (seen.get(message.conversation.id) ?? []).filter((m) => m.text.includes(message.marker));
    // A message the relay marked as interrupted is a partial answer, however much of it it holds:
    // the container may die after the whole text streamed but before the run's final event came.
    const whole = carrying.filter((m) => m.final && !m.text.includes(MARK) && message.expected.every((part) => m.text.includes(part)));
    const rest = carrying.filter((m) => !whole.includes(m));
    const interrupted = rest.filter((m) => INTERRUPTED.test(m.text)).length;
    return { message, answers: whole.length, interrupted, cutShort: rest.length - interrupted, partials: rest.map((m) => `${m.final ? "" : "(streaming) "}${m.text.slice(0, 160)}`) };
  });
}

const conversationKey = (c: Conversation) => (c.platform === "slack" ? `slack:T0TESTTEAM:${c.id}:${c.threadTs}` : `telegram:${c.id}`);

/** What the records show about messages not answered exactly once: the relay's turns, the model's requests, the platform calls. */
async function records(wrong: Planned[]): Promise<unknown[]> {
  const requests = ((await (await fetch(`${env.TEST_MODEL_URL}/_test/requests`)).json()) as { requests: { at: number; words: string; cutOff?: boolean; finished?: boolean }[] }).requests;
  return Promise.all(
    wrong.map(async (m) => {
      const turns = await (conversation(env, conversationKey(m.conversation)) as unknown as { turns(): Promise<Turn[]> }).turns();
      const answers = m.conversation.platform === "slack" ? (await slackMessages(m.conversation.id)).filter((x) => x.text.includes(m.marker)).map((x) => x.ts) : [];
      const ts = (c: { body: Record<string, unknown>; [key: string]: unknown }) => String(c.body.ts ?? (c.response as { ts?: string } | undefined)?.ts);
      const calls = m.conversation.platform === "slack"
        ? (await slackCalls(m.conversation.id)).filter((c) => answers.includes(ts(c))).map((c) => ({ method: c.method, time: c.time, ts: ts(c), status: c.status }))
        : (await telegramCalls(Number(m.conversation.id))).filter((c) => JSON.stringify(c.body).includes(m.marker)).map((c) => ({ method: c.method, status: c.status, id: c.body.message_id }));
      return {
        marker: m.marker,
        turns: turns.map(({ seq, message, state, attempts, delivered, runId, resends, error, startedAt, finishedAt }) => ({ seq, text: message.text, state, attempts, delivered, runId, resends, error, startedAt, finishedAt })),
        model: requests.filter((r) => r.words.includes(m.marker)),
        calls,
      };
    }),
  );
}

const label = (m: Planned) => `${m.marker} (${m.phase}, ${m.conversation.platform}${m.conversation.group ? " group" : ""} ${m.conversation.id}${m.duplicateAfter !== undefined ? `, repeated after ${m.duplicateAfter} ms` : ""})`;

afterEach(async () => {
  await expectNoUnmatchedContainerCalls();
});

describe(`cold-container soak, seed ${SEED}`, () => {
  it("answers every message exactly once through a cold start under a burst, platform retries, and the container dying mid-answer", async () => {
    const stopped = await stoppedAgent();
    const started = Date.now();
    const convs = await conversations();
    const messages = plan(SEED, convs);
    const statuses = new Map<string, number[]>();
    const repeats: Promise<unknown>[] = [];
    const send = async (m: Planned) => {
      const first = await deliver(m, false);
      statuses.set(m.marker, [first]);
      if (m.duplicateAfter === undefined) return;
      repeats.push(
        new Promise((resolve) => setTimeout(resolve, m.duplicateAfter)).then(async () => statuses.get(m.marker)!.push(await deliver(m, true))),
      );
    };
    const phase = (p: Phase) => messages.filter((m) => m.phase === p);
    const slackThreads = [...new Set(convs.filter((c) => c.platform === "slack").map((c) => c.id))];

    // A burst while the container is stopped: one cold start for all of them.
    await Promise.all(phase("cold").map((m) => send(m)));

    // Once answers come, slow ones across the conversations; then the container dies under a
    // streaming answer, as a host that loses it would kill it (the runtime's destroy: exit 137).
    const streamingNow = async () => {
      for (const channel of slackThreads) if ((await slackMessages(channel)).some((m) => m.streaming && m.text.includes("Slow echo"))) return true;
      return false;
    };
    const answering = async () => [...(await shown(convs)).values()].flat().some((m) => messages.some((p) => m.text.includes(p.marker)));
    await eventually(answering, BUDGET_MS / 2, "the first answers after the cold start", async () => ({ supervisor: await gatewaySupervisor(env).status(), logs: (await containerLogs(SANDBOX_ID)).slice(-2000) }));
    const firstContainer = await agentStats();
    await Promise.all(phase("streaming").map((m) => send(m)));
    await eventually(streamingNow, 60_000, "a slow answer streaming");
    await host(`/_host/${sandboxObjectId(SANDBOX_ID)}/exit`, { method: "POST", body: JSON.stringify({ exitCode: 137 }) });
    const diedAt = Date.now();

    // The rest while it is away, a few at a time.
    const away = phase("away");
    for (let i = 0; i < away.length; i += 3) {
      await Promise.all(away.slice(i, i + 3).map((m) => send(m)));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }

    // Wait for every answer (or the budget), then for every repeated delivery and late duplicates.
    const deadline = started + BUDGET_MS - 60_000;
    let verdicts = judge(messages, await shown(convs));
    while (verdicts.some((v) => v.answers === 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      verdicts = judge(messages, await shown(convs));
    }
    const answeredAt = Date.now();
    await Promise.all(repeats);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const seen = await shown(convs);
    verdicts = judge(messages, seen);

    const after = await agentStats();
    const all = [...seen.values()].flat();
    const unmarked = all.filter((m) => !messages.some((p) => m.text.includes(p.marker)));
    const unaccounted = unmarked.filter((m) => !RELAY_NOTICES.some((notice) => m.text.includes(notice))).map((m) => m.text.slice(0, 160));
    const report = {
      seed: SEED,
      messages: messages.length,
      repeated: messages.filter((m) => m.duplicateAfter !== undefined).length,
      slow: messages.filter((m) => m.words.startsWith("slow")).length,
      lost: verdicts.filter((v) => v.answers === 0).length,
      duplicated: verdicts.filter((v) => v.answers > 1).length,
      cutShort: verdicts.reduce((sum, v) => sum + v.cutShort, 0),
      interruptedPartials: verdicts.reduce((sum, v) => sum + v.interrupted, 0),
      notices: all.filter((m) => m.text.includes(NOTICE)).length,
      unmarked: unmarked.length,
      unaccounted,
      containerStarts: after.starts - stopped.starts,
      diedAfterSeconds: Math.round((diedAt - started) / 1000),
      answeredAfterSeconds: Math.round((answeredAt - started) / 1000),
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(`cold soak: ${JSON.stringify(report)}`);
    const wrong = verdicts.filter((v) => v.cutShort > 0 || v.answers !== 1);
    for (const v of wrong) console.log(`cold soak: ${label(v.message)}: ${v.answers} answers, shows ${JSON.stringify(v.partials)}`);
    if (wrong.length > 0) console.log(`cold soak: records ${JSON.stringify(await records(wrong.map((v) => v.message)), null, 1)}\ncontainer died at ${diedAt}`);

    // Every delivery, first or repeated, was acknowledged.
    expect([...statuses].filter(([, codes]) => codes.some((code) => code !== 200))).toEqual([]);
    const bad = (test: (v: (typeof verdicts)[number]) => boolean) => verdicts.filter(test).map((v) => label(v.message));
    expect({ lost: bad((v) => v.answers === 0), duplicated: bad((v) => v.answers > 1), cutShort: bad((v) => v.cutShort > 0) }).toEqual({ lost: [], duplicated: [], cutShort: [] });
    // Nothing left streaming; nothing else shown (a partial cut before its marker is marked too).
    expect(all.filter((m) => !m.final)).toEqual([]);
    expect(unaccounted).toEqual([]);
    // The death showed: a partial answer marked, or the notice.
    expect(all.filter((m) => m.text.includes(MARK) || m.text.includes(NOTICE)).length).toBeGreaterThanOrEqual(1);
    // Two cold starts: the burst's, and the one after the container died (killed, not stopped).
    expect(after.starts).toBe(stopped.starts + 2);
    expect(after.history.at(-1)).toMatchObject({ dir: firstContainer.dir, exitCode: 137 });
    expect(after.dir).not.toBe(firstContainer.dir);
    expect(after.startAttempts[GATEWAY_ID]).toBe(1);
  }, BUDGET_MS);
});
