// @slack/bolt's own HTTP receiver (HTTPReceiver, Bolt's default) in a Node process, with an
// app_mention listener that does nothing: Bolt acks events itself before listeners run
// (processBeforeResponse: false, its default). Prints "ready <port>".
import bolt from "@slack/bolt";
import { BENCH_BOT_TOKEN, BENCH_BOT_USER, BENCH_SIGNING_SECRET } from "./slack-events.mjs";

const { App, HTTPReceiver, LogLevel } = bolt;
const sinkUrl = process.argv[2]; // Slack Web API stand-in (Bolt never calls it here)
const receiver = new HTTPReceiver({ signingSecret: BENCH_SIGNING_SECRET, endpoints: "/slack/events" });
const app = new App({
  receiver,
  // A fixed installation: no auth.test call at start or per event.
  authorize: async () => ({ botToken: BENCH_BOT_TOKEN, botId: "B0MOLTBOT", botUserId: BENCH_BOT_USER }),
  clientOptions: sinkUrl ? { slackApiUrl: sinkUrl } : undefined,
  logLevel: LogLevel.ERROR,
});
let mentions = 0;
app.event("app_mention", async () => {
  mentions += 1;
});
process.on("SIGTERM", () => {
  console.error(`bolt: ${mentions} app_mention events handled`);
  process.exit(0);
});
const server = await app.start({ port: 0, host: "127.0.0.1" });
console.log(`ready ${server.address().port}`);
