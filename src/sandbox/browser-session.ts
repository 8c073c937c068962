/**
 * One Browser Rendering session per agent, kept by this Durable Object; every CDP socket the agent
 * opens is connected to it (browser-link.ts relays the frames unchanged).
 *
 * Why one session and not one per socket: OpenClaw opens many short probe connections (a fresh
 * socket and `Browser.getVersion` before each action, expecting an answer within ~3 s). A browser
 * per connection would cost a launch each time and run into the plan's new-browser rate. The
 * session is opened with `keep_alive`, so it outlives its connections.
 *
 * - A session that expired or closed is replaced on the next connection; a socket open on it when
 *   it ends is closed with the browser's close code, and the agent's retry gets the new one.
 * - Limits (concurrent browsers, new browsers per second) get one short wait and retry, then a
 *   429 with `Retry-After` and a plain message, never a hang.
 * - Idle: when no socket has been open for IDLE_CLOSE_MS, the alarm closes the session.
 *
 * Nothing here is reachable from the public hostname: the container reaches it through the
 * Sandbox's outbound handler for `browser.internal`, and local dev through a loopback-only route.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { recordBrowserSession } from "./usage-object";
import {
  acquireSession,
  BrowserLimitError,
  BrowserUnavailableError,
  closeSession,
  connectSession,
  jsonVersion,
  KEEP_ALIVE_MS,
  relayFrames,
} from "./browser-link";

/** Close the session after this long without any open socket. */
export const IDLE_CLOSE_MS = 5 * 60_000;
/** The longest the relay waits for a new-browser limit to clear before answering 429. */
const LIMIT_WAIT_MS = 2_000;

export interface BrowserStatus {
  /** A Browser Rendering session is held. */
  open: boolean;
  sessionId?: string;
  /** When the session was opened (ms since epoch). */
  since?: number;
  /** CDP sockets open now. */
  connections: number;
  /** Sessions opened by this object so far. */
  sessionsOpened: number;
  /** Last socket activity (ms since epoch). */
  lastActivity?: number;
  lastError?: { at: number; message: string };
}

interface Held {
  id: string;
  since: number;
}

const SESSION_KEY = "session";
const STATS_KEY = "stats";

export class BrowserSession extends DurableObject<Env> {
  private held: Held | undefined;
  private acquiring: Promise<Held> | undefined;
  private connections = 0;
  private lastActivity = 0;
  private sessionsOpened = 0;
  private lastError: { at: number; message: string } | undefined;
  private loaded: Promise<void>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.loaded = ctx.blockConcurrencyWhile(async () => {
      this.held = await ctx.storage.get<Held>(SESSION_KEY);
      const stats = await ctx.storage.get<{ sessionsOpened: number; lastActivity: number }>(STATS_KEY);
      this.sessionsOpened = stats?.sessionsOpened ?? 0;
      this.lastActivity = stats?.lastActivity ?? 0;
    });
  }

  override async fetch(request: Request): Promise<Response> {
    await this.loaded;
    const url = new URL(request.url);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return this.openSocket();
    if (request.method === "GET" && /\/json\/version\/?$/.test(url.pathname)) return jsonVersion(request.url);
    return Response.json({ error: "not found: this endpoint serves /json/version and CDP sockets" }, { status: 404 });
  }

  async status(): Promise<BrowserStatus> {
    await this.loaded;
    return {
      open: Boolean(this.held),
      sessionId: this.held?.id,
      since: this.held?.since,
      connections: this.connections,
      sessionsOpened: this.sessionsOpened,
      lastActivity: this.lastActivity || undefined,
      lastError: this.lastError,
    };
  }

  /** Close the session now (idle, or asked to). */
  async close(): Promise<void> {
    await this.loaded;
    const held = this.held;
    await this.forget(held);
    if (held && this.env.BROWSER) await closeSession(this.env.BROWSER, held.id);
  }

  override async alarm(): Promise<void> {
    await this.loaded;
    if (!this.held) return;
    const idleFor = Date.now() - this.lastActivity;
    if (this.connections === 0 && idleFor >= IDLE_CLOSE_MS) await this.close();
    else await this.ctx.storage.setAlarm(Date.now() + Math.max(1_000, IDLE_CLOSE_MS - (this.connections ? 0 : idleFor)));
  }

  private async openSocket(): Promise<Response> {
    const browser = this.env.BROWSER;
    if (!browser) return failure(503, "No browser: the BROWSER binding (Browser Rendering) is not configured.");
    let upstream: WebSocket | null = null;
    try {
      // A held session may have expired or been closed: then open a new one, once.
      for (let attempt = 0; attempt < 2 && !upstream; attempt++) {
        const held = await this.session(browser);
        upstream = await connectSession(browser, held.id);
        if (!upstream) await this.forget(held);
      }
    } catch (error) {
      this.lastError = { at: Date.now(), message: error instanceof Error ? error.message : String(error) };
      if (error instanceof BrowserLimitError) return failure(429, error.message, { "Retry-After": String(error.retryAfterS) });
      return failure(502, this.lastError.message);
    }
    if (!upstream) return failure(502, "Browser Rendering opened a browser but refused a connection to it; try again.");

    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    server.accept();
    upstream.accept();
    const held = this.held;
    this.connections++;
    this.touch();
    relayFrames(server, upstream, {
      onActivity: () => (this.lastActivity = Date.now()),
      onEnd: (by) => {
        this.connections--;
        this.touch();
        // The browser side ended the socket: the session may be gone (expired, crashed, or a client
        // sent Browser.close). Forget it if Browser Rendering no longer serves it.
        if (by === "upstream" && held) this.ctx.waitUntil(this.checkStillOpen(held));
      },
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The held session, or a new one (one acquisition at a time, however many sockets ask). */
  private async session(browser: Fetcher): Promise<Held> {
    if (this.held && Date.now() - this.lastActivity < KEEP_ALIVE_MS) return this.held;
    if (this.held) await this.forget(this.held); // unused past its keep_alive: Browser Rendering has closed it
    this.acquiring ??= this.acquire(browser).finally(() => (this.acquiring = undefined));
    return this.acquiring;
  }

  private async acquire(browser: Fetcher): Promise<Held> {
    let id: string;
    try {
      id = await acquireSession(browser);
    } catch (error) {
      if (!(error instanceof BrowserLimitError) || error.retryAfterS * 1000 > LIMIT_WAIT_MS) throw error;
      // The new-browser rate clears within a second or two: wait once rather than fail the agent.
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterS * 1000));
      id = await acquireSession(browser);
    }
    this.held = { id, since: Date.now() };
    this.sessionsOpened++;
    this.lastError = undefined;
    await this.ctx.storage.put(SESSION_KEY, this.held);
    await this.ctx.storage.setAlarm(Date.now() + IDLE_CLOSE_MS);
    return this.held;
  }

  private async checkStillOpen(held: Held): Promise<void> {
    if (this.held?.id !== held.id || !this.env.BROWSER) return;
    const probe = await connectSession(this.env.BROWSER, held.id);
    if (probe) {
      probe.accept();
      probe.close(1000, "probe");
    } else await this.forget(held);
  }

  private async forget(held: Held | undefined): Promise<void> {
    if (!held || this.held?.id !== held.id) return;
    this.held = undefined;
    await this.ctx.storage.delete(SESSION_KEY);
    // Browser Rendering bills a session while it is held open: count it for the cost view.
    await recordBrowserSession(this.env, Date.now() - held.since);
  }

  private touch(): void {
    this.lastActivity = Date.now();
    this.ctx.waitUntil(this.ctx.storage.put(STATS_KEY, { sessionsOpened: this.sessionsOpened, lastActivity: this.lastActivity }));
    if (this.connections === 0 && this.held) this.ctx.waitUntil(this.ctx.storage.setAlarm(Date.now() + IDLE_CLOSE_MS));
  }
}

function failure(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

/** The agent's browser session (one per deployment: one agent). */
export function browserSession(env: Env) {
  return env.BROWSER_SESSION.get(env.BROWSER_SESSION.idFromName("agent"));
}

/** Serve a request from the agent for its browser (`/json/version` or a CDP socket). */
export function serveAgentBrowser(request: Request, env: Env): Promise<Response> {
  return browserSession(env).fetch(request);
}

export { BrowserLimitError, BrowserUnavailableError };
