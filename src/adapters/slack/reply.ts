/**
 * The Slack ReplySink: working status, streamed answers, files from R2 and relay notices, all in
 * the conversation's thread (a slash command's notices: to its response_url, only the caller sees
 * them). Status is best-effort; media never fails silently.
 */
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import { createEditStream, type MessageEditor } from "../edit-stream";
import type { MediaItem, PlatformLimits, ReplySink, TextStream, WorkingStatus } from "../types";
import { type SlackApiConfig, slackApi, slackApiConfig, slackRespond, trustedResponseUrl } from "./api";
import { escapeText, markdownToMrkdwn, SLACK_TEXT_LIMIT } from "./format";
import type { SlackReplyTarget } from "./parse";
import { createSlackStream, type SlackCall, type SlackStreamOptions } from "./stream";
import { formatBytes } from "../bytes";

export const slackLimits: PlatformLimits = {
  maxTextLength: SLACK_TEXT_LIMIT,
  // chat.update is Tier 3 (~50/min): one edit every 1.5 s leaves room for the rest of the turn.
  minEditIntervalMs: 1_500,
  // Slack's largest file.
  maxUploadBytes: 1024 * 1024 * 1024,
  // A status lasts 2 minutes unless a message clears it first.
  statusRefreshMs: 100_000,
};

export interface SlackReplyOptions {
  /** Overrides for the API client: `fetch`, `retry`, `baseUrl`, `token`. */
  api?: Partial<SlackApiConfig>;
  stream?: SlackStreamOptions;
  limits?: PlatformLimits;
  /** Where best-effort failures are reported. Never given a token or a request body. */
  log?: (message: string) => void;
}

export function openSlackReply(env: Env, target: SlackReplyTarget, options: SlackReplyOptions = {}): ReplySink {
  const config = slackApiConfig(env, options.api);
  const limits = options.limits ?? slackLimits;
  const log = options.log ?? ((message: string) => console.warn(message));
  const call: SlackCall = (method, body, callOptions) => slackApi(config, method, body, callOptions);
  const where = { channel: target.channel, ...(target.thread_ts ? { thread_ts: target.thread_ts } : {}) };
  /** A slash command's results go to its response_url: it works where the bot is not a member. */
  const responseUrl = trustedResponseUrl(target.response_url, config.baseUrl);
  /** Once Slack refuses a stream here, later answers in this turn go straight to post-and-edit. */
  let streamingRefused = !target.thread_ts;

  const editor: MessageEditor = {
    async post(text) {
      const result = await call("chat.postMessage", { ...where, text: markdownToMrkdwn(text) });
      return String(result.ts);
    },
    async edit(ts, text) {
      await call("chat.update", { channel: target.channel, ts, text: markdownToMrkdwn(text) }, { idempotent: true });
    },
  };
  const editStream = (): TextStream =>
    createEditStream(editor, limits, { now: options.stream?.now, onError: (error) => log(describe("edit", error)) });

  async function setThreadStatus(status: string): Promise<void> {
    if (!target.thread_ts) return;
    try {
      await call(
        "assistant.threads.setStatus",
        { channel_id: target.channel, thread_ts: target.thread_ts, status },
        { idempotent: true },
      );
    } catch (error) {
      log(describe("status", error));
    }
  }

  async function postMediaLink(media: MediaItem, reason: string): Promise<void> {
    const size = formatBytes(media.size);
    const text = media.link
      ? `:paperclip: <${media.link}|${escapeText(media.name)}> (${size}): ${reason}, so here is a link.`
      : `:warning: ${escapeText(media.name)} (${size}) couldn't be uploaded: ${reason}.`;
    await call("chat.postMessage", { ...where, text });
  }

  async function upload(media: MediaItem): Promise<void> {
    const ticket = await call("files.getUploadURLExternal", { filename: media.name, length: media.size });
    const body = await media.open();
    // A known length lets the bytes stream to Slack without buffering the whole file.
    const sized = new FixedLengthStream(media.size);
    const piping = body.pipeTo(sized.writable).catch(() => undefined);
    let response: Response;
    try {
      response = await config.fetch(String(ticket.upload_url), {
        method: "POST",
        headers: { "content-type": media.contentType || "application/octet-stream" },
        body: sized.readable,
      });
    } finally {
      await piping;
    }
    await response.body?.cancel();
    if (!response.ok) throw new PlatformApiError("slack", "files.upload", response.status, "upload_failed");
    await call("files.completeUploadExternal", {
      files: [{ id: ticket.file_id, title: media.name }],
      channel_id: target.channel,
      ...(target.thread_ts ? { thread_ts: target.thread_ts } : {}),
    });
  }

  return {
    setStatus: (status: WorkingStatus) => setThreadStatus(statusText(status)),
    clearStatus: () => setThreadStatus(""),
    async startText() {
      if (streamingRefused) return editStream();
      return createSlackStream(
        call,
        target,
        (refusal) => {
          streamingRefused = true;
          log(describe("stream refused, using chat.update", refusal));
          return editStream();
        },
        { ...options.stream, onError: (error) => log(describe("stream", error)) },
      );
    },
    async postMedia(media) {
      if (media.size > limits.maxUploadBytes) return postMediaLink(media, "it is too large to upload");
      try {
        await upload(media);
      } catch (error) {
        log(describe(`upload of ${media.name}`, error));
        await postMediaLink(media, "the upload failed");
      }
    },
    async postNotice(text, kind) {
      const body = markdownToMrkdwn(text);
      const shown = kind === "error" ? `:warning: *Error:* ${body}` : `:information_source: ${body}`;
      if (responseUrl) {
        try {
          return await slackRespond(config, responseUrl, { response_type: "ephemeral", text: shown });
        } catch (error) {
          // An answer (expired, used up, refused) means nothing was shown: post in the channel
          // instead. A lost connection may have delivered it, so that is not sent again.
          if (!(error instanceof PlatformApiError)) throw error;
          log(describe("response_url refused, posting in the channel", error));
        }
      }
      await call("chat.postMessage", { ...where, text: shown });
    },
  };
}

/** Slack shows "<App> is browsing…": the status is the part after the app's name. */
export function statusText(status: WorkingStatus): string {
  const text = status.text.trim() || "working…";
  const named = status.tool && !text.toLowerCase().includes(status.tool.toLowerCase()) ? `${text} (${status.tool})` : text;
  return /^is\b/.test(named) ? named : `is ${named}`;
}

function describe(what: string, error: unknown): string {
  const reason = error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
  return `slack ${what}: ${reason}`;
}

