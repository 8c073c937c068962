/**
 * The one contract every chat platform implements.
 *
 * Data flows one way: an adapter turns a verified request into normalised inbound events, the
 * bridge stores and runs them as turns on the agent, and the same adapter's reply sink renders
 * the result. Shared code reads `limits` and the optional capabilities below instead of asking
 * which platform it is talking to.
 */
import type { Env } from "../env";

/** A JSON value: adapter data the bridge stores without reading it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where replies for one conversation go. Written by an adapter's parser, read back by its sink. */
export interface ReplyTarget {
  /** The adapter's `platform`; the only field the shared code reads. */
  platform: string;
  [key: string]: Json;
}

export interface Sender {
  /** `platform:userId`, the form `ADMINS` and allowlists use. */
  id: string;
  name?: string;
}

interface InboundBase {
  /** Names the conversation: the bridge Durable Object and the gateway session, e.g. `slack:T1:C1:1712.0001`. */
  conversation: string;
  /**
   * Keys that identify this delivery: the platform's delivery id and, where one message can arrive
   * through two events, the message's own id. Any key already seen makes it a duplicate.
   */
  dedupeKeys: string[];
  sender: Sender;
  /** A one-to-one conversation with the bot (a DM), as opposed to a channel or group. */
  direct: boolean;
  reply: ReplyTarget;
}

/** A chat message for the agent. */
export interface InboundMessage extends InboundBase {
  kind: "message";
  text: string;
  /** Milliseconds since the epoch, from the platform where it says, else arrival time. */
  sentAt: number;
}

/** A `/molt` command (a slash command, or a message that starts with `/molt`). */
export interface InboundCommand extends InboundBase {
  kind: "command";
  /** The words after `/molt`, e.g. `status` or `pair approve ABCD1234`. */
  text: string;
}

export type InboundEvent = InboundMessage | InboundCommand;

/** A command's platform-neutral result; each adapter renders it natively. */
export interface CommandReply {
  ok: boolean;
  /** Short heading, e.g. `Status`. */
  title: string;
  /** Markdown body. */
  text: string;
  /**
   * The command is still running and its result will be posted later (the ack holds "working on
   * it"). Platforms that can defer an answer (Discord) show their own "thinking" state instead.
   */
  pending?: boolean;
}

/** What an adapter makes of one verified request. */
export interface Inbound {
  events: InboundEvent[];
  /**
   * The immediate answer to the platform, sent only after every message is stored durably. For a
   * request that carried a command, `replies` holds its result (one per command event, in order).
   * `later` keeps work going after the answer (a result too long for the answer itself).
   */
  ack(replies: CommandReply[], later: (work: Promise<unknown>) => void): Response;
}

/** Numbers the shared code needs about a platform. */
export interface PlatformLimits {
  /** Longest text one message may carry (characters). Longer answers are split, never truncated. */
  maxTextLength: number;
  /** Least time between two edits of one message when streaming by post-and-edit. */
  minEditIntervalMs: number;
  /** Largest file the platform takes; bigger media are posted as links. */
  maxUploadBytes: number;
  /** How often a "working" status must be sent again to stay visible (0: once is enough). */
  statusRefreshMs: number;
}

export interface Adapter {
  /** Stable name, the `platform` of every ReplyTarget it writes (`slack`, `telegram`, ...). */
  readonly platform: string;
  readonly limits: PlatformLimits;
  /** POST paths this adapter receives, e.g. `/slack/events`. */
  readonly routes: readonly string[];
  /** Whether the secrets this adapter needs are set; routes of an unconfigured adapter answer 404. */
  configured(env: Env): boolean;
  /**
   * Verify (throw VerificationError: 401) and parse (throw PayloadError: 400) one request.
   * Must not call the platform's API: it runs before the platform has been answered.
   * `now` is the clock in milliseconds, injectable for tests.
   */
  receive(request: Request, env: Env, now: number): Promise<Inbound>;
  /** Open the reply channel for one turn of a conversation. */
  openReply(env: Env, target: ReplyTarget): ReplySink;
  /** Optional: a stop control for running turns (see StopCapable). */
  readonly stop?: StopCapable;
  /**
   * For platforms that deliver messages over a connection the relay holds open (Discord's
   * Gateway) rather than by webhook: the connection's logic, run in a Durable Object of its own
   * (one per platform), started only when `configured(env)`.
   */
  listen?(host: ListenerHost): Listener;
}

/** What a held-open connection gets from the Durable Object that keeps it. */
export interface ListenerHost {
  env: Env;
  /** The object's storage: session state that must survive an eviction. */
  storage: DurableObjectStorage;
  /**
   * Store messages the way a webhook's are stored (the intake: deduplicated on their keys, then
   * the DM policy, then their bridge). Resolves once they are durable.
   */
  deliver(messages: InboundMessage[]): Promise<void>;
  /** Ask for `alarm()` at `at` (ms since the epoch): the watchdog. */
  setAlarm(at: number): Promise<void>;
}

/** Flat facts about a connection (phase, last event time, counters). */
export type ListenerState = { [key: string]: string | number | boolean | null };

/** A connection the relay holds open to receive messages. */
export interface Listener {
  /** Connect unless connected or connecting. Cheap to call often (each cron tick, /healthz). */
  ensure(): Promise<void>;
  /** The watchdog: reconnect when the connection is gone (an evicted object has no socket). */
  alarm(): Promise<void>;
  /** Connection state for /healthz: no secrets. */
  status(): Promise<ListenerState>;
}

/** What the agent is doing, for the "working" indicator. */
export interface WorkingStatus {
  /** Human text, e.g. `thinking…`, `browsing…`, `waking up the agent…`. */
  text: string;
  /** The tool in use, when there is one. */
  tool?: string;
}

/** A file the agent made, already stored in R2. */
export interface MediaItem {
  /** R2 key (predictable: `media/<conversation>/<turn>/<artifact>-<name>`). */
  key: string;
  name: string;
  contentType: string;
  size: number;
  /** A fresh stream of the bytes from R2 each call; never the whole file in memory. */
  open(): Promise<ReadableStream<Uint8Array>>;
  /** A link to the file for when it can't be uploaded (too large, or the upload failed). */
  link?: string;
}

/** A reply being streamed. Adapters with native streaming implement it; others use the edit-stream fallback. */
export interface TextStream {
  /** The whole text so far (not a delta). Cheap to call often: implementations throttle. */
  update(text: string): Promise<void>;
  /** The final text; when it resolves the conversation shows exactly this, split as needed. */
  finish(text: string): Promise<void>;
  /** End early (the agent failed mid-reply): keep what is shown and mark it with `note`. */
  abort(note: string): Promise<void>;
}

export interface ReplySink {
  /** Show that the agent is working. Called again to refresh or to name a new tool. */
  setStatus(status: WorkingStatus): Promise<void>;
  /** Remove the working status, where the platform doesn't do it on its own when a reply arrives. */
  clearStatus(): Promise<void>;
  /** Begin a streamed text reply. */
  startText(): Promise<TextStream>;
  /** Upload one file; one that is too large or fails to upload becomes a message with a link. */
  postMedia(media: MediaItem): Promise<void>;
  /** A short message from the relay itself (not the agent): progress, retry or error notices. */
  postNotice(text: string, kind: "info" | "error"): Promise<void>;
}

/**
 * Optional capability: a control in the chat that stops the agent's running turn (Slack's agent
 * session stop button, a Stop button under the answer). The bridge offers it while a turn runs
 * and withdraws it when the turn ends. A press comes back as the command `stop <ref>` from the
 * person who pressed it; the bridge decides whether they may (the asker or an admin).
 */
export interface StopControl {
  /**
   * The turn is running: offer the control. `ref` names this run in the platform's stop event;
   * `title` is the asker's words (for platforms that title a session), `first` whether this is
   * the conversation's first turn.
   */
  running(run: { ref: string; title: string; first: boolean }): Promise<void>;
  /**
   * The attempt ended: withdraw the control (`retrying`: the turn will run again, with the
   * control offered anew). Best-effort.
   */
  ended(how: "done" | "stopped" | "failed" | "retrying"): Promise<void>;
}

/** What an adapter with a stop control adds; shared code checks for it, never for a platform. */
export interface StopCapable {
  /**
   * The ref a stop event of this platform carries for the turn `seq` of a conversation whose
   * replies go to `target` (e.g. the Slack thread, or the turn number a button was made with).
   */
  stopRef(target: ReplyTarget, seq: number): string;
  /** The stop control of one turn's reply sink. */
  openStopControl(env: Env, target: ReplyTarget): StopControl;
}
