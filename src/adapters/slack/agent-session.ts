/**
 * Slack as a native agent: each thread is an agent session. While a turn runs, its session is
 * `processing` (Slack shows its own stop button, which sends `agent_session_stopped`); when the
 * turn ends it is `active` again. The first message titles the session, and the split pane opens
 * with suggested prompts.
 *
 * All of it is best-effort. A workspace without the feature, or an app installed from an older
 * manifest, refuses these methods: the relay then keeps today's behaviour (the thread status and
 * the streamed answer) for the rest of the turn, and asks again on the next one (one cheap call,
 * so that switching the feature on takes effect at once). A warning (such as a missing
 * `agent_session_stopped` subscription) is logged; nothing here ever fails a turn.
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import { defaultRetryPolicy } from "../retry";
import type { ReplyTarget, StopCapable, StopControl } from "../types";
import { slackApi, type SlackApiConfig, slackApiConfig, type SlackOk } from "./api";
import type { SlackThreadStarted } from "./agent-events";
import type { SlackReplyTarget } from "./parse";

/** The split pane's suggested prompts; manifest.yml's `agent_view` lists the same. */
export const SUGGESTED_PROMPTS = [
  { title: "What can you do?", message: "What can you help me with, and how do I ask?" },
  { title: "Research something", message: "Research a topic for me and give me a short summary with sources. Ask me which topic." },
  { title: "Check a website", message: "Open a website for me, take a screenshot and tell me what is on it. Ask me which one." },
  { title: "Draft a message", message: "Help me draft a message. Ask me who it is for and what it should say." },
] as const;

/** Longest session title Slack takes. */
export const MAX_TITLE = 200;
export interface AgentSessionOptions {
  api?: Partial<SlackApiConfig>;
  log?: (message: string) => void;
}

export const slackStop: StopCapable = {
  // Slack's stop event names the session's thread.
  stopRef: (target, seq) => (target as SlackReplyTarget).thread_ts ?? String(seq),
  openStopControl: (env, target) => openSlackAgentSession(env, target as SlackReplyTarget),
};

export function openSlackAgentSession(env: Env, target: SlackReplyTarget, options: AgentSessionOptions = {}): StopControl {
  // A session status is not worth holding up the turn for: one quick retry at most.
  const config = slackApiConfig(env, { retry: { ...defaultRetryPolicy, attempts: 2, maxWaitMs: 3_000 }, ...options.api });
  const log = options.log ?? ((message: string) => console.warn(message));
  const thread = target.thread_ts;
  let refused = false;

  async function call(method: string, body: Record<string, unknown>): Promise<void> {
    if (!thread || refused) return;
    try {
      const result: SlackOk = await slackApi(config, method, { channel_id: target.channel, thread_ts: thread, ...body }, { idempotent: true });
      if (typeof result.warning === "string") log(`slack ${method}: warning ${result.warning}`);
    } catch (error) {
      log(`slack ${method}: ${describe(error)}`);
      // Slack said no (feature off, older manifest, missing scope): today's behaviour from here on.
      if (error instanceof PlatformApiError && error.status === 200) refused = true;
    }
  }

  return {
    async running({ title, first }) {
      // The session's first message titles it: the conversation's first turn, or a message that
      // started its own thread (each top-level DM message does).
      // Renamed rather than titled in setStatus: a session Slack made already (the split pane
      // opened it) keeps its first title otherwise.
      const titled = first || target.ts === thread;
      await call("agents.sessions.setStatus", { status: "processing", initiator_user_id: target.user });
      if (titled) await call("agents.sessions.rename", { title: sessionTitle(title) });
    },
    async ended(how) {
      // A turn that will be retried stays `processing`: its stop button still works.
      if (how === "retrying") return;
      await call("agents.sessions.setStatus", { status: "active" });
    },
  };
}

/** The split pane opened: offer the suggested prompts. Best-effort. */
export async function suggestPrompts(env: Env, thread: SlackThreadStarted, options: AgentSessionOptions = {}): Promise<void> {
  const config = slackApiConfig(env, options.api);
  const log = options.log ?? ((message: string) => console.warn(message));
  try {
    await slackApi(
      config,
      "assistant.threads.setSuggestedPrompts",
      { channel_id: thread.channel, thread_ts: thread.thread_ts, title: "What can I do for you?", prompts: SUGGESTED_PROMPTS },
      { idempotent: true },
    );
  } catch (error) {
    log(`slack suggested prompts: ${describe(error)}`);
  }
}

/** A refused stop, told only to the person who pressed it. Best-effort. */
export async function tellStopRefused(env: Env, target: ReplyTarget, text: string): Promise<void> {
  const slack = target as SlackReplyTarget;
  try {
    await slackApi(slackApiConfig(env), "chat.postEphemeral", {
      channel: slack.channel,
      user: slack.user,
      ...(slack.thread_ts ? { thread_ts: slack.thread_ts } : {}),
      text,
    });
  } catch (error) {
    console.warn(`slack stop refusal: ${describe(error)}`);
  }
}

/** One line of the asker's words, within Slack's limit. */
export function sessionTitle(text: string): string {
  const line = text.replace(/\s+/g, " ").trim() || "New conversation";
  return line.length <= MAX_TITLE ? line : `${line.slice(0, MAX_TITLE - 1)}…`;
}

function describe(error: unknown): string {
  return error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
}
