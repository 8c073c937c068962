/**
 * The agent's browser link: Chrome DevTools Protocol frames relayed unchanged between the agent's
 * socket and a Cloudflare Browser Rendering session.
 *
 * Browser Rendering is reached only through the `BROWSER` binding's fetch routes, which exist
 * both deployed and in local miniflare (the typed `launch()`/`acquire()` methods do not exist
 * locally), so one code path runs in both:
 *   POST   /v1/devtools/browser?keep_alive=<ms>   -> { sessionId }
 *   GET    /v1/devtools/browser/<id>  (Upgrade)    -> a raw CDP socket to that browser
 *   DELETE /v1/devtools/browser/<id>
 * No CDP method is read, emulated or rewritten: frames keep their type (text or binary) and bytes.
 */

/** The host the agent's OpenClaw is given for its browser (`cdpUrl: http://browser.internal`). */
export const BROWSER_HOST = "browser.internal";

/** How long Browser Rendering keeps a session without connections (its maximum is 10 min). */
export const KEEP_ALIVE_MS = 600_000;

/** Browser Rendering refused a new browser: the plan's concurrency or new-browser rate limit. */
export class BrowserLimitError extends Error {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
    this.name = "BrowserLimitError";
  }
}

/** Browser Rendering failed in some other way (not a limit). */
export class BrowserUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BrowserUnavailableError";
  }
}

const ORIGIN = "https://browser-rendering";

/** Opens a new browser session that outlives its connections for `keepAliveMs`. */
export async function acquireSession(browser: Fetcher, keepAliveMs = KEEP_ALIVE_MS): Promise<string> {
  const response = await browser.fetch(`${ORIGIN}/v1/devtools/browser?keep_alive=${keepAliveMs}`, { method: "POST" });
  const body = (await response.text()).slice(0, 500);
  if (response.status === 429) {
    const retryAfterS = Math.max(1, Math.min(60, Number(response.headers.get("retry-after")) || 1));
    throw new BrowserLimitError(
      `Browser Rendering's limit on browsers was reached (concurrent browsers, or new browsers per second on this plan): ${body.trim() || "429"}. Try again in ${retryAfterS} s.`,
      retryAfterS,
    );
  }
  if (!response.ok) throw new BrowserUnavailableError(`Browser Rendering could not open a browser: HTTP ${response.status} ${body.trim()}`);
  let sessionId: unknown;
  try {
    sessionId = (JSON.parse(body) as { sessionId?: unknown }).sessionId;
  } catch {
    sessionId = undefined;
  }
  if (typeof sessionId !== "string" || !sessionId) throw new BrowserUnavailableError("Browser Rendering answered without a session id");
  return sessionId;
}

/** Opens a raw CDP socket to a session, or returns null when the session is gone (expired or closed). */
export async function connectSession(browser: Fetcher, sessionId: string): Promise<WebSocket | null> {
  const response = await browser
    .fetch(`${ORIGIN}/v1/devtools/browser/${encodeURIComponent(sessionId)}`, { headers: { Upgrade: "websocket" } })
    .catch(() => null);
  if (!response?.webSocket) {
    await response?.body?.cancel();
    return null;
  }
  return response.webSocket;
}

/** Closes a session; a session that is already gone is not an error. */
export async function closeSession(browser: Fetcher, sessionId: string): Promise<void> {
  const response = await browser.fetch(`${ORIGIN}/v1/devtools/browser/${encodeURIComponent(sessionId)}`, { method: "DELETE" }).catch(() => null);
  await response?.body?.cancel();
}

/**
 * `GET [<prefix>]/json/version`, answered by the relay: the socket URL keeps the host, port, scheme
 * and path prefix the agent asked with (OpenClaw and Playwright require that), and names no
 * session: every socket opened on it is connected to the agent's one session.
 */
export function jsonVersion(requestUrl: string): Response {
  const url = new URL(requestUrl);
  const scheme = url.protocol === "https:" ? "wss:" : "ws:";
  const prefix = url.pathname.replace(/\/json\/version\/?$/, "");
  return Response.json({
    Browser: "Cloudflare Browser Rendering",
    "Protocol-Version": "1.3",
    webSocketDebuggerUrl: `${scheme}//${url.host}${prefix}/devtools/browser`,
  });
}

/** Close codes that may not be sent in a close frame. */
const RESERVED_CLOSE_CODES = new Set([1004, 1005, 1006, 1015]);

function closeWith(socket: WebSocket, code?: number, reason?: string): void {
  if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
  try {
    if (code && code >= 1000 && code < 5000 && !RESERVED_CLOSE_CODES.has(code)) socket.close(code, reason?.slice(0, 120));
    else socket.close(1011, reason?.slice(0, 120) || "the other side went away");
  } catch {
    // Already closing.
  }
}

export interface RelayEvents {
  /** A frame went through, in either direction. */
  onActivity?(): void;
  /** The relay ended; `by` says which side closed or failed first. */
  onEnd?(by: "client" | "upstream", code?: number): void;
}

/**
 * Relays frames between two accepted sockets unchanged, in both directions, until either closes;
 * then closes the other with the same code and reason.
 */
export function relayFrames(client: WebSocket, upstream: WebSocket, events: RelayEvents = {}): void {
  // Binary frames as ArrayBuffers, which send() takes back unchanged.
  client.binaryType = "arraybuffer";
  upstream.binaryType = "arraybuffer";
  let ended = false;
  const end = (by: "client" | "upstream", code?: number, reason?: string) => {
    if (ended) return;
    ended = true;
    closeWith(by === "client" ? upstream : client, code, reason);
    closeWith(by === "client" ? client : upstream, code, reason);
    events.onEnd?.(by, code);
  };
  const forward = (to: WebSocket, by: "client" | "upstream") => (event: MessageEvent) => {
    try {
      to.send(event.data as string | ArrayBuffer);
      events.onActivity?.();
    } catch (error) {
      end(by === "client" ? "upstream" : "client", 1011, error instanceof Error ? error.message : "send failed");
    }
  };
  client.addEventListener("message", forward(upstream, "client"));
  upstream.addEventListener("message", forward(client, "upstream"));
  client.addEventListener("close", (event) => end("client", event.code, event.reason));
  upstream.addEventListener("close", (event) => end("upstream", event.code, event.reason));
  client.addEventListener("error", () => end("client", 1011, "client socket error"));
  upstream.addEventListener("error", () => end("upstream", 1011, "browser socket error"));
}
