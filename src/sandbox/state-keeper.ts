/**
 * The Durable Object that keeps the agent's state (one per deployment): it owns the pointer and
 * the history of snapshots (state-core.ts), runs the container's side through the Sandbox SDK, and
 * decides when: ~1 minute after state-changing turns (debounced), before the container sleeps,
 * before a restart, on `/molt backup`, and retries of what failed.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterFor } from "../adapters";
import type { ReplyTarget } from "../adapters/types";
import type { Env } from "../env";
import { redact, stopGatewayProcess } from "./lifecycle";
import { parseOutput, ListingSchema, RestoreResultSchema, type RestoreResult } from "./state-manifest";
import { StateKeeperCore, type KeeperStatus, type SnapshotOutcome, type StateContainer } from "./state-core";
import { DEBOUNCE_MS, type SnapshotRecord } from "./state-policy";
import { gatewaySupervisor } from "./supervisor";
import { openSandbox } from "./transport";

/** The container's persistence script (container/agent-state.mjs, copied by the Dockerfile). */
export const STATE_SCRIPT = "/opt/molt-relay/agent-state.mjs";
const MAX_ADMIN_TARGETS = 5;

/** The container side, run with `exec` in the Sandbox. */
export function sandboxStateContainer(env: Env): StateContainer {
  const run = async (args: string) => {
    const result = await openSandbox(env).exec(`node ${STATE_SCRIPT} ${args}`, { timeout: 10 * 60_000 });
    if (result.exitCode !== 0) throw new Error(redact((result.stderr || result.stdout || `exit ${result.exitCode}`).trim(), env));
    return result.stdout;
  };
  return {
    snapshot: async () => parseOutput(ListingSchema, await run("snapshot")),
    restore: async (generation, replace) => parseOutput(RestoreResultSchema, await run(`restore ${generation}${replace ? " --replace" : ""}`)),
  };
}

export class StateKeeper extends DurableObject<Env> {
  private keeper: StateKeeperCore | undefined;

  /** Why nothing is kept, or null when snapshots are taken: they need the STATE bucket and the Sandbox. */
  unconfigured(): string | null {
    if (this.env.GATEWAY_URL) return "the gateway runs elsewhere (`GATEWAY_URL`), so its state is kept where it runs, not here";
    if (!this.env.STATE) return "no persistence is configured (no `STATE` bucket): the agent's state lives only in its container";
    return null;
  }

  /** Take a snapshot now. Triggers at the same time share one. */
  async snapshot(reason: string, force = false): Promise<SnapshotOutcome> {
    const off = this.unconfigured();
    if (off) return { kind: "refused", why: off };
    await this.ctx.storage.delete("due");
    const outcome = await this.core().snapshot(reason, force);
    await this.reschedule();
    return outcome;
  }

  /** A turn changed the agent's state: snapshot within DEBOUNCE_MS (later changes share it). */
  async changed(): Promise<void> {
    if (this.unconfigured()) return;
    if (!(await this.ctx.storage.get<number>("due"))) await this.ctx.storage.put("due", Date.now() + DEBOUNCE_MS);
    await this.reschedule();
  }

  /** Called by the supervisor before it starts the gateway in a container. */
  async beforeGatewayStart(): Promise<{ ok: boolean; result?: RestoreResult; error?: string }> {
    if (this.unconfigured()) return { ok: true };
    const outcome = await this.core().beforeGatewayStart();
    await this.reschedule();
    return outcome;
  }

  /** `/molt restore`: snapshot what is there (unless it is a memory-less start), stop the gateway, restore. */
  async restoreTo(generation: number): Promise<{ before: SnapshotOutcome; result: RestoreResult }> {
    const before = await this.snapshot(`before restoring ${generation}`);
    const status = await this.core().status();
    if ((before.kind === "failed" || before.kind === "refused") && !status.lockout) {
      throw new Error(`the current state could not be saved first (${before.kind === "failed" ? before.error : before.why}), so nothing was restored`);
    }
    // The gateway must not run while its state directory is replaced; the caller restarts it.
    await stopGatewayProcess(openSandbox(this.env), async () => false);
    const result = await this.core().restoreTo(generation);
    await this.reschedule();
    return { before, result };
  }

  async list(): Promise<SnapshotRecord[]> {
    return this.core().records();
  }

  async status(): Promise<KeeperStatus & { configured: boolean; why?: string }> {
    const off = this.unconfigured();
    if (off) return { configured: false, why: off };
    return { ...(await this.core().status()), configured: true };
  }

  /** Where admin notices go: the chats admins last ran `/molt` commands in. */
  async rememberAdmin(target: ReplyTarget): Promise<void> {
    const targets = (await this.ctx.storage.get<ReplyTarget[]>("adminTargets")) ?? [];
    const key = JSON.stringify(target);
    const next = [target, ...targets.filter((t) => JSON.stringify(t) !== key)].slice(0, MAX_ADMIN_TARGETS);
    await this.ctx.storage.put("adminTargets", next);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = await this.ctx.storage.get<number>("due");
    const { snapshotAt, restoreAt } = await this.core().retryDue();
    // Never wake a sleeping container: it was snapshotted before it slept, and restores when it wakes.
    const awake = (await gatewaySupervisor(this.env).status()).phase === "ready";
    if (restoreAt !== undefined && restoreAt <= now) {
      // Restart (which restores first) only once the snapshot's objects are all back in R2.
      if (awake && (await this.core().readyToRetryRestore())) await gatewaySupervisor(this.env).restart();
    } else if ((due !== undefined && due <= now) || (snapshotAt !== undefined && snapshotAt <= now)) {
      if (awake) await this.snapshot(due !== undefined ? "turns" : "retry");
      else await this.ctx.storage.delete("due");
    }
    await this.reschedule();
  }

  private async reschedule(): Promise<void> {
    const due = await this.ctx.storage.get<number>("due");
    const { snapshotAt, restoreAt } = await this.core().retryDue();
    const times = [due, snapshotAt, restoreAt].filter((t): t is number => t !== undefined);
    if (!times.length) return this.ctx.storage.deleteAlarm();
    await this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(...times)));
  }

  private core(): StateKeeperCore {
    return (this.keeper ??= new StateKeeperCore({
      storage: this.ctx.storage,
      bucket: this.env.STATE!,
      container: sandboxStateContainer(this.env),
      now: () => Date.now(),
      notify: (text) => this.notify(text),
    }));
  }

  private async notify(text: string): Promise<void> {
    console.warn(`persistence: ${text}`);
    const targets = (await this.ctx.storage.get<ReplyTarget[]>("adminTargets")) ?? [];
    await Promise.allSettled(targets.map((target) => adapterFor(target.platform).openReply(this.env, target).postNotice(text, "error")));
  }
}

/** The keeper of this deployment. */
export function stateKeeper(env: Env) {
  return env.STATE_KEEPER.get(env.STATE_KEEPER.idFromName("default"));
}
