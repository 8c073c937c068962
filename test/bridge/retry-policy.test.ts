/**
 * When a turn that asked for a retry gets one. Found by the chaos soak: a gateway that took longer
 * to come back than six backed-off tries (about two minutes) made the bridge give up on every
 * waiting message, although the user had been told it was kept until the agent is back.
 */
import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { conversation, gatewayWaitMs, MAX_ATTEMPTS, MAX_GATEWAY_WAIT_MS, mayRetry, type ConversationObject } from "../../src/bridge/conversation-object";
import { Inbox } from "../../src/bridge/inbox";
import { GatewayUnavailableError, isGatewayAway, RunFailedError, runFailureHint } from "../../src/gateway/errors";

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

describe("a turn that waited out a long gateway restart", () => {
  // Found by the 1,000-message chaos soak: tries that only found the gateway away used up the six
  // tries, so the first ordinary failure once the gateway was back ended the turn (31 answers lost).
  it("still has all its tries once the gateway is back", async () => {
    const key = `slack:T0TESTTEAM:C0RETRY:${crypto.randomUUID()}`;
    const stub = conversation(env, key);
    await runInDurableObject(stub, async (_instance: ConversationObject, state) => {
      const inbox = new Inbox(state.storage.sql);
      const started = Date.now();
      const { seq } = inbox.accept(
        {
          kind: "message",
          conversation: key,
          dedupeKeys: [`test:${key}`],
          sender: { id: "slack:U0ALICE" },
          direct: false,
          reply: { platform: "slack", team: "T0TESTTEAM", channel: "C0RETRY", thread_ts: "1790000000.000100", user: "U0ALICE", user_team: "T0TESTTEAM" },
          text: "waits through a restart",
          sentAt: 0,
        },
        started,
      );
      // Twenty tries that found the gateway away (refused, or restarting), over ten minutes.
      for (let i = 0; i < 20; i++) {
        inbox.begin(seq, started);
        const turn = inbox.get(seq)!;
        const waiting = { kind: "retry", error: "connection refused", waitingForGateway: true } as const;
        expect(mayRetry(waiting, turn, started + 10 * 60_000)).toBe(true);
        inbox.requeue(seq, waiting.error, true);
      }
      // The gateway is back; the message is sent, and the run fails the ordinary way.
      inbox.begin(seq, started);
      const turn = inbox.get(seq)!;
      expect(turn.attempts).toBe(1);
      expect(mayRetry({ kind: "retry", error: "the connection to the agent was lost" }, turn, started + 10 * 60_000)).toBe(true);
    });
  });

  it("looks again every few seconds, less often the longer it has been away", () => {
    expect(gatewayWaitMs(0)).toBe(2_000);
    expect(gatewayWaitMs(60_000)).toBe(8_000);
    expect(gatewayWaitMs(30 * 60_000)).toBe(15_000);
  });
});

describe("a gateway that is away, or there and refusing", () => {
  it("waits for one that doesn't answer, not for one that refuses the upgrade", () => {
    expect(isGatewayAway(new GatewayUnavailableError("cannot reach the gateway at 127.0.0.1:18789: connection refused"))).toBe(true);
    expect(isGatewayAway(new GatewayUnavailableError("cannot reach the gateway in the container: the container is not listening on the TCP address 10.0.0.1:18789"))).toBe(true);
    expect(isGatewayAway(new GatewayUnavailableError("the gateway at 127.0.0.1:18789 refused the WebSocket upgrade (HTTP 401)"))).toBe(false);
    expect(isGatewayAway(new GatewayUnavailableError("the gateway at 127.0.0.1:18789 refused the WebSocket upgrade (HTTP 503)"))).toBe(true);
    expect(isGatewayAway(new RunFailedError("gateway is draining for restart"))).toBe(false);
  });
});
