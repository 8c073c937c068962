/**
 * `/molt` over Discord interactions, through the Worker: answered inline when the result is ready,
 * deferred (type 5) and then edited in with `PATCH .../messages/@original` when it isn't, always
 * ephemeral; refusals for non-admins. And `npm run setup`'s Discord part against the emulator.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { moltCommandDefinition } from "../../src/adapters/discord/commands";
import { discordAdapter, renderCommandReplies } from "../../src/adapters/discord/index";
import type { DiscordReplyTarget } from "../../src/adapters/discord/parse";
import { answerChatCommand } from "../../src/commands/chat";
import type { InboundCommand } from "../../src/adapters/types";
// @ts-expect-error plain ESM module without types
import { inviteUrl, setupDiscord, setupProblems } from "../../scripts/discord-commands.mjs";
import { eventually } from "../support/slack-relay";
import { expectNoUnmatchedDiscordCalls, interactionRecord, moltInteraction, postInteraction, signedHeaders } from "../support/discord-relay";

afterAll(expectNoUnmatchedDiscordCalls);

type InteractionResponse = { type: number; data?: { content?: string; flags?: number } };

describe("/molt from Discord", () => {
  it("answers /molt status inline, only to the admin who asked", async () => {
    const response = await postInteraction(moltInteraction("status"));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as InteractionResponse;
    expect(answer.type).toBe(4);
    expect(answer.data?.flags).toBe(64);
    expect(answer.data?.content).toMatch(/\*\*Status\*\*\n.*Gateway:/);
  });

  it("refuses a non-admin, ephemerally", async () => {
    const response = await postInteraction(moltInteraction("status", {}, { user: "1100000000000000999" }));
    const answer = (await response.json()) as InteractionResponse;
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(answer.data?.content).toContain("for admins only");
    expect(answer.data?.content).toContain("discord:1100000000000000999");
  });

  it("passes typed options to the command, in the command's order", async () => {
    const response = await postInteraction(moltInteraction("pair", { code: "NOPE2345", action: "deny" }));
    const answer = (await response.json()) as InteractionResponse;
    expect(answer.data?.content).toContain("No pending request with code `NOPE2345`");
  });

  it("defers /molt status when it isn't done in time, then edits the result in", async () => {
    const interaction = moltInteraction("status");
    const body = JSON.stringify(interaction);
    const request = new Request("https://relay.test/discord/interactions", { method: "POST", headers: await signedHeaders(body), body });
    const inbound = await discordAdapter.receive(request, env, Date.now());
    const [event] = inbound.events as InboundCommand[];
    expect(event).toMatchObject({ kind: "command", text: "status", sender: { id: "discord:1100000000000000042" } });
    // No time at all to answer: the result comes from the command's runner, later.
    const reply = await answerChatCommand(event!, env, 0);
    expect(reply.pending).toBe(true);
    const ack = (await inbound.ack([reply], () => undefined).json()) as InteractionResponse;
    expect(ack).toEqual({ type: 5, data: { flags: 64 } });
    const record = await eventually(async () => (await interactionRecord(interaction.token)).original ?? undefined, 20_000, "the edited result");
    expect(record.content).toContain("**Status**");
    expect(record.content).toContain("Gateway:");
  });

  it("answers a result too long for one message inline, and the rest as ephemeral follow-ups", async () => {
    const token = `itoken-long-${crypto.randomUUID()}`;
    const target: DiscordReplyTarget = {
      platform: "discord",
      channel_id: "1200000000000000001",
      guild_id: null,
      reply_to: null,
      interaction: { application_id: env.DISCORD_APPLICATION_ID!, token },
    };
    const lines = Array.from({ length: 120 }, (_, i) => `• entry ${i}: ${"x".repeat(30)}`).join("\n");
    const later: Promise<unknown>[] = [];
    const response = renderCommandReplies(env, target, [{ ok: true, title: "Audit", text: lines }], (work) => later.push(work));
    const answer = (await response.json()) as InteractionResponse;
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    await Promise.all(later);
    const { followups } = await interactionRecord(token);
    expect(followups.length).toBeGreaterThan(0);
    const shown = [answer.data!.content!, ...followups.map((message) => message.content)];
    expect(shown.every((part) => part.length <= 2000)).toBe(true);
    for (const i of [0, 60, 119]) expect(shown.join("\n")).toContain(`• entry ${i}: `);
  });

  it("answers an interaction type it doesn't handle without an error", async () => {
    // A modal submit (type 5): the relay shows no modals. (A button press, type 3, has a shape of its own: stop-e2e.test.ts.)
    const response = await postInteraction({ ...moltInteraction("status"), type: 5 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as InteractionResponse).data?.flags).toBe(64);
  });
});

describe("Discord set-up", () => {
  it("registers /molt for a guild, with bot DMs among its contexts, and prints both URLs", async () => {
    const settings = { token: env.DISCORD_BOT_TOKEN, applicationId: env.DISCORD_APPLICATION_ID, guildId: "1000000000000000777", workerUrl: "https://relay.test/", apiUrl: env.DISCORD_API_URL };
    const result = await setupDiscord({ ...settings, definition: moltCommandDefinition() });
    expect(result.interactionsUrl).toBe("https://relay.test/discord/interactions");
    expect(result.inviteUrl).toBe(inviteUrl(env.DISCORD_APPLICATION_ID));
    expect(result.inviteUrl).toMatch(/scope=bot\+applications\.commands&permissions=\d+$/);
    expect(result.scope).toBe("guild 1000000000000000777");
    const [command] = result.commands as { name: string; contexts: number[]; options: { name: string }[] }[];
    expect(command).toMatchObject({ name: "molt", contexts: [0, 1, 2] });
    expect(command!.options.map((option) => option.name)).toContain("status");
  });

  it("names every unusable setting before calling Discord", () => {
    expect(setupProblems({ token: "nope", applicationId: "x", guildId: "y", workerUrl: "relay.test" })).toHaveLength(4);
    expect(setupProblems({ token: "a.b.c", applicationId: "1000000000000000001", workerUrl: "https://relay.test" })).toEqual([]);
  });
});
