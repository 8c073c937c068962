/** The gateway methods the relay calls, typed. Shapes follow @openclaw/gateway-protocol. */
import { asRecord, type GatewayClient } from "./client";
import { messageText } from "./run-events";

export interface ChatSendAck {
  runId: string;
  status: string;
  [key: string]: unknown;
}

export interface Artifact {
  id: string;
  type: string;
  title: string;
  mimeType?: string;
  sizeBytes?: number;
  runId?: string;
  download: { mode: "bytes" | "url" | "unsupported" };
}

export interface ArtifactDownload {
  artifact: Artifact;
  /** Present for `mode: "url"`: a short-lived ticket URL (absolute or relative to the gateway). */
  url?: string;
  /** Present for `mode: "bytes"`. */
  encoding?: "base64";
  data?: string;
}

export function chatSend(
  client: GatewayClient,
  params: { sessionKey: string; message: string; idempotencyKey: string },
): Promise<ChatSendAck> {
  return client.request<ChatSendAck>("chat.send", params);
}

export function chatAbort(client: GatewayClient, params: { sessionKey: string; runId?: string }): Promise<unknown> {
  return client.request("chat.abort", params);
}

export async function listArtifacts(client: GatewayClient, params: { sessionKey: string; runId?: string }): Promise<Artifact[]> {
  const result = await client.request<{ artifacts?: Artifact[] }>("artifacts.list", params);
  return Array.isArray(result.artifacts) ? result.artifacts : [];
}

export function downloadArtifact(
  client: GatewayClient,
  params: { sessionKey: string; runId?: string; artifactId: string },
): Promise<ArtifactDownload> {
  return client.request<ArtifactDownload>("artifacts.download", params);
}

export function chatHistory(client: GatewayClient, params: { sessionKey: string; limit?: number }): Promise<Record<string, unknown>> {
  return client.request("chat.history", params);
}

/**
 * The final text of a run that already finished: what a repeated `chat.send` with the same
 * idempotency key answers `status: "ok"` for, with no events to follow.
 */
export async function finishedRunText(client: GatewayClient, sessionKey: string, runId: string): Promise<string | undefined> {
  const reply = (await runReplies(client, sessionKey, runId, 50)).at(-1);
  return reply ? messageText(reply) : undefined;
}

/** The run's assistant messages among the session's last `limit` messages. */
async function runReplies(client: GatewayClient, sessionKey: string, runId: string, limit: number): Promise<Record<string, unknown>[]> {
  const history = await chatHistory(client, { sessionKey, limit });
  const messages = Array.isArray(history.messages) ? (history.messages as Record<string, unknown>[]) : [];
  return messages.filter((message) => message.role === "assistant" && asRecord(message.__openclaw).runId === runId);
}

/** What the run's reply says about media, read from the session history. */
export interface ReplyMedia {
  /** It carries media: a `MEDIA:` line or a media part. */
  announced: boolean;
  /**
   * The paths of `MEDIA:` lines still in its text. The gateway turns each into an artifact about a
   * second after `final`; one still there later means that never happened (the gateway was killed
   * in between, and a restarted gateway does not do it), while the file itself is still on disk.
   */
  unconverted: string[];
}

/**
 * What the run's reply carries: a `MEDIA:` line (right after `final`, before the gateway turns it
 * into an artifact) or a media part (after). `undefined` while the reply is not in the history.
 */
export async function replyMedia(client: GatewayClient, sessionKey: string, runId: string): Promise<ReplyMedia | undefined> {
  const replies = await runReplies(client, sessionKey, runId, 10);
  if (replies.length === 0) return undefined;
  const unconverted = replies.flatMap((message) => mediaLines(message.content));
  return { announced: unconverted.length > 0 || replies.some((message) => carriesMedia(message.content)), unconverted };
}

/**
 * Where the gateway serves a file an assistant reply names by path (OpenClaw's own route for its
 * Control UI, under the session's media policy; the gateway token authorizes it).
 */
export function assistantMediaPath(source: string, sessionKey: string): string {
  return `/__openclaw__/assistant-media?${new URLSearchParams({ source, sessionKey })}`;
}

const MEDIA_LINE = /(?:^|\n)[ \t]*MEDIA:[ \t]*(\S[^\n]*)/g;
const MEDIA_PARTS = new Set(["image", "file", "audio", "video", "attachment", "document"]);

function textParts(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((item) => {
    const part = asRecord(item);
    return part.type === "text" && typeof part.text === "string" ? [part.text] : [];
  });
}

function mediaLines(content: unknown): string[] {
  return textParts(content).flatMap((text) => [...text.matchAll(MEDIA_LINE)].map((match) => match[1]!.trim()));
}

function carriesMedia(content: unknown): boolean {
  if (!Array.isArray(content)) return false;
  return content.some((item) => {
    const part = asRecord(item);
    return part.type !== "text" && (typeof part.artifactId === "string" || MEDIA_PARTS.has(String(part.type)));
  });
}
