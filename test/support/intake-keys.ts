/**
 * Reaching into an intake shard's SQLite: which delivery keys it remembers, and forgetting them
 * as its sweep does once they are old, so that a test can send a redelivery past the intake and
 * see what the bridge does with it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import type { InboundEvent } from "../../src/adapters/types";
import { intake, type IntakeObject } from "../../src/bridge/intake-object";

/** How many of `event`'s delivery keys its intake shard remembers, and how many of its conversation's messages wait there. */
export function intakeHolds(event: InboundEvent): Promise<{ keys: number; pending: number }> {
  return runInDurableObject(intake(env, event.conversation), (_instance: IntakeObject, state) => {
    const sql = state.storage.sql;
    const marks = event.dedupeKeys.map(() => "?").join(", ");
    const keys = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM seen WHERE key IN (${marks})`, ...event.dedupeKeys).one().n;
    const pending = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending WHERE conversation = ?", event.conversation).one().n;
    return { keys, pending };
  });
}

/** Forget `event`'s delivery keys in its intake shard, as the sweep does when they are a day old. */
export function sweepIntakeKeys(event: InboundEvent): Promise<void> {
  return runInDurableObject(intake(env, event.conversation), (_instance: IntakeObject, state) => {
    const marks = event.dedupeKeys.map(() => "?").join(", ");
    state.storage.sql.exec(`DELETE FROM seen WHERE key IN (${marks})`, ...event.dedupeKeys);
  });
}
