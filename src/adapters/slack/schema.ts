/**
 * The shapes of what Slack sends, as far as the relay reads them (docs.slack.dev: the Events API
 * envelope, `app_mention`, `message.im`, slash commands). Unknown fields pass; a field the relay
 * reads that has the wrong type is a 400. Checked in layers, so that a payload the relay doesn't
 * handle (another envelope type, event type or message subtype) is still an ignored 200 whatever
 * else it carries.
 */
import * as v from "valibot";
import { boundedText, platformId } from "../schema";

/** Slack's message timestamps: seconds, a dot, a sequence (`1712345678.000100`). */
const slackTs = v.pipe(v.string(), v.regex(/^\d{1,12}\.\d{1,9}$/));

/** Slack cuts messages at 40,000 characters; anything longer did not come from Slack. */
const MESSAGE_TEXT_MAX = 40_000;

/** The envelope's kind: every request has one. */
export const slackEnvelopeKind = v.looseObject({ type: v.pipe(v.string(), v.maxLength(64)) });

export const slackUrlVerification = v.looseObject({
  type: v.literal("url_verification"),
  challenge: v.pipe(v.string(), v.maxLength(1_000)),
});

/** An `event_callback`: its event is checked further only if it is one the relay handles. */
export const slackEventCallback = v.looseObject({
  type: v.literal("event_callback"),
  team_id: platformId(),
  event_id: platformId(),
  authorizations: v.optional(
    v.pipe(
      v.array(v.looseObject({ user_id: v.optional(platformId()), is_bot: v.optional(v.boolean()) })),
      v.maxLength(100),
    ),
  ),
  event: v.looseObject({ type: v.pipe(v.string(), v.maxLength(64)) }),
});

/** What decides whether a `message` / `app_mention` is one the relay answers. */
export const slackMessageKind = v.looseObject({
  subtype: v.optional(v.pipe(v.string(), v.maxLength(64))),
  bot_id: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
});

/** A person's message, once its kind says the relay reads it. */
export const slackPersonMessage = v.looseObject({
  type: v.picklist(["message", "app_mention"]),
  channel: platformId(),
  channel_type: v.optional(v.pipe(v.string(), v.maxLength(32))),
  user: platformId(),
  user_team: v.optional(platformId()),
  team: v.optional(platformId()),
  text: v.optional(boundedText(MESSAGE_TEXT_MAX)),
  ts: slackTs,
  thread_ts: v.optional(slackTs),
});

export type SlackPersonMessage = v.InferOutput<typeof slackPersonMessage>;

/** A slash command's form, as its fields' strings. */
export const slackSlashCommand = v.looseObject({
  team_id: platformId(),
  channel_id: platformId(),
  user_id: platformId(),
  command: v.pipe(v.string(), v.regex(/^\/[\w-]{1,32}$/)),
  text: v.optional(boundedText(MESSAGE_TEXT_MAX)),
  user_name: v.optional(boundedText(256)),
  channel_name: v.optional(boundedText(256)),
  trigger_id: v.optional(platformId(256)),
  response_url: v.optional(boundedText(2_048)),
});
