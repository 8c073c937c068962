/**
 * Discord's Gateway, held in a Durable Object (src/bridge/listener-object.ts hosts it): the only way
 * Discord delivers messages. The whole lifecycle:
 *
 * - The URL comes from `GET /gateway/bot`, with `session_start_limit`. IDENTIFY is rationed against
 *   it (a bot that runs out has its token reset): with none left the object waits for the reset,
 *   and two identifies are at least 5 s apart.
 * - Hello gives the heartbeat interval; the first beat goes after `interval * random()`, the rest
 *   every interval, carrying the last handled sequence. A beat whose predecessor got no ACK means a
 *   zombie connection: it is closed (code 4000, so the session stays resumable) and resumed.
 * - Identify, Ready (session id, resume URL and the bot's id are stored), then dispatches. A
 *   dropped socket, Reconnect (op 7) or a resumable Invalid Session (op 9) resumes on the stored
 *   resume URL with the stored sequence; Discord replays what was missed. A session Discord won't
 *   resume identifies afresh.
 * - Dispatches are handled one at a time, in order. A message for the agent is stored (the intake)
 *   before its sequence counts as handled; should storing fail, the connection is dropped and
 *   resumed from the last handled sequence, so Discord sends it again. Duplicates (a replay of a
 *   message already stored) are recognised by the intake on the message id.
 * - Outgoing sockets don't hibernate: an open one keeps the object alive, but a deploy or an
 *   eviction drops it with no hook. The alarm is the watchdog: every minute it reconnects when the
 *   socket is gone (nothing in memory) or has gone quiet.
 */
import type { GatewayIdentifyData, GatewayResumeData } from "discord-api-types/v10";
import * as v from "valibot";
import type { Env } from "../../env";
import type { Listener, ListenerHost, ListenerState } from "../types";
import { discordApiConfig, discordRequest } from "./api";
import { parseGatewayMessage } from "./parse";
import { GatewayStore } from "./gateway-store";
import { GatewayBot, GatewayPayload, Hello, MessageCreate, Ready } from "./schemas";

export const GATEWAY_VERSION = 10;
export const INTENTS = { GUILD_MESSAGES: 1 << 9, DIRECT_MESSAGES: 1 << 12, MESSAGE_CONTENT: 1 << 15 } as const;
/** The watchdog's period. */
export const WATCHDOG_MS = 60_000;
/** Least time between two IDENTIFYs (Discord: one per 5 s per concurrency bucket). */
export const IDENTIFY_SPACING_MS = 5_000;
/** How long a new socket may wait for Hello before it is given up. */
export const HELLO_TIMEOUT_MS = 20_000;
/** Close codes after which reconnecting can't help (bad token, bad intents, disallowed intents). */
const FATAL_CLOSE = new Set([4004, 4010, 4011, 4012, 4013, 4014]);
/** Close codes after which the session is gone: identify afresh. */
const SESSION_GONE_CLOSE = new Set([4007, 4009]);

export type GatewayPhase = "idle" | "connecting" | "identifying" | "resuming" | "ready" | "waiting" | "failed";

export interface GatewayOptions {
  random?: () => number;
  now?: () => number;
  log?: (message: string) => void;
}

export function intentsFor(env: Env): number {
  const content = /^(1|true|yes)$/i.test(env.DISCORD_MESSAGE_CONTENT ?? "");
  return INTENTS.GUILD_MESSAGES | INTENTS.DIRECT_MESSAGES | (content ? INTENTS.MESSAGE_CONTENT : 0);
}

export function createDiscordGateway(host: ListenerHost, options: GatewayOptions = {}): Listener {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => console.warn(`discord gateway: ${message}`));

  let socket: WebSocket | undefined;
  /** Bumped per socket: events of an old socket are ignored. */
  let generation = 0;
  let phase: GatewayPhase = "idle";
  let connecting: Promise<void> | undefined;
  let heartbeat: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let interval = 0;
  let acked = true;
  let lastAckAt = 0;
  let failures = 0;
  let chain: Promise<void> = Promise.resolve();

  const store = new GatewayStore(host.storage, log);
  const { loadSession, saveSession, loadStats, saveStats } = store;

  function send(payload: { op: number; d: unknown }): void {
    try {
      socket?.send(JSON.stringify(payload));
    } catch (error) {
      log(`send failed: ${String(error)}`);
    }
  }

  function clearTimers(): void {
    if (heartbeat) clearTimeout(heartbeat);
    if (retryTimer) clearTimeout(retryTimer);
    heartbeat = retryTimer = undefined;
  }

  /** Drop the socket (code 4000 keeps the session resumable) and reconnect after `delayMs`. */
  function reconnect(why: string, delayMs = 0): void {
    log(`reconnecting: ${why}`);
    const old = socket;
    socket = undefined;
    generation++;
    clearTimers();
    phase = "connecting";
    try {
      old?.close(4000, why.slice(0, 100));
    } catch {
      // already closed
    }
    void saveStats((current) => ({ reconnects: current.reconnects + 1 }));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void start();
    }, delayMs);
  }

  function beat(): void {
    if (!acked) {
      void saveStats((current) => ({ zombies: current.zombies + 1, lastError: "no heartbeat ACK: zombie connection" }));
      reconnect("no heartbeat ACK (zombie connection)");
      return;
    }
    acked = false;
    send({ op: 1, d: store.session?.seq ?? null });
    heartbeat = setTimeout(beat, interval);
  }

  async function identify(env: Env, mine: number): Promise<void> {
    const current = await loadStats();
    const wait = (current.lastIdentifyAt ?? 0) + IDENTIFY_SPACING_MS - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (mine !== generation) return;
    phase = "identifying";
    const identity: GatewayIdentifyData = {
      token: env.DISCORD_BOT_TOKEN ?? "",
      intents: intentsFor(env),
      properties: { os: "cloudflare-workers", browser: "molt-relay", device: "molt-relay" },
    };
    send({ op: 2, d: identity });
    await saveStats((latest) => ({
      identifies: latest.identifies + 1,
      lastIdentifyAt: now(),
      identifyRemaining: Math.max(0, (latest.identifyRemaining ?? 1) - 1),
    }));
  }

  async function onHello(data: unknown, mine: number): Promise<void> {
    const hello = v.safeParse(Hello, data);
    if (!hello.success) return reconnect("malformed Hello", 1_000);
    interval = hello.output.heartbeat_interval;
    if (heartbeat) clearTimeout(heartbeat);
    acked = true;
    lastAckAt = now();
    heartbeat = setTimeout(beat, Math.floor(interval * random()));
    const stored = await loadSession();
    if (mine !== generation) return;
    if (stored) {
      phase = "resuming";
      const resume: GatewayResumeData = { token: host.env.DISCORD_BOT_TOKEN ?? "", session_id: stored.sessionId, seq: stored.seq ?? 0 };
      send({ op: 6, d: resume });
      await saveStats((current) => ({ resumes: current.resumes + 1 }));
    } else await identify(host.env, mine);
  }

  /** One dispatch; its sequence counts as handled only when this resolves. */
  async function onDispatch(name: string | null | undefined, data: unknown, seq: number | null | undefined, mine: number): Promise<void> {
    if (mine !== generation) return;
    if (name === "READY") {
      const ready = v.safeParse(Ready, data);
      if (!ready.success) return reconnect("malformed READY", 1_000);
      failures = 0;
      phase = "ready";
      await saveSession({ sessionId: ready.output.session_id, resumeUrl: ready.output.resume_gateway_url, seq: seq ?? null });
      await saveStats({ botId: ready.output.user.id, via: "identified", lastError: undefined, lastEventAt: now() });
      return;
    }
    if (name === "RESUMED") {
      failures = 0;
      phase = "ready";
      await saveStats({ via: "resumed", lastError: undefined });
    } else if (name === "MESSAGE_CREATE") {
      const parsed = v.safeParse(MessageCreate, data);
      if (!parsed.success) log("skipped a MESSAGE_CREATE of the wrong shape");
      else {
        const message = parseGatewayMessage(parsed.output, (await loadStats()).botId);
        if (message) await host.deliver([message]);
      }
    }
    if (mine !== generation) return;
    const current = await loadSession();
    if (current && typeof seq === "number") await saveSession({ ...current, seq });
    await saveStats({ lastEventAt: now() });
  }

  function onMessage(raw: unknown, mine: number): void {
    if (mine !== generation || typeof raw !== "string") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return log("a frame that is not JSON");
    }
    const parsed = v.safeParse(GatewayPayload, value);
    if (!parsed.success) return log("a payload of the wrong shape");
    const { op, d, s, t } = parsed.output;
    switch (op) {
      case 10:
        chain = chain.then(() => onHello(d, mine)).catch((error) => log(`Hello: ${String(error)}`));
        return;
      case 11:
        acked = true;
        lastAckAt = now();
        return;
      case 1:
        send({ op: 1, d: store.session?.seq ?? null });
        return;
      case 7:
        return reconnect("Discord asked to reconnect (op 7)");
      case 9: {
        const resumable = d === true;
        chain = chain
          .then(async () => {
            if (!resumable) await saveSession(null);
          })
          .then(() => reconnect(`invalid session (${resumable ? "resumable" : "not resumable"})`, resumable ? 0 : 1_000 + Math.floor(random() * 4_000)));
        return;
      }
      case 0:
        chain = chain
          .then(() => onDispatch(t, d, s, mine))
          .catch((error) => {
            // Not stored, so not handled: resume from the last handled sequence and get it again.
            log(`dispatch ${t ?? "?"} failed: ${error instanceof Error ? error.message : String(error)}`);
            if (mine === generation) reconnect("a dispatch could not be handled", 1_000);
          });
        return;
    }
  }

  function onClose(code: number, mine: number): void {
    if (mine !== generation) return;
    socket = undefined;
    generation++;
    clearTimers();
    if (FATAL_CLOSE.has(code)) {
      phase = "failed";
      void saveStats({ lastError: `Discord closed the Gateway with ${code}; check the token and the intents` });
      return;
    }
    failures++;
    const delay = Math.min(1_000 * 2 ** (failures - 1), 60_000) * (0.5 + random() / 2);
    chain = chain
      .then(async () => {
        if (SESSION_GONE_CLOSE.has(code)) await saveSession(null);
      })
      .then(() => reconnect(`closed with ${code}`, failures === 1 ? 0 : delay));
  }

  async function gatewayUrl(): Promise<string | undefined> {
    const current = await loadStats();
    if ((current.identifyRemaining ?? 1) <= 0 && (current.identifyResetAt ?? 0) > now()) return undefined;
    const config = discordApiConfig(host.env);
    const raw = await discordRequest(config, "GET", "/gateway/bot", { idempotent: true });
    const bot = v.parse(GatewayBot, raw);
    const limit = bot.session_start_limit;
    await saveStats({ identifyRemaining: limit.remaining, identifyResetAt: now() + limit.reset_after });
    return limit.remaining > 0 ? bot.url : undefined;
  }

  async function open(): Promise<void> {
    const stored = await loadSession();
    const base = stored?.resumeUrl ?? (await gatewayUrl());
    if (!base) {
      phase = "waiting";
      const resetAt = (await loadStats()).identifyResetAt ?? now() + WATCHDOG_MS;
      await saveStats({ lastError: "no IDENTIFY left in session_start_limit: waiting for its reset" });
      await host.setAlarm(Math.max(resetAt, now() + 1_000));
      return;
    }
    const url = new URL(base);
    url.protocol = url.protocol === "ws:" ? "http:" : "https:";
    url.searchParams.set("v", String(GATEWAY_VERSION));
    url.searchParams.set("encoding", "json");
    const response = await fetch(url.toString(), { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket;
    if (!ws) {
      await response.body?.cancel();
      throw new Error(`the Gateway answered ${response.status} instead of a WebSocket`);
    }
    ws.accept();
    const mine = ++generation;
    socket = ws;
    phase = "connecting";
    acked = true;
    heartbeat = setTimeout(() => mine === generation && reconnect("no Hello from the Gateway"), HELLO_TIMEOUT_MS);
    ws.addEventListener("message", (event) => onMessage(event.data, mine));
    ws.addEventListener("close", (event) => onClose(event.code, mine));
    ws.addEventListener("error", () => onClose(1006, mine));
  }

  async function start(): Promise<void> {
    if (socket || connecting) return connecting;
    connecting = open()
      .catch(async (error) => {
        failures++;
        phase = "connecting";
        const message = error instanceof Error ? error.message : String(error);
        await saveStats({ lastError: message.slice(0, 300) });
        const delay = Math.min(1_000 * 2 ** (failures - 1), 60_000);
        log(`connect failed (${message}); again in ${delay} ms`);
        if (retryTimer) clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void start();
        }, delay);
      })
      .finally(() => (connecting = undefined));
    return connecting;
  }

  /** Replace a socket that has gone quiet; open one when there is none (unless a retry is due). */
  async function watch(retryNow: boolean): Promise<void> {
    if (socket && interval > 0 && now() - lastAckAt > 2 * interval + 10_000) return reconnect("no heartbeat ACK for two intervals");
    // A refused token stays refused until the object restarts (a redeploy with a new secret).
    if (socket || connecting || phase === "failed") return;
    if (retryTimer && !retryNow) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    await start();
  }

  return {
    async ensure() {
      await host.setAlarm(now() + WATCHDOG_MS);
      await watch(false);
    },
    async alarm() {
      await host.setAlarm(now() + WATCHDOG_MS);
      await watch(true);
    },
    async status() {
      const current = await loadStats();
      const stored = await loadSession();
      const out: ListenerState = {
        phase,
        connected: Boolean(socket) && phase === "ready",
        via: current.via ?? null,
        seq: stored?.seq ?? null,
        lastEventAt: current.lastEventAt ?? null,
        lastHeartbeatAckAt: lastAckAt || null,
        identifies: current.identifies,
        resumes: current.resumes,
        zombies: current.zombies,
        identifyRemaining: current.identifyRemaining ?? null,
        lastError: current.lastError ?? null,
      };
      return out;
    },
  };
}
