/**
 * The supervisor while the gateway is down: queued turns all ask for it, and share one verdict
 * for a moment instead of probing it (or, in the Sandbox mode, starting it) once each.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GatewaySupervisor, UNREACHABLE_TTL_MS } from "../../src/sandbox/supervisor";

/** A supervisor of its own, for a gateway URL nothing listens on (the discard port). */
function withDownSupervisor<T>(body: (supervisor: GatewaySupervisor) => Promise<T>): Promise<T> {
  const stub = env.GATEWAY.get(env.GATEWAY.idFromName(`test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance: GatewaySupervisor, state) => body(new GatewaySupervisor(state, { ...env, GATEWAY_URL: "ws://127.0.0.1:9" })));
}

describe("gateway supervisor, gateway down", () => {
  it(`believes a failed bring-up for ${UNREACHABLE_TTL_MS} ms, then asks again`, () =>
    withDownSupervisor(async (supervisor) => {
      const first = await supervisor.ensureReady();
      expect(first.phase).toBe("unreachable");
      expect(first.lastError).toMatch(/no answer from/);
      // A little later, concurrent and following callers share the verdict: nothing is probed or
      // written again (a new bring-up would have a later \`since\`).
      await new Promise((resolve) => setTimeout(resolve, 5));
      const shared = await Promise.all([supervisor.ensureReady(), supervisor.status(), supervisor.ensureReady()]);
      expect(shared.map((status) => status.since)).toEqual([first.since, first.since, first.since]);
      await new Promise((resolve) => setTimeout(resolve, UNREACHABLE_TTL_MS + 50));
      const later = await supervisor.ensureReady();
      expect(later.phase).toBe("unreachable");
      expect(later.since).toBeGreaterThan(first.since);
    }));

  it("asks again at once after a restart", () =>
    withDownSupervisor(async (supervisor) => {
      const first = await supervisor.ensureReady();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const restarted = await supervisor.restart();
      expect(restarted.phase).toBe("unreachable");
      expect(restarted.since).toBeGreaterThan(first.since);
    }));
});
