/**
 * Where a platform's held-open connection lives (Discord's Gateway): one Durable Object per
 * platform, named after it, running the adapter's `listen` logic. Messages it receives go through
 * the same intake as webhooks. The object is started by the Worker's first request in each
 * isolate, by the cron trigger every minute and by /healthz; its alarm is the watchdog that
 * reconnects after an eviction (outgoing sockets don't hibernate and a deploy drops them).
 */
import { DurableObject } from "cloudflare:workers";
import { adapterFor, adapters } from "../adapters";
import type { InboundMessage, Listener, ListenerState } from "../adapters/types";
import type { Env } from "../env";
import { intake, storedMessage } from "./intake-object";

export class ListenerObject extends DurableObject<Env> {
  private listener: Listener | undefined;

  /** Connect unless connected; returns the connection's state. */
  async ensure(platform: string): Promise<ListenerState> {
    const listener = await this.open(platform);
    if (!listener) return { configured: false };
    await listener.ensure();
    return { configured: true, ...(await listener.status()) };
  }

  async status(platform: string): Promise<ListenerState> {
    const listener = await this.open(platform);
    return listener ? { configured: true, ...(await listener.status()) } : { configured: false };
  }

  override async alarm(): Promise<void> {
    const platform = await this.ctx.storage.get<string>("platform");
    const listener = platform ? await this.open(platform) : undefined;
    await listener?.alarm();
  }

  private async open(platform: string): Promise<Listener | undefined> {
    const adapter = adapterFor(platform);
    if (!adapter.listen || !adapter.configured(this.env)) return undefined;
    if (this.listener) return this.listener;
    await this.ctx.storage.put("platform", platform);
    const env = () => this.env;
    this.listener = adapter.listen({
      get env() {
        return env();
      },
      storage: this.ctx.storage,
      deliver: (messages) => deliver(this.env, messages),
      setAlarm: (at) => this.ctx.storage.setAlarm(at),
    });
    return this.listener;
  }
}

/** Messages from a connection, stored as a webhook's are: durable when this resolves. */
async function deliver(env: Env, messages: InboundMessage[]): Promise<void> {
  for (const message of messages) await intake(env, message.conversation).accept(storedMessage(message));
}

/** The connection object of a platform (tests may name their own). */
export function listenerObject(env: Env, name: string) {
  return env.LISTENERS.get(env.LISTENERS.idFromName(name));
}

/** Start every configured platform connection; their states by platform. */
export async function startListeners(env: Env): Promise<Record<string, ListenerState>> {
  const entries = await Promise.all(
    adapters
      .filter((adapter) => adapter.listen && adapter.configured(env))
      .map(async (adapter) => {
        try {
          return [adapter.platform, await listenerObject(env, adapter.platform).ensure(adapter.platform)] as const;
        } catch (error) {
          return [adapter.platform, { configured: true, phase: "error", lastError: error instanceof Error ? error.message : String(error) }] as const;
        }
      }),
  );
  return Object.fromEntries(entries);
}
