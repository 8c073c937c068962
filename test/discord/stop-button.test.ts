/**
 * Discord's Stop button as a stop control, against the emulator: a quick turn never shows one; a
 * turn without text for a moment gets a quiet "working" message with the button, which the answer
 * takes over; the button rides on the answer's newest message while it streams and is taken off
 * when the turn ends, leaving the text; a placeholder nobody answered into is deleted. And the
 * parser: a press is the command `stop <ref>` from the presser; other components are not ours.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { renderPressReply } from "../../src/adapters/discord/index";
import type { DiscordReplyTarget } from "../../src/adapters/discord/parse";
import { parseInteraction, parseInteractionBody } from "../../src/adapters/discord/parse";
import { openDiscordReply } from "../../src/adapters/discord/reply";
import { openDiscordStopButton, STOP_BUTTON_LABEL, WORKING_TEXT } from "../../src/adapters/discord/stop-button";
import { PayloadError } from "../../src/errors";
import { eventually } from "../support/slack-relay";
import { discordCalls, discordDeleted, discordMessagesWithComponents, expectNoUnmatchedDiscordCalls, postInteraction, uniqueId } from "../support/discord-relay";

afterAll(expectNoUnmatchedDiscordCalls);

function target(channel = uniqueId()): DiscordReplyTarget {
  return { platform: "discord", channel_id: channel, guild_id: "1000000000000000777", reply_to: uniqueId(), interaction: null };
}

/** The sink and the control of one turn, opened for the same target as the bridge does. */
function turn(delayMs: number) {
  const where = target();
  const logs: string[] = [];
  const sink = openDiscordReply(env, where, { log: (line) => logs.push(line) });
  const control = openDiscordStopButton(env, where, { delayMs, log: (line) => logs.push(line) });
  return { sink, control, channel: where.channel_id, where, logs };
}

const buttonsOf = (message: { components: { components: { custom_id?: string; label?: string }[] }[] }) => message.components.flatMap((row) => row.components);

describe("the Stop button", () => {
  it("never shows for a turn that ends before its delay and shows no text", async () => {
    const { control, channel } = turn(60_000);
    await control.running({ ref: "1", title: "hi", first: true });
    await control.ended("done");
    expect(await discordCalls(channel)).toEqual([]);
  });

  it("rides on the streaming answer and is taken off when the turn ends, the text kept", async () => {
    const { sink, control, channel, logs } = turn(60_000);
    await control.running({ ref: "4", title: "hi", first: false });
    const stream = await sink.startText();
    await stream.update("The answer so far");
    const [shown] = await eventually(async () => {
      const messages = await discordMessagesWithComponents(channel);
      return messages.length > 0 ? messages : undefined;
    }, 10_000, "the answer");
    expect(buttonsOf(shown!)).toEqual([expect.objectContaining({ type: 2, label: STOP_BUTTON_LABEL, custom_id: "molt:stop:4" })]);

    await stream.finish("The answer so far, and the rest.");
    await control.ended("done");
    const [done] = await discordMessagesWithComponents(channel);
    expect(done).toMatchObject({ content: "The answer so far, and the rest.", components: [] });
    expect(logs).toEqual([]);
  });

  it("moves to the newest message of a long answer, so one button is ever shown", async () => {
    const { sink, control, channel } = turn(60_000);
    await control.running({ ref: "5", title: "hi", first: false });
    const stream = await sink.startText();
    const text = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum ".repeat(25).trim()}.`).join("\n\n");
    await stream.update(text);
    await stream.finish(text);
    const messages = await discordMessagesWithComponents(channel);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.map((m) => buttonsOf(m).length)).toEqual([...messages.slice(1).map(() => 0), 1]);
    await control.ended("done");
    expect((await discordMessagesWithComponents(channel)).flatMap(buttonsOf)).toEqual([]);
  });

  it("shows a quiet 'working' message when no text comes for a while; the answer takes it over", async () => {
    const { sink, control, channel, where } = turn(0);
    await control.running({ ref: "7", title: "hi", first: false });
    const placeholder = await eventually(async () => (await discordMessagesWithComponents(channel)).find((m) => m.content === WORKING_TEXT), 10_000, "the button");
    expect(buttonsOf(placeholder)).toEqual([expect.objectContaining({ custom_id: "molt:stop:7" })]);
    expect(placeholder.message_reference?.message_id).toBe(where.reply_to);

    await (await sink.startText()).finish("Here it is.");
    const [answer, ...others] = await discordMessagesWithComponents(channel);
    expect(others).toEqual([]);
    expect(answer).toMatchObject({ id: placeholder.id, content: "Here it is." });
    await control.ended("done");
    expect((await discordMessagesWithComponents(channel))[0]).toMatchObject({ id: placeholder.id, content: "Here it is.", components: [] });
  });

  it("deletes a 'working' message that no answer took over (stopped before any text)", async () => {
    const { control, channel } = turn(0);
    await control.running({ ref: "8", title: "hi", first: false });
    await eventually(async () => (await discordMessagesWithComponents(channel)).find((m) => m.content === WORKING_TEXT), 10_000, "the button");
    await control.ended("stopped");
    expect(await discordMessagesWithComponents(channel)).toEqual([]);
    expect((await discordDeleted(channel)).map((m) => m.content)).toEqual([WORKING_TEXT]);
  });
});

describe("a press, parsed", () => {
  const press = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: uniqueId(),
      application_id: "1100000000000000001",
      type: 3,
      token: "tok",
      channel_id: "1200000000000000001",
      guild_id: "1000000000000000777",
      member: { user: { id: "1100000000000000007", username: "tess" } },
      message: { id: "1200000000000000009" },
      data,
      ...extra,
    });

  it("is the command `stop <ref>` in the channel's conversation, from the presser", () => {
    const parsed = parseInteraction(parseInteractionBody(press({ custom_id: "molt:stop:12", component_type: 2 })));
    expect(parsed).toMatchObject({
      kind: "press",
      event: { kind: "command", text: "stop 12", conversation: "discord:1200000000000000001", sender: { id: "discord:1100000000000000007" }, direct: false },
    });
  });

  it("leaves other components alone, and refuses a press of the wrong shape", () => {
    expect(parseInteraction(parseInteractionBody(press({ custom_id: "someone-else", component_type: 2 })))).toMatchObject({ kind: "unsupported" });
    expect(() => parseInteractionBody(press({ component_type: 2 }))).toThrow(PayloadError);
    expect(() => parseInteractionBody(press({ custom_id: "molt:stop:1", component_type: 2 }, { message: undefined }))).toThrow(PayloadError);
    expect(() => parseInteractionBody(press({ custom_id: "x".repeat(101), component_type: 2 }))).toThrow(PayloadError);
  });

  it("answers a press on a button that isn't the relay's with an ephemeral note, through the Worker", async () => {
    const response = await postInteraction(press({ custom_id: "someone-else", component_type: 2 }, { application_id: env.DISCORD_APPLICATION_ID }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining("isn't something molt-relay handles") } });
  });

  it("is answered by what the stop did: a deferred update, an ephemeral note, or 'thinking' when not done in time", () => {
    const where = { ...target(), reply_to: null, interaction: { application_id: "1", token: "t" } };
    const answer = (reply: { ok: boolean; pending?: boolean }) => renderPressReply(env, where, [{ title: "Stop", text: "Only the person who asked…", ...reply }], () => undefined).json();
    return Promise.all([
      expect(answer({ ok: true })).resolves.toEqual({ type: 6 }),
      expect(answer({ ok: false })).resolves.toMatchObject({ type: 4, data: { flags: 64, content: "Only the person who asked…" } }),
      expect(answer({ ok: false, pending: true })).resolves.toEqual({ type: 5, data: { flags: 64 } }),
    ]);
  });
});
