/**
 * Discord's Stop button end to end: a mention over the emulator's Gateway runs on the REAL gateway
 * (stand-in model streaming a long, slow answer), the streaming answer carries the button, and a
 * press (a signed MESSAGE_COMPONENT interaction) stops it: the gateway aborts the run (the model
 * request is cut off), what was shown is kept and marked as stopped, the button goes, nothing more
 * comes for that turn, and the next message is answered. Only the person who asked (or an admin)
 * may stop it; a press after the answer finished does nothing; a mis-signed press is a 401 and a
 * malformed one a 400, and neither stops anything. `/molt stop` stops the run in the channel too.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { STOP_BUTTON_LABEL, WORKING_TEXT } from "../../src/adapters/discord/stop-button";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { eventually } from "../support/slack-relay";
import { modelRequests } from "../support/stop";
import {
  answerToPress,
  DISCORD_ADMIN,
  discordCalls,
  moltInteraction,
  discordMessagesWithComponents,
  expectNoUnmatchedDiscordCalls,
  ownGateway,
  postInteraction,
  pressDiscordButton,
  signedHeaders,
  uniqueId,
} from "../support/discord-relay";

afterAll(expectNoUnmatchedDiscordCalls);

const EPHEMERAL = 64;

async function turnsOf(channel: string): Promise<Turn[]> {
  return (conversation(env, `discord:${channel}`) as unknown as { turns(limit?: number): Promise<Turn[]> }).turns();
}

const withButton = async (channel: string) => (await discordMessagesWithComponents(channel)).filter((m) => m.components.length > 0);
const calls = (channel: string) => async () => ({
  calls: (await discordCalls(channel)).map(({ method, path, status, body }) => `${method} ${path} ${status} ${JSON.stringify(body).slice(-80)}`),
  messages: (await discordMessagesWithComponents(channel)).map((m) => `${m.id} ${m.content.slice(-60)} ${JSON.stringify(m.components)}`),
});

/** Ask for a long, slow answer and wait for some of it to stream in, with the Stop button. */
async function longAnswer(words: string) {
  const gateway = await ownGateway();
  const channel = uniqueId();
  const asker = uniqueId();
  await gateway.send({ channel, content: words, author: asker });
  const message = await eventually(
    async () => (await withButton(channel)).find((m) => m.content.startsWith("Long reply to:") && m.content.length > 40),
    120_000,
    "the streaming answer with its Stop button",
    calls(channel),
  );
  return { gateway, channel, asker, message };
}

// Each of these waits for the real gateway's answers, some of them twice.
describe("Discord's Stop button", { timeout: 240_000 }, () => {
  it("stops a long answer mid-stream: the run is aborted, the answer says stopped, nothing more comes, the next message is answered", async () => {
    const words = "keep talking to me on discord";
    const { gateway, channel, asker, message } = await longAnswer(words);
    expect(message.components).toEqual([{ type: 1, components: [expect.objectContaining({ type: 2, label: STOP_BUTTON_LABEL, custom_id: expect.stringMatching(/^molt:stop:\d+$/) })] }]);

    const answer = await answerToPress(await pressDiscordButton(channel, message.id, asker));
    expect(answer).toEqual({ type: 6 });

    const stopped = await eventually(
      async () => (await discordMessagesWithComponents(channel)).find((m) => /_stopped_$/.test(m.content)),
      30_000,
      "the answer marked stopped",
      calls(channel),
    );
    expect((await discordMessagesWithComponents(channel)).map((m) => m.content).join("\n")).not.toContain("Paragraph 30.");
    // The button went with the run.
    await eventually(async () => (await withButton(channel)).length === 0, 10_000, "the button to go");
    expect(stopped.content).not.toBe(WORKING_TEXT);
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");
    expect((await modelRequests(words)).some((request) => request.finished)).toBe(false);
    const [turn] = await turnsOf(channel);
    expect(turn).toMatchObject({ state: "stopped", stoppedBy: `discord:${asker}` });

    // The next message is answered normally; the stopped turn's messages don't change meanwhile.
    const before = (await discordMessagesWithComponents(channel)).map(({ id, content, edits }) => ({ id, content, edits }));
    await gateway.send({ channel, content: "hello again", author: asker });
    await eventually(async () => (await discordMessagesWithComponents(channel)).find((m) => m.content.includes("Echo: hello again")), 90_000, "the next answer", calls(channel));
    await eventually(async () => (await turnsOf(channel))[0]?.state === "done", 30_000, "the next turn to end");
    const after = await discordMessagesWithComponents(channel);
    expect(after.slice(0, before.length).map(({ id, content, edits }) => ({ id, content, edits }))).toEqual(before);
    const added = after.slice(before.length);
    expect(added.length).toBeGreaterThan(0);
    for (const message of added) expect(message.content).toMatch(/^Echo: hello again/);
    expect(after.flatMap((m) => m.components)).toEqual([]);
  });

  it("refuses a press from someone who didn't ask, ephemerally, and the answer goes on; an admin may stop it", async () => {
    const { channel, message } = await longAnswer("keep talking while someone else presses");

    const refused = await answerToPress(await pressDiscordButton(channel, message.id, uniqueId()));
    expect(refused).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(refused.data?.content).toContain("Only the person who asked");
    const [running] = await turnsOf(channel);
    expect(running).toMatchObject({ state: "running" });
    expect(running!.stoppedBy).toBeUndefined();

    const [current] = await withButton(channel);
    expect(await answerToPress(await pressDiscordButton(channel, current!.id, DISCORD_ADMIN))).toEqual({ type: 6 });
    await eventually(async () => (await turnsOf(channel))[0]?.state === "stopped", 30_000, "the turn to be stopped");
    expect((await turnsOf(channel))[0]).toMatchObject({ stoppedBy: `discord:${DISCORD_ADMIN}` });
  });

  it("does nothing when pressed after the answer finished", async () => {
    const gateway = await ownGateway();
    const channel = uniqueId();
    const asker = uniqueId();
    await gateway.send({ channel, content: "just a quick hello", author: asker });
    await eventually(async () => (await discordMessagesWithComponents(channel)).find((m) => m.content.includes("Echo: just a quick hello")), 90_000, "the answer", calls(channel));
    await eventually(async () => (await turnsOf(channel))[0]?.state === "done", 30_000, "the turn to be done");
    const shown = await discordMessagesWithComponents(channel);
    expect(shown.flatMap((m) => m.components)).toEqual([]);

    // The button is gone; a press that crossed the answer's end still arrives.
    const seq = (await turnsOf(channel))[0]!.seq;
    const late = await answerToPress(await pressDiscordButton(channel, shown.at(-1)!.id, asker, { customId: `molt:stop:${seq}`, force: true }));
    expect(late).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(late.data?.content).toContain("already finished");
    expect((await turnsOf(channel))[0]).toMatchObject({ state: "done" });
    expect((await turnsOf(channel))[0]!.stoppedBy).toBeUndefined();
    expect((await discordMessagesWithComponents(channel)).map(({ id, content }) => ({ id, content }))).toEqual(shown.map(({ id, content }) => ({ id, content })));
  });

  it("answers a mis-signed press 401 and a malformed one 400, and neither stops the answer", async () => {
    const { channel, asker, message } = await longAnswer("keep talking through forged presses");
    const press = await pressDiscordButton(channel, message.id, asker);

    const forged = await postInteraction(press, { seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb" });
    expect(forged.status).toBe(401);
    const tampered = await postInteraction(JSON.stringify(press), { headers: await forgedHeaders(press) });
    expect(tampered.status).toBe(401);
    const malformed = await postInteraction({ ...press, data: { component_type: 2 } });
    expect(malformed.status).toBe(400);
    const notJson = await postInteraction("{ not json");
    expect(notJson.status).toBe(400);

    const [running] = await turnsOf(channel);
    expect(running).toMatchObject({ state: "running" });
    expect(running!.stoppedBy).toBeUndefined();
    expect(await withButton(channel)).toHaveLength(1);

    // The real press still works.
    const [current] = await withButton(channel);
    expect(await answerToPress(await pressDiscordButton(channel, current!.id, asker))).toEqual({ type: 6 });
    await eventually(async () => (await turnsOf(channel))[0]?.state === "stopped", 30_000, "the turn to be stopped");
  });
});

/** Headers signed for a different body: the signature is valid, but not for what is sent. */
function forgedHeaders(press: object): Promise<Record<string, string>> {
  return signedHeaders(JSON.stringify({ ...press, data: { custom_id: "molt:stop:999", component_type: 2 } }));
}

describe("/molt stop on Discord", { timeout: 240_000 }, () => {
  it("stops the current run in the channel, for the person who asked, and takes the button off", async () => {
    const words = "keep talking until the slash command";
    const { channel, asker } = await longAnswer(words);
    const response = await postInteraction(moltInteraction("stop", {}, { channel, user: asker }));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { type: number; data?: { content?: string; flags?: number } };
    expect(answer).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(answer.data?.content).toContain("Stopped.");
    await eventually(async () => (await discordMessagesWithComponents(channel)).find((m) => /_stopped_$/.test(m.content)), 30_000, "the answer marked stopped", calls(channel));
    await eventually(async () => (await withButton(channel)).length === 0, 10_000, "the button to go");
    await eventually(async () => (await modelRequests(words)).some((request) => request.cutOff), 30_000, "the model request to be cut off");
    expect((await turnsOf(channel))[0]).toMatchObject({ state: "stopped", stoppedBy: `discord:${asker}` });
  });
});
