/** Slack slash commands (with a response URL on the Slack emulator) and DMs, signed as Slack would send them. */
import { env, SELF } from "cloudflare:test";
import { slackAdapter } from "../../src/adapters/slack";
import type { InboundCommand } from "../../src/adapters/types";
import { formBody, signedSlackRequest } from "./slack-sign";

export const ADMIN_USER = "U0ADMIN";

export interface SlashAnswer {
  status: number;
  text: string;
  /** Every block's text, joined: what the caller sees. */
  shown: string;
}

export interface SlashOptions {
  user?: string;
  channel?: string;
  /** Default: a fresh one on the Slack emulator, for this channel. */
  responseUrl?: string;
}

/** A response URL the Slack emulator takes (and records under `channel`), as Slack gives each command. */
export function emulatorResponseUrl(channel: string): string {
  return `${new URL(env.SLACK_API_URL!).origin}/_response/${channel}/${crypto.randomUUID()}`;
}

/** The signed request Slack would send for `/molt <text>`. */
export async function slashRequest(text: string, options: SlashOptions = {}): Promise<Request> {
  const channel = options.channel ?? "C0GENERAL";
  const body = formBody({
    team_id: "T0TESTTEAM",
    team_domain: "molt-test",
    channel_id: channel,
    channel_name: channel.startsWith("D") ? "directmessage" : "general",
    user_id: options.user ?? ADMIN_USER,
    user_name: "someone",
    command: "/molt",
    text,
    api_app_id: "A0TESTAPP",
    response_url: options.responseUrl ?? emulatorResponseUrl(channel),
    trigger_id: `${Date.now()}.${crypto.randomUUID()}`,
  });
  return signedSlackRequest("https://relay.test/slack/commands", body);
}

/** `/molt <text>` as the Slack adapter parses it, for running a command by hand. */
export async function slashCommand(text: string, options: SlashOptions = {}): Promise<InboundCommand> {
  const { events } = await slackAdapter.receive(await slashRequest(text, options), env, Date.now());
  return events[0] as InboundCommand;
}

/** `/molt <text>` through the Worker: the immediate answer. */
export async function slash(text: string, options: SlashOptions = {}): Promise<SlashAnswer> {
  const response = await SELF.fetch(await slashRequest(text, options));
  const json = (await response.json()) as { text: string; blocks: { text: { text: string } }[] };
  return { status: response.status, text: json.text, shown: json.blocks.map((block) => block.text.text).join("\n") };
}

/** A DM from `user` in DM channel `channel`, as an Events API `message` (channel_type `im`). */
export async function directMessage(channel: string, user: string, text: string): Promise<{ response: Response; ts: string }> {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  const payload = {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: "T0TESTTEAM",
    api_app_id: "A0TESTAPP",
    type: "event_callback",
    event_id: `Ev${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0TESTTEAM", user_id: "U0MOLTBOT", is_bot: true }],
    event: { type: "message", user, text, ts, event_ts: ts, channel, channel_type: "im", team: "T0TESTTEAM" },
  };
  const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/events", payload));
  return { response, ts };
}
