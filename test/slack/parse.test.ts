import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { slackAdapter } from "../../src/adapters/slack";
import { parseSlackEvents, stripLeadingMention } from "../../src/adapters/slack/parse";
import type { InboundCommand, InboundMessage } from "../../src/adapters/types";
import { PayloadError, VerificationError } from "../../src/errors";
import mentionInChannel from "../fixtures/slack/app_mention_channel.json";
import mentionInThread from "../fixtures/slack/app_mention_thread.json";
import retryDelivery from "../fixtures/slack/app_mention_retry.json";
import botMessage from "../fixtures/slack/message_bot.json";
import messageChanged from "../fixtures/slack/message_changed.json";
import sameTsMessage from "../fixtures/slack/message_channels_same_ts.json";
import directMessage from "../fixtures/slack/message_im.json";
import slashCommand from "../fixtures/slack/slash_command.json";
import urlVerification from "../fixtures/slack/url_verification.json";
import { formBody, signedSlackRequest } from "../support/slack-sign";

/** Slack answers commands in the acknowledgement itself: nothing is left for later. */
const ignoreLater = () => undefined;

const EVENTS = "https://relay.test/slack/events";
const COMMANDS = "https://relay.test/slack/commands";

async function receive(url: string, body: string | object, headers?: Record<string, string>) {
  return slackAdapter.receive(await signedSlackRequest(url, body, { headers }), env, Date.now());
}

async function onlyMessage(body: object): Promise<InboundMessage> {
  const inbound = await receive(EVENTS, body);
  expect(inbound.events).toHaveLength(1);
  const [event] = inbound.events;
  expect(event?.kind).toBe("message");
  return event as InboundMessage;
}

describe("Slack events", () => {
  it("answers url_verification with the challenge", async () => {
    const inbound = await receive(EVENTS, urlVerification);
    expect(inbound.events).toEqual([]);
    const response = inbound.ack([], ignoreLater);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: urlVerification.challenge });
  });

  it("turns a channel mention into a message for a new thread, mention stripped", async () => {
    const message = await onlyMessage(mentionInChannel);
    expect(message).toMatchObject({
      conversation: "slack:T0TESTTEAM:C0GENERAL:1760000000.000100",
      dedupeKeys: ["slack:event:Ev0MENTION001", "slack:msg:C0GENERAL:1760000000.000100"],
      sender: { id: "slack:U0ALICE" },
      direct: false,
      text: "what's on https://example.com today?",
      sentAt: 1760000000000,
      reply: { platform: "slack", team: "T0TESTTEAM", channel: "C0GENERAL", thread_ts: "1760000000.000100", user: "U0ALICE" },
    });
    const response = (await receive(EVENTS, mentionInChannel)).ack([], ignoreLater);
    expect(response.status).toBe(200);
  });

  it("keeps a mention inside a thread in that thread's conversation", async () => {
    const message = await onlyMessage(mentionInThread);
    expect(message.conversation).toBe("slack:T0TESTTEAM:C0GENERAL:1760000000.000100");
    expect(message.reply.thread_ts).toBe("1760000000.000100");
    expect(message.dedupeKeys).toContain("slack:msg:C0GENERAL:1760000300.000200");
    expect(message.text).toBe("and take a screenshot of it");
  });

  it("turns a DM into a direct message of the DM's conversation, answered in the DM", async () => {
    const message = await onlyMessage(directMessage);
    expect(message.direct).toBe(true);
    expect(message.conversation).toBe("slack:T0TESTTEAM:D0ALICEDM");
    expect(message.text).toBe("summarise my notes, please");
    // Slack's streaming and status methods need a thread: the reply threads under the user's message, in the DM.
    expect(message.reply).toMatchObject({ channel: "D0ALICEDM", thread_ts: "1760000400.000300", user: "U0ALICE" });
  });

  it("gives the mention and the message.channels copy of one message a shared dedupe key", async () => {
    const mention = await onlyMessage(mentionInChannel);
    const copy = await receive(EVENTS, sameTsMessage);
    // The channel copy is not an event of its own (channels answer mentions only)...
    expect(copy.events).toEqual([]);
    // ...and even if it were parsed, it would carry the same message key.
    expect(mention.dedupeKeys).toContain(`slack:msg:${sameTsMessage.event.channel}:${sameTsMessage.event.ts}`);
  });

  it("parses a retry delivery to the same dedupe keys as the first delivery", async () => {
    const first = await onlyMessage(mentionInChannel);
    const inbound = await receive(EVENTS, retryDelivery.body, retryDelivery.headers);
    expect(inbound.events).toHaveLength(1);
    expect(inbound.events[0]?.dedupeKeys).toEqual(first.dedupeKeys);
  });

  it("ignores the bot's own messages and unhandled subtypes, still acking 200", async () => {
    for (const fixture of [botMessage, messageChanged]) {
      const inbound = await receive(EVENTS, fixture);
      expect(inbound.events).toEqual([]);
      expect(inbound.ack([], ignoreLater).status).toBe(200);
    }
    const ownUser = structuredClone(directMessage);
    ownUser.event.user = "U0MOLTBOT";
    expect((await receive(EVENTS, ownUser)).events).toEqual([]);
  });

  it("ignores event types it does not handle", async () => {
    const reaction = { ...mentionInChannel, event: { type: "reaction_added", user: "U0ALICE", reaction: "tada", event_ts: "1.2" } };
    expect((await receive(EVENTS, reaction)).events).toEqual([]);
    expect((await receive(EVENTS, { type: "app_rate_limited", team_id: "T0TESTTEAM", minute_rate_limited: 1 })).events).toEqual([]);
  });

  it("rejects malformed JSON with a PayloadError (400) after verifying it", async () => {
    const error = await receive(EVENTS, "{not json").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).status).toBe(400);
    const noEvent = await receive(EVENTS, { type: "event_callback", team_id: "T1", event_id: "Ev1" }).catch((e: unknown) => e);
    expect(noEvent).toBeInstanceOf(PayloadError);
  });

  it("rejects fields of the wrong JSON type with a PayloadError, and still ignores what it doesn't handle", async () => {
    const wrong: [string, unknown][] = [
      ["text", ["an", "array"]],
      ["text", 42],
      ["ts", 1760000400.0003],
      ["user", { id: "U0ALICE" }],
      ["channel", "C0:with:colons"],
      ["thread_ts", null],
    ];
    for (const [field, value] of wrong) {
      const body = structuredClone(mentionInChannel) as { event: Record<string, unknown> };
      body.event[field] = value;
      const error = await receive(EVENTS, body).catch((e: unknown) => e);
      expect(error, `event.${field} = ${JSON.stringify(value)}`).toBeInstanceOf(PayloadError);
      expect((error as PayloadError).message).toMatch(new RegExp(`^event: ${field} is not valid`));
    }
    for (const authorizations of [{ user_id: "U0MOLTBOT" }, "U0MOLTBOT", [{ user_id: 7 }]]) {
      const body = { ...structuredClone(mentionInChannel), authorizations };
      await expect(receive(EVENTS, body)).rejects.toBeInstanceOf(PayloadError);
    }
    // A subtype the relay ignores stays ignored, whatever its other fields hold.
    const edited = structuredClone(messageChanged) as { event: Record<string, unknown> };
    edited.event.text = 42;
    expect((await receive(EVENTS, edited)).events).toEqual([]);
  });

  it("rejects a bad signature with 401 before looking at the body", async () => {
    const request = await signedSlackRequest(EVENTS, "{not json", { secret: "wrong-secret" });
    const error = await slackAdapter.receive(request, env, Date.now()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    const stale = await signedSlackRequest(EVENTS, mentionInChannel, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    await expect(slackAdapter.receive(stale, env, Date.now())).rejects.toBeInstanceOf(VerificationError);
  });
});

describe("Slack slash commands", () => {
  it("turns /molt into a command with the command's text", async () => {
    const inbound = await receive(COMMANDS, formBody(slashCommand));
    expect(inbound.events).toHaveLength(1);
    const command = inbound.events[0] as InboundCommand;
    expect(command).toMatchObject({
      kind: "command",
      text: "status",
      conversation: "slack:T0TESTTEAM:C0GENERAL",
      sender: { id: "slack:U0ALICE", name: "alice" },
      direct: false,
      dedupeKeys: [`slack:command:${slashCommand.trigger_id}`],
      reply: { platform: "slack", channel: "C0GENERAL", thread_ts: null },
    });
  });

  it("acks with an ephemeral Block Kit answer rendering each reply", async () => {
    const inbound = await receive(COMMANDS, formBody(slashCommand));
    const response = inbound.ack([{ ok: true, title: "Status", text: "Gateway **running** & <healthy>" }], ignoreLater);
    const body = (await response.json()) as { response_type: string; blocks: { text: { type: string; text: string } }[] };
    expect(body.response_type).toBe("ephemeral");
    expect(body.blocks.map((b) => b.text.text)).toEqual(["*Status*", "Gateway *running* &amp; &lt;healthy&gt;"]);
    expect(body.blocks.every((b) => b.text.type === "mrkdwn")).toBe(true);
  });

  it("marks failed replies and splits a long one across sections instead of cutting it", async () => {
    const inbound = await receive(COMMANDS, formBody({ ...slashCommand, text: "help" }));
    const long = Array.from({ length: 60 }, (_, i) => `Line ${i}: ${"word ".repeat(20)}`).join("\n\n");
    const response = inbound.ack([{ ok: false, title: "Help", text: long }], ignoreLater);
    const body = (await response.json()) as { blocks: { text: { text: string } }[] };
    expect(body.blocks[0]?.text.text).toBe(":warning: *Help*");
    expect(body.blocks.length).toBeGreaterThan(2);
    const shown = body.blocks.slice(1).map((b) => b.text.text).join("\n\n");
    for (let i = 0; i < 60; i++) expect(shown).toContain(`Line ${i}:`);
    expect(body.blocks.every((b) => b.text.text.length <= 3000)).toBe(true);
  });

  it("treats a command from a DM as direct", async () => {
    const inbound = await receive(COMMANDS, formBody({ ...slashCommand, channel_id: "D0ALICEDM", channel_name: "directmessage" }));
    expect(inbound.events[0]).toMatchObject({ direct: true, conversation: "slack:T0TESTTEAM:D0ALICEDM" });
  });

  it("keeps a response_url only on Slack's hooks host or the API's origin", async () => {
    const responseUrl = async (url: string) => ((await receive(COMMANDS, formBody({ ...slashCommand, response_url: url }))).events[0] as InboundCommand).reply.response_url;
    expect(await responseUrl(slashCommand.response_url)).toBe(slashCommand.response_url);
    // SLACK_API_URL points at the emulator here: its origin is trusted like Slack's own.
    const emulator = `${new URL(env.SLACK_API_URL!).origin}/_response/C0GENERAL/1`;
    expect(await responseUrl(emulator)).toBe(emulator);
    for (const foreign of [
      "https://hooks.example.com/commands/T0TESTTEAM/1/x",
      "https://hooks.slack.com.example.net/commands/T0TESTTEAM/1/x",
      "http://hooks.slack.com/commands/T0TESTTEAM/1/x",
      "https://hooks.slack.com:8443/commands/T0TESTTEAM/1/x",
      "not a url",
    ]) {
      expect(await responseUrl(foreign), foreign).toBeUndefined();
    }
  });

  it("rejects a form without the command's fields", async () => {
    await expect(receive(COMMANDS, "text=status")).rejects.toBeInstanceOf(PayloadError);
  });
});

describe("stripLeadingMention", () => {
  it("strips only the bot's leading mention", () => {
    expect(stripLeadingMention("<@U0MOLTBOT> hi <@U0BOB>", "U0MOLTBOT")).toBe("hi <@U0BOB>");
    expect(stripLeadingMention("<@U0BOB> hi", "U0MOLTBOT")).toBe("<@U0BOB> hi");
    expect(stripLeadingMention("<@U0MOLTBOT|molt>: hi")).toBe("hi");
  });

  it("parses events directly without a Request", () => {
    expect(parseSlackEvents(JSON.stringify(urlVerification)).challenge).toBe(urlVerification.challenge);
  });
});
