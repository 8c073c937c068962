/**
 * When a turn that asked for a retry gets one. Found by the chaos soak: a gateway that took longer
 * to come back than six backed-off tries (about two minutes) made the bridge give up on every
 * waiting message, although the user had been told it was kept until the agent is back.
 */
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, MAX_GATEWAY_WAIT_MS, mayRetry } from "../../src/bridge/conversation-object";
import { RunFailedError, runFailureHint } from "../../src/gateway/errors";

const now = 1_800_000_000_000;

describe("retrying a turn", () => {
  it("keeps waiting for an unreachable gateway past the usual number of tries", () => {
    const waiting = { kind: "retry", error: "gateway starting", waitingForGateway: true } as const;
    expect(mayRetry(waiting, { attempts: MAX_ATTEMPTS + 4, startedAt: now - 5 * 60_000 }, now)).toBe(true);
  });

  it("gives up on an unreachable gateway once the wait is over", () => {
    const waiting = { kind: "retry", error: "gateway starting", waitingForGateway: true } as const;
    expect(mayRetry(waiting, { attempts: MAX_ATTEMPTS + 20, startedAt: now - MAX_GATEWAY_WAIT_MS - 1 }, now)).toBe(false);
  });

  it("still gives up after the usual number of tries when the turn itself keeps failing", () => {
    const failing = { kind: "retry", error: "the connection to the agent was lost" } as const;
    expect(mayRetry(failing, { attempts: MAX_ATTEMPTS - 1, startedAt: now }, now)).toBe(true);
    expect(mayRetry(failing, { attempts: MAX_ATTEMPTS, startedAt: now }, now)).toBe(false);
  });
});

describe("a run refused by a gateway that is restarting", () => {
  // OpenClaw's own words (gateway-work-admission): a draining gateway refuses new work. The turn is
  // tried again once the gateway is back, instead of telling the user it failed.
  it("is retried, while a run the model or a tool failed is not", () => {
    expect(new RunFailedError("Gateway is draining; new tasks are not accepted").retryable).toBe(true);
    expect(new RunFailedError("gateway is draining for restart").retryable).toBe(true);
    expect(new RunFailedError("401 invalid api key").retryable).toBe(false);
    expect(new RunFailedError("tool exec failed: the drain pipe is blocked").retryable).toBe(false);
  });
});

describe("a run the model provider refused for its key", () => {
  it("tells the user that the key is the Worker's secret, not something to fix in the agent", () => {
    // OpenClaw's own words for a 401 from the provider (seen end to end in test/sandbox/keys.test.ts).
    const refused = new RunFailedError("⚠️ molt/stand-in request failed (authentication failed, HTTP 401). Re-authenticate the provider and try again.");
    expect(runFailureHint(refused)).toMatch(/wrangler secret put ANTHROPIC_API_KEY/);
    expect(runFailureHint(new RunFailedError("tool exec failed: exit 1"))).toBe("");
    expect(runFailureHint(new Error("HTTP 401"))).toBe("");
  });
});
