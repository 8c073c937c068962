/**
 * The Discord ReplySink: "typing…" kept alive while the agent works, answers streamed by
 * post-and-edit (as a reply to the message that asked), files from R2 as attachments, and relay
 * notices. A slash command's result edits its interaction's original response instead. While the
 * turn's stop control offers it, the streaming answer carries the Stop button (stop-button.ts).
 *
 * Discord shows typing for ~10 s, so the sink repeats it every `statusRefreshMs` until the answer
 * is finished, a file is posted, the status is cleared, or `maxStatusMs` passes.
 */
import type { RESTPostAPIChannelMessageJSONBody } from "discord-api-types/v10";
import type { Env } from "../../env";
import { PlatformApiError } from "../../errors";
import { formatBytes } from "../bytes";
import { createEditStream, type MessageEditor } from "../edit-stream";
import { splitText } from "../split";
import type { MediaItem, PlatformLimits, ReplySink, TextStream } from "../types";
import { type DiscordApiConfig, discordApiConfig, discordRequest, interactionPath } from "./api";
import { DISCORD_TEXT_LIMIT, markdownToDiscord } from "./format";
import { multipartMessage } from "./media";
import type { DiscordReplyTarget } from "./parse";
import { stopComponents, takeButtonOff, turnButton } from "./stop-button";

export const DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024;

export const discordLimits: PlatformLimits = {
  // Room for what formatting adds (a table's fences); an over-long result is re-split, never cut.
  maxTextLength: 1_950,
  // About 5 sends or edits per 5 s per channel: one edit every 1.25 s leaves room for the rest.
  minEditIntervalMs: 1_250,
  maxUploadBytes: DISCORD_UPLOAD_LIMIT,
  // Typing lasts ~10 s.
  statusRefreshMs: 8_000,
};

export const DEFAULT_MAX_STATUS_MS = 10 * 60_000;
/** No answer pings anyone: not @everyone, not a role, not the person it replies to. */
export const NO_MENTIONS = { parse: [] as never[], replied_user: false };
/** Ephemeral: only the person who ran the command sees it. */
export const EPHEMERAL = 64;

export interface DiscordReplyOptions {
  api?: Partial<DiscordApiConfig>;
  limits?: PlatformLimits;
  now?: () => number;
  maxStatusMs?: number;
  log?: (message: string) => void;
}

/** A nonce Discord enforces: the same post sent twice makes one message. */
export const newNonce = () => crypto.randomUUID().replace(/-/g, "").slice(0, 25);

export function openDiscordReply(env: Env, target: DiscordReplyTarget, options: DiscordReplyOptions = {}): ReplySink {
  const config = discordApiConfig(env, options.api);
  const limits = options.limits ?? discordLimits;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => console.warn(message));
  const channelPath = `/channels/${target.channel_id}`;
  /** Only the first message of an answer is a reply: the rest follow it. */
  let replied = false;

  const reference = () => {
    if (replied || !target.reply_to) return {};
    replied = true;
    return { message_reference: { message_id: target.reply_to, channel_id: target.channel_id, fail_if_not_exists: false } };
  };

  async function post(markdown: string, components?: RESTPostAPIChannelMessageJSONBody["components"]): Promise<string> {
    const content = fitted(markdown);
    const body: RESTPostAPIChannelMessageJSONBody = {
      content,
      ...reference(),
      ...(components ? { components } : {}),
      allowed_mentions: NO_MENTIONS,
      nonce: newNonce(),
      enforce_nonce: true,
    };
    const message = await discordRequest<{ id: string }>(config, "POST", `${channelPath}/messages`, { json: body, idempotent: true });
    return message.id;
  }

  async function postAll(markdown: string): Promise<void> {
    for (const part of splitText(markdown, limits.maxTextLength)) await post(part);
  }

  async function edit(id: string, markdown: string): Promise<void> {
    // Without `components` an edit leaves the message's Stop button as it is.
    await discordRequest(config, "PATCH", `${channelPath}/messages/${id}`, { json: { content: fitted(markdown), allowed_mentions: NO_MENTIONS }, idempotent: true });
  }

  /** The turn's Stop button (stop-button.ts), while it is offered: it rides on the answer's newest message. */
  const button = turnButton(target);
  async function postAnswerPart(markdown: string): Promise<string> {
    await button.posting;
    const carrying = button.message;
    if (carrying?.working) {
      // The "working" placeholder becomes the answer's first message, button and all.
      try {
        await edit(carrying.id, markdown);
        carrying.working = false;
        replied = true;
        return carrying.id;
      } catch (error) {
        log(describe("taking over the working message", error));
        button.message = undefined;
        await discordRequest(config, "DELETE", `${channelPath}/messages/${carrying.id}`, { idempotent: true }).catch(() => undefined);
      }
    }
    if (!button.ref) return post(markdown);
    button.answering = true;
    const id = await post(markdown, stopComponents(button.ref) as RESTPostAPIChannelMessageJSONBody["components"]);
    button.message = { id, working: false };
    if (carrying && !carrying.working) await takeButtonOff(config, target, carrying.id).catch((error) => log(describe("moving the stop button", error)));
    return id;
  }

  const editor: MessageEditor = { post: postAnswerPart, edit };

  let typing: ReturnType<typeof setInterval> | undefined;
  let typingUntil = 0;
  const once = { ...config, retry: { ...config.retry, attempts: 1 } };
  async function sendTyping(): Promise<void> {
    await discordRequest(once, "POST", `${channelPath}/typing`, { idempotent: true }).catch((error) => log(describe("typing", error)));
  }
  function stopTyping(): void {
    if (typing) clearInterval(typing);
    typing = undefined;
  }

  async function postLink(media: MediaItem, reason: string): Promise<void> {
    const size = formatBytes(media.size);
    const text = media.link
      ? `📎 [${escapeLabel(media.name)}](${media.link}) (${size}): ${reason}, so here is a link.`
      : `⚠️ ${escapeLabel(media.name)} (${size}) couldn't be uploaded: ${reason}.`;
    await post(text);
  }

  async function upload(media: MediaItem): Promise<void> {
    const payload = { ...reference(), allowed_mentions: NO_MENTIONS, nonce: newNonce(), enforce_nonce: true };
    await discordRequest(config, "POST", `${channelPath}/messages`, { body: () => multipartMessage(payload, media), idempotent: true });
  }

  /** A slash command's result: it replaces the "thinking…" (or the first answer) only the caller sees. */
  async function editInteraction(interaction: NonNullable<DiscordReplyTarget["interaction"]>, markdown: string): Promise<void> {
    const [first = "", ...rest] = splitText(markdown, limits.maxTextLength);
    const path = interactionPath(interaction);
    await discordRequest(config, "PATCH", `${path}/messages/@original`, { json: { content: fitted(first), allowed_mentions: NO_MENTIONS }, auth: false, idempotent: true });
    for (const part of rest) {
      await discordRequest(config, "POST", `${path}?wait=true`, { json: { content: fitted(part), flags: EPHEMERAL, allowed_mentions: NO_MENTIONS }, auth: false });
    }
  }

  return {
    async setStatus() {
      typingUntil = now() + (options.maxStatusMs ?? DEFAULT_MAX_STATUS_MS);
      await sendTyping();
      if (typing || limits.statusRefreshMs <= 0) return;
      typing = setInterval(() => {
        if (now() > typingUntil) stopTyping();
        else void sendTyping();
      }, limits.statusRefreshMs);
    },
    async clearStatus() {
      // A message ends Discord's typing indicator; just stop repeating it.
      stopTyping();
    },
    async startText(): Promise<TextStream> {
      const stream = createEditStream(editor, limits, { now: options.now, onError: (error) => log(describe("edit", error)) });
      return {
        update: (text) => stream.update(text),
        finish: (text) => stream.finish(text).finally(stopTyping),
        abort: (note) => stream.abort(note).finally(stopTyping),
      };
    },
    async postMedia(media) {
      stopTyping();
      if (media.size > limits.maxUploadBytes) return postLink(media, "it is too large to upload");
      try {
        await upload(media);
      } catch (error) {
        log(describe(`upload of ${media.name}`, error));
        await postLink(media, "the upload failed");
      }
    },
    async postNotice(text, kind) {
      if (kind === "error") stopTyping();
      const shown = kind === "error" ? `⚠️ **Error:** ${text}` : `ℹ️ ${text}`;
      if (target.interaction) {
        try {
          return await editInteraction(target.interaction, shown);
        } catch (error) {
          // The token lives 15 minutes. A refusal means nothing was shown: say it in the channel.
          if (!(error instanceof PlatformApiError) || error.status === 429 || error.status >= 500) throw error;
          log(describe("interaction expired, posting in the channel", error));
        }
      }
      await postAll(shown);
    },
  };
}

/**
 * Discord's Markdown of one split part (at most `maxTextLength`, under the limit). Should the
 * formatting grow it past the limit, the part goes as it is: formatting is dropped, never text.
 */
export function fitted(markdown: string): string {
  const formatted = markdownToDiscord(markdown);
  return formatted.length <= DISCORD_TEXT_LIMIT ? formatted : markdown;
}

function escapeLabel(name: string): string {
  return name.replace(/([\\[\]()*_~`|])/g, "\\$1");
}

function describe(what: string, error: unknown): string {
  const reason = error instanceof PlatformApiError ? `${error.method} ${error.status} ${error.code}` : String(error);
  return `discord ${what}: ${reason}`;
}
