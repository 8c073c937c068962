import type { Env } from "../env";
import { describeRecord } from "../sandbox/state-core";
import { stateKeeper } from "../sandbox/state-keeper";

/** The `/molt status` lines about the agent's snapshots: the last one and its age, and any failure. */
export async function stateLine(env: Env): Promise<{ lines: string[]; data: Record<string, unknown> }> {
  const status = await stateKeeper(env).status();
  if (!status.configured) return { lines: [`*Backup:* off: ${status.why}`], data: { configured: false } };
  const now = Date.now();
  const lines = [`*Backup:* ${status.current ? `snapshot ${describeRecord(status.current, now)}` : "no snapshot yet"}`];
  if (status.lockout) {
    lines.push(
      `*Backup stopped:* restoring snapshot ${status.lockout.generation} failed (${status.lockout.error}). The agent is running without its memory, and nothing will be saved over that snapshot. Next attempt ${new Date(status.lockout.nextAttemptAt).toISOString().slice(11, 19)} UTC.`,
    );
  } else if (status.retryAt) {
    lines.push(`*Backup failing:* ${status.lastFailure?.error ?? "the last snapshot failed"}; retried at ${new Date(status.retryAt).toISOString().slice(11, 19)} UTC.`);
  }
  if (status.held) lines.push(`*Backup held:* snapshot ${status.held.generation} (${status.held.held}); \`/molt backup --force\` makes the current state current.`);
  return { lines, data: status as unknown as Record<string, unknown> };
}
