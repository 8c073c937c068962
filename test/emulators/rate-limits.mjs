// Rate limits for the platform emulators, with the platforms' own figures (test/emulators/README.md
// has them with their sources). Each rule is a token bucket: `burst` calls at once, refilled at
// `perSecond`; a call past it is refused with the number of whole seconds until a token is back,
// which the emulator answers as the platform does (Slack: 429 + `Retry-After`; Telegram: 429 +
// `parameters.retry_after`). A refused call takes no token.
//
// Rules have a scope: `channel` rules key on the call's channel or chat (tests use their own, so
// these are on by default: real without disturbing other test files); `global` rules key on the
// whole workspace or bot, which every test file shares, so they are on only when asked for
// (`mode: "all"`, at start or through the control endpoint). Per channel a test can turn limits
// `off` (or to `all`) with `POST /_emulator/limits {mode, channel}` (Slack) / `{mode, chat_id}`.
//
//   const limiter = createRateLimiter(SLACK_RATE_RULES, { mode: "channel" });
//   const refusal = limiter.take(method, channel, { group: true });  // null, or { rule, retryAfter }

/** Slack Web API. Tiers are per method, per workspace: Tier 2 20+/min, Tier 3 50+/min, Tier 4 100+/min. */
export const SLACK_RATE_RULES = [
  // chat.postMessage: "1 message per second per channel", short bursts allowed.
  { name: "slack post per channel", scope: "channel", methods: ["chat.postMessage", "chat.startStream"], perSecond: 1, burst: 3 },
  { name: "slack post per workspace", scope: "global", methods: ["chat.postMessage"], perSecond: 300 / 60, burst: 300 },
  { name: "slack tier 2", scope: "global", methods: ["chat.startStream", "chat.stopStream"], perSecond: 20 / 60, burst: 20 },
  { name: "slack tier 3", scope: "global", methods: ["chat.update", "assistant.threads.setStatus"], perSecond: 50 / 60, burst: 50 },
  { name: "slack tier 4", scope: "global", methods: ["chat.appendStream", "files.getUploadURLExternal", "files.completeUploadExternal"], perSecond: 100 / 60, burst: 100 },
];

/** Telegram Bot API: sends and edits share flood control. */
const TELEGRAM_WRITES = ["sendMessage", "editMessageText", "sendPhoto", "sendVideo", "sendDocument"];
export const TELEGRAM_RATE_RULES = [
  { name: "telegram per chat", scope: "channel", methods: TELEGRAM_WRITES, perSecond: 1, burst: 3 },
  { name: "telegram per group", scope: "channel", methods: TELEGRAM_WRITES, groupsOnly: true, perSecond: 20 / 60, burst: 20 },
  { name: "telegram overall", scope: "global", methods: TELEGRAM_WRITES, perSecond: 30, burst: 30 },
];

const MODES = new Set(["off", "channel", "all"]);

/**
 * @param {typeof SLACK_RATE_RULES} rules
 * @param {{ mode?: "off" | "channel" | "all", now?: () => number }} [options]
 */
export function createRateLimiter(rules, { mode = "channel", now = Date.now } = {}) {
  let defaultMode = mode;
  /** channel/chat -> mode */
  const overrides = new Map();
  /** `${rule}|${key}` -> { tokens, at } */
  const buckets = new Map();
  const refusals = [];

  const applies = (rule, channelMode) => channelMode === "all" || (channelMode === "channel" && rule.scope === "channel");

  return {
    /** Take a token from every rule the call falls under; null, or the first rule that refused. */
    take(method, channel, { group = false } = {}) {
      const channelMode = (channel !== undefined && overrides.get(String(channel))) || defaultMode;
      if (channelMode === "off") return null;
      const matched = rules.filter((rule) => rule.methods.includes(method) && applies(rule, channelMode) && (!rule.groupsOnly || group));
      const t = now();
      const states = matched.map((rule) => {
        const key = `${rule.name}|${rule.scope === "global" ? "*" : String(channel)}`;
        const bucket = buckets.get(key) ?? { tokens: rule.burst, at: t };
        bucket.tokens = Math.min(rule.burst, bucket.tokens + ((t - bucket.at) / 1000) * rule.perSecond);
        bucket.at = t;
        buckets.set(key, bucket);
        return { rule, bucket };
      });
      const refusing = states.find(({ bucket }) => bucket.tokens < 1);
      if (refusing) {
        const retryAfter = Math.max(1, Math.ceil((1 - refusing.bucket.tokens) / refusing.rule.perSecond));
        refusals.push({ rule: refusing.rule.name, method, channel, time: t });
        return { rule: refusing.rule.name, retryAfter };
      }
      for (const { bucket } of states) bucket.tokens -= 1;
      return null;
    },
    /** `{mode}` for the emulator's default, `{mode, channel}` for one channel or chat; returns the settings. */
    configure({ mode: next, channel } = {}) {
      if (next !== undefined && !MODES.has(next)) throw new Error(`limits mode must be off, channel or all, not ${next}`);
      if (next !== undefined && channel !== undefined) overrides.set(String(channel), next);
      else if (next !== undefined) defaultMode = next;
      return { mode: defaultMode, channels: Object.fromEntries(overrides) };
    },
    refusals,
    reset(channel) {
      if (channel === undefined) {
        overrides.clear();
        buckets.clear();
        refusals.splice(0);
        return;
      }
      overrides.delete(String(channel));
      for (const key of buckets.keys()) if (key.endsWith(`|${channel}`)) buckets.delete(key);
    },
  };
}
