/** Slack slash commands and DMs, signed as Slack would send them, for the admin and pairing tests. */
import { SELF } from "cloudflare:test";
import { formBody, signedSlackRequest } from "./slack-sign";

export const ADMIN_USER = "U0ADMIN";

export interface SlashAnswer {
  status: number;
  text: string;
  /** Every block's text, joined: what the caller sees. */
  shown: string;
}

export async function slash(text: string, options: { user?: string; channel?: string } = {}): Promise<SlashAnswer> {
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
    response_url: "https://hooks.slack.com/commands/T0TESTTEAM/1/x",
    trigger_id: `${Date.now()}.${crypto.randomUUID()}`,
  });
  const response = await SELF.fetch(await signedSlackRequest("https://relay.test/slack/commands", body));
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
