/**
 * The one Durable Object that owns the gateway: it starts it (once, under a lock: concurrent first
 * messages must not spawn two gateways), checks that it is ready, restarts it on demand, and keeps
 * the relay's device identity and pairing. Bridges ask it for a ready gateway before each turn.
 *
 * Two modes: `GATEWAY_URL` set means a gateway that runs elsewhere (nothing to start; readiness is
 * checked), otherwise the gateway runs in the Sandbox container.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createDeviceIdentity, type StoredDeviceIdentity } from "../gateway/device";
import { describe, urlTransport, type GatewayTransport } from "../gateway/transport";
import {
  gatewayProcessRunning,
  redact,
  startGatewayProcess,
  stopGatewayProcess,
} from "./lifecycle";
import { pairDevice } from "./pairing";
import { addCall, today, type ModelCall, type UsageTotals } from "./model-usage";
import { openSandbox, sandboxTransport } from "./transport";
import { recordGatewayPhase } from "./usage-object";
import { stateKeeper } from "./state-keeper";

export type GatewayPhase = "stopped" | "starting" | "ready" | "unreachable";

export interface GatewayStatus {
  mode: "sandbox" | "url";
  phase: GatewayPhase;
  /** Where it runs, without secrets. */
  where: string;
  /** Since when the phase holds (ms since epoch). */
  since: number;
  /** When the gateway last became ready. */
  readyAt?: number;
  /** Gateway processes started by this relay (restarts included). */
  starts: number;
  lastError?: string;
  version?: string;
  /** The agent's model calls today (through the Worker: `llm.internal`). */
  usage?: UsageTotals;
}

export interface DeviceCredentials {
  identity: StoredDeviceIdentity;
  deviceToken?: string;
}

/**
 * How long a start may take before it counts as failed. The gateway takes ~14-26 s on two cores;
 * standard-1 has half a vCPU (measured in bench/README.md: several times slower), and a new
 * instance pulls the image first.
 */
const START_TIMEOUT_MS = 300_000;
/** Answers 200 once the gateway is ready for clients. */
const HEALTH_PATH = "/readyz";
/**
 * How long a failed bring-up is believed. Every queued turn asks for the gateway; while it is
 * down, they share one verdict instead of probing (or starting) it again each.
 */
export const UNREACHABLE_TTL_MS = 2_000;

export class GatewaySupervisor extends DurableObject<Env> {
  private starting: Promise<GatewayStatus> | undefined;
  private pairing: Promise<void> | undefined;
  /** The last failed bring-up, believed until `until`. */
  private down: { status: GatewayStatus; until: number } | undefined;

  /**
   * The gateway's state. Never wakes the container: in the Sandbox mode it is the state as last
   * seen; a gateway at GATEWAY_URL is asked (nothing to wake there).
   */
  async status(): Promise<GatewayStatus> {
    if (this.env.GATEWAY_URL) return this.ensureReady();
    return this.load();
  }

  /** Make sure a gateway is up and answering; start it if not. Concurrent calls share one start. */
  async ensureReady(): Promise<GatewayStatus> {
    if (this.down && Date.now() < this.down.until) return this.down.status;
    const current = await this.load();
    if (current.phase === "ready" && (await this.answering())) return current;
    this.starting ??= this.bringUp()
      .then((status) => {
        this.down = status.phase === "ready" ? undefined : { status, until: Date.now() + UNREACHABLE_TTL_MS };
        return status;
      })
      .finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Stop the gateway and start it again. */
  async restart(): Promise<GatewayStatus> {
    if (this.starting) await this.starting.catch(() => undefined);
    this.down = undefined;
    if (!this.env.GATEWAY_URL) await stopGatewayProcess(openSandbox(this.env), () => this.healthy(this.transport()));
    await this.save({ phase: "stopped", since: Date.now() });
    return this.ensureReady();
  }

  /**
   * The container stopped (it slept, crashed or was destroyed): its processes and its disk are gone.
   * Called from the Sandbox's stop hook, so `status()` never reports a gateway that isn't there.
   */
  async containerStopped(exitCode: number | null): Promise<void> {
    this.down = undefined;
    const current = await this.load();
    // The SDK reports a stop late (at its next alarm, or just before the next start): a start in
    // flight has seen the new container, and decides the phase itself.
    if (current.phase === "starting" || this.starting) return;
    await this.save({ phase: "stopped", since: Date.now(), lastError: `the container stopped (exit ${exitCode ?? "unknown"})` });
  }

  /** A bridge saw the gateway fail (socket dropped mid-turn): check it again before the next turn. */
  async reportFailure(message: string): Promise<void> {
    const current = await this.load();
    if (current.phase !== "ready") return;
    await this.save({ phase: "stopped", since: Date.now(), lastError: redact(message, this.env) });
  }

  /** The relay's device identity on the gateway, made once and kept. */
  async device(): Promise<DeviceCredentials> {
    let identity = await this.ctx.storage.get<StoredDeviceIdentity>("device");
    if (!identity) {
      identity = await createDeviceIdentity();
      await this.ctx.storage.put("device", identity);
    }
    const deviceToken = await this.ctx.storage.get<string>("deviceToken");
    return { identity, deviceToken };
  }

  async saveDeviceToken(token: string): Promise<void> {
    await this.ctx.storage.put("deviceToken", token);
  }

  /**
   * Pair the relay's own device, asked by a connect that got `requestId`. Only possible where the
   * relay owns the gateway; concurrent callers share one pairing (see pairing.ts), then connect again.
   */
  async pairOwnDevice(requestId: string | undefined): Promise<void> {
    if (this.env.GATEWAY_URL) {
      throw new Error(
        `the gateway at ${this.transport().description} asks to pair this relay: approve request ${requestId} there with \`openclaw devices approve ${requestId}\``,
      );
    }
    this.pairing ??= (async () => pairDevice(this.env, await this.device(), (token) => this.saveDeviceToken(token)))().finally(
      () => (this.pairing = undefined),
    );
    return this.pairing;
  }

  /** One model call of the agent (counts only, no content), from the `llm.internal` handler. */
  async recordModelCall(call: ModelCall): Promise<void> {
    const day = today();
    const totals = addCall(await this.ctx.storage.get<UsageTotals>("usage"), call, day);
    await this.ctx.storage.put("usage", totals);
    await this.ctx.storage.put("lastModelCall", call);
  }

  /** The model chosen with `/molt model`: it outlives restarts and sleeps (applied at each start). */
  async setPrimaryModel(model: string): Promise<void> {
    await this.ctx.storage.put("primaryModel", model);
  }

  async primaryModel(): Promise<string | undefined> {
    return this.ctx.storage.get<string>("primaryModel");
  }

  async recordVersion(version: string): Promise<void> {
    const current = await this.load();
    if (current.version !== version) await this.save({ version });
  }

  private async bringUp(): Promise<GatewayStatus> {
    const transport = this.transport();
    if (this.env.GATEWAY_URL) {
      if (await this.healthy(transport)) return this.save({ phase: "ready", since: Date.now(), readyAt: Date.now(), lastError: undefined });
      return this.save({ phase: "unreachable", since: Date.now(), lastError: `no answer from ${transport.description}` });
    }
    const sandbox = openSandbox(this.env);
    const started = Date.now();
    let status = await this.save({ phase: "starting", since: started });
    try {
      // A process id that is in use is overwritten, not refused: never start a second gateway
      // while one runs or still holds the port (a killed one may take seconds to let go).
      if (!(await gatewayProcessRunning(sandbox)) && !(await this.healthy(transport))) {
        // A model chosen with `/molt model` outlives restarts and sleeps: it wins over MODEL.
        const model = await this.primaryModel();
        // The agent's state goes back in place first (nothing happens where live state is there).
        await stateKeeper(this.env).beforeGatewayStart();
        await startGatewayProcess(sandbox, model ? { ...this.env, MODEL: model } : this.env);
        status = await this.save({ starts: status.starts + 1 });
      }
      while (!(await this.healthy(transport))) {
        if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`the gateway did not answer within ${START_TIMEOUT_MS / 1000} s`);
        if (!(await gatewayProcessRunning(sandbox))) throw new Error("the gateway process exited while starting");
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return this.save({ phase: "ready", since: Date.now(), readyAt: Date.now(), lastError: undefined });
    } catch (error) {
      return this.save({ phase: "unreachable", since: Date.now(), lastError: redact(describe(error), this.env) });
    }
  }

  /**
   * Whether the gateway this supervisor believes ready still answers. In the Sandbox mode the
   * process list comes first: probing the gateway's port on a container that slept would start the
   * container and then wait (up to ~90 s) for a port nothing opens.
   */
  private async answering(): Promise<boolean> {
    if (this.env.GATEWAY_URL) return this.healthy(this.transport());
    try {
      if (!(await gatewayProcessRunning(openSandbox(this.env)))) return false;
    } catch {
      return false;
    }
    return this.healthy(this.transport());
  }

  private async healthy(transport: GatewayTransport): Promise<boolean> {
    try {
      const response = await transport.fetch(HEALTH_PATH, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  private transport(): GatewayTransport {
    return this.env.GATEWAY_URL ? urlTransport(this.env.GATEWAY_URL) : sandboxTransport(this.env);
  }

  private async load(): Promise<GatewayStatus> {
    const stored = await this.ctx.storage.get<GatewayStatus>("status");
    const mode = this.env.GATEWAY_URL ? "url" : "sandbox";
    const where = this.transport().description;
    const usage = await this.ctx.storage.get<UsageTotals>("usage");
    return { phase: "stopped", since: Date.now(), starts: 0, ...stored, mode, where, usage: usage?.day === today() ? usage : undefined };
  }

  private async save(change: Partial<GatewayStatus>): Promise<GatewayStatus> {
    const next = { ...(await this.load()), ...change };
    const { usage: _usage, ...stored } = next;
    await this.ctx.storage.put("status", stored);
    await recordGatewayPhase(this.env, next);
    return next;
  }
}

/** The supervisor of this deployment. */
export function gatewaySupervisor(env: Env) {
  return env.GATEWAY.get(env.GATEWAY.idFromName("default"));
}
