// Signed Slack `app_mention` deliveries, as Slack sends them (Events API v0 signing). Each has a
// unique event_id and ts, so the bridge's dedupe never short-circuits a request.
import crypto from "node:crypto";

export const BENCH_SIGNING_SECRET = "bench-slack-signing-secret";
export const BENCH_BOT_TOKEN = "xoxb-bench-bot-token";
export const BENCH_TEAM = "T0BENCHTEAM";
export const BENCH_BOT_USER = "U0MOLTBOT";

/** The JSON body of mention `i` of a run; a new thread unless `threadTs` is given. */
export function mentionPayload({ run, i, channel = "C0BENCH", text = "what is the weather like today?", threadTs, now = Date.now() }) {
  const seconds = Math.floor(now / 1000);
  const ts = `${seconds}.${String(i).padStart(6, "0")}`;
  return {
    token: "ZZZZZZWSxiZZZ2yIvs3peJ",
    team_id: BENCH_TEAM,
    api_app_id: "A0BENCHAPP",
    type: "event_callback",
    event_id: `Ev${run}${String(i).padStart(7, "0")}`,
    event_time: seconds,
    authorizations: [{ enterprise_id: null, team_id: BENCH_TEAM, user_id: BENCH_BOT_USER, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoiVDBCRU5DSCIsImFpZCI6IkEwQkVOQ0gifQ${run}${i}`,
    event: {
      type: "app_mention",
      user: "U0ALICE",
      text: `<@${BENCH_BOT_USER}> ${text}`,
      ts,
      event_ts: ts,
      channel,
      team: BENCH_TEAM,
      client_msg_id: crypto.randomUUID(),
      blocks: [{ type: "rich_text", block_id: "b1", elements: [{ type: "rich_text_section", elements: [{ type: "user", user_id: BENCH_BOT_USER }, { type: "text", text: ` ${text}` }] }] }],
      ...(threadTs ? { thread_ts: threadTs } : {}),
    },
  };
}

/** Headers and raw body of a signed delivery. */
export function signDelivery(body, { secret = BENCH_SIGNING_SECRET, timestamp = Math.floor(Date.now() / 1000) } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const mac = crypto.createHmac("sha256", secret).update(`v0:${timestamp}:${raw}`).digest("hex");
  return {
    body: raw,
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(raw)),
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": `v0=${mac}`,
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    },
  };
}
