/**
 * The shapes the relay reads from Discord, checked with valibot before anything reads them:
 * interactions (HTTP) and Gateway payloads. A signed interaction of the wrong shape is a 400; a
 * Gateway event of the wrong shape is logged and skipped (its sequence still counts, so one bad
 * event can't stall the connection). Unknown fields are dropped; unknown types stay valid and are
 * ignored by the parser.
 */
import * as v from "valibot";

const Snowflake = v.pipe(v.string(), v.regex(/^\d{1,20}$/, "not a snowflake"));
const Name = v.pipe(v.string(), v.maxLength(200));

export const User = v.object({
  id: Snowflake,
  username: v.optional(Name),
  global_name: v.nullish(Name),
  bot: v.optional(v.boolean()),
});

type OptionShape = {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: OptionShape[];
  focused?: boolean;
};

const CommandOption: v.GenericSchema<OptionShape> = v.object({
  name: v.pipe(v.string(), v.maxLength(32)),
  type: v.pipe(v.number(), v.integer()),
  value: v.optional(v.union([v.pipe(v.string(), v.maxLength(6000)), v.number(), v.boolean()])),
  options: v.optional(v.pipe(v.array(v.lazy(() => CommandOption)), v.maxLength(25))),
  focused: v.optional(v.boolean()),
});

export const Interaction = v.object({
  id: Snowflake,
  application_id: Snowflake,
  type: v.pipe(v.number(), v.integer()),
  token: v.optional(v.pipe(v.string(), v.maxLength(1000))),
  guild_id: v.optional(Snowflake),
  channel_id: v.optional(Snowflake),
  channel: v.optional(v.object({ id: Snowflake, type: v.optional(v.number()) })),
  member: v.optional(v.object({ user: User })),
  user: v.optional(User),
  data: v.optional(
    v.object({
      name: v.optional(v.pipe(v.string(), v.maxLength(32))),
      type: v.optional(v.number()),
      options: v.optional(v.pipe(v.array(CommandOption), v.maxLength(25))),
    }),
  ),
});
export type Interaction = v.InferOutput<typeof Interaction>;

/**
 * A MESSAGE_COMPONENT interaction (type 3): a press on a button of one of the bot's messages.
 * Checked on top of `Interaction`: it must say who pressed what, where, with a token to answer.
 */
export const ComponentInteraction = v.object({
  id: Snowflake,
  application_id: Snowflake,
  type: v.literal(3),
  token: v.pipe(v.string(), v.minLength(1), v.maxLength(1000)),
  guild_id: v.optional(Snowflake),
  channel_id: v.optional(Snowflake),
  channel: v.optional(v.object({ id: Snowflake })),
  member: v.optional(v.object({ user: User })),
  user: v.optional(User),
  message: v.object({ id: Snowflake, channel_id: v.optional(Snowflake) }),
  data: v.object({
    custom_id: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
    component_type: v.pipe(v.number(), v.integer()),
  }),
});
export type ComponentInteraction = v.InferOutput<typeof ComponentInteraction>;
export type InteractionOption = OptionShape;

/** Every Gateway payload: an opcode, its data, and for dispatches a sequence number and a name. */
export const GatewayPayload = v.object({
  op: v.pipe(v.number(), v.integer()),
  d: v.optional(v.unknown()),
  s: v.nullish(v.pipe(v.number(), v.integer())),
  t: v.nullish(v.string()),
});
export type GatewayPayload = v.InferOutput<typeof GatewayPayload>;

export const Hello = v.object({ heartbeat_interval: v.pipe(v.number(), v.minValue(1)) });

export const Ready = v.object({
  session_id: v.pipe(v.string(), v.minLength(1)),
  resume_gateway_url: v.pipe(v.string(), v.url()),
  user: User,
});

export const MessageCreate = v.object({
  id: Snowflake,
  channel_id: Snowflake,
  guild_id: v.optional(Snowflake),
  author: User,
  content: v.pipe(v.string(), v.maxLength(8000)),
  mentions: v.optional(v.array(v.object({ id: Snowflake })), []),
  type: v.optional(v.pipe(v.number(), v.integer()), 0),
  timestamp: v.optional(v.string()),
  webhook_id: v.optional(Snowflake),
  referenced_message: v.nullish(v.object({ author: v.optional(User) })),
});
export type MessageCreate = v.InferOutput<typeof MessageCreate>;

/** `GET /gateway/bot`. */
export const GatewayBot = v.object({
  url: v.pipe(v.string(), v.url()),
  session_start_limit: v.object({
    total: v.number(),
    remaining: v.number(),
    reset_after: v.number(),
    max_concurrency: v.optional(v.number(), 1),
  }),
});
export type GatewayBot = v.InferOutput<typeof GatewayBot>;

/** The reason a value failed its schema, short enough for a 400 body. */
export function issueSummary(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return "invalid";
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "";
  return `${path ? `${path}: ` : ""}${issue.message}`.slice(0, 200);
}
