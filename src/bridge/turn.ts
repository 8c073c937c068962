/**
 * One turn: a stored message becomes a run on the gateway, and the run's events become a
 * streamed reply, a working status and uploaded media. A failure that may pass (the gateway is
 * cold, restarting or dropped the connection) asks for a retry with the same idempotency key; the
 * turn's durable flags make sure nothing the user already has is sent again.
 */
import { isRetryable } from "../adapters/retry";
import type { ReplySink, StopControl, TextStream, WorkingStatus } from "../adapters/types";
import type { GatewayClient } from "../gateway/client";
import { GatewayError, isGatewayAway, RunFailedError, runFailureHint } from "../gateway/errors";
import { chatAbort } from "../gateway/methods";
import { subscribeRun } from "../gateway/run-events";
import type { GatewayTransport } from "../gateway/transport";
import type { GatewayStatus } from "../sandbox/supervisor";
import type { Inbox, Turn } from "./inbox";
import { awaitArtifacts, connectionLost, pathFileId, storeArtifact, type MediaContext } from "./media";
import { withIdleTimeout } from "./idle-timeout";
import { idempotencyKey, recoveredReply, sendTurn } from "./recovery";

export type TurnOutcome =
  | { kind: "done" }
  /** `waitingForGateway`: the gateway wasn't reachable, so the turn never started; nothing was tried yet. */
  | { kind: "retry"; error: string; waitingForGateway?: boolean }
  | { kind: "failed"; error: string }
  /** Someone stopped it: the gateway's run was aborted and nothing more is sent for it. */
  | { kind: "stopped" };

/** What a turn needs from the world; the Durable Object wires the real parts, tests may wire others. */
export interface TurnContext {
  inbox: Inbox;
  sink: ReplySink;
  /** The gateway's state as last seen (cheap), and making it ready (may start it). */
  gatewayStatus(): Promise<GatewayStatus>;
  ensureGateway(): Promise<GatewayStatus>;
  reportGatewayFailure(message: string): Promise<void>;
  connect(): Promise<{ client: GatewayClient; transport: GatewayTransport }>;
  media: Omit<MediaContext, "client" | "transport" | "sessionKey" | "runId" | "keyPrefix">;
  /** How long a run may go without any event before it counts as lost. */
  idleTimeoutMs?: number;
  /** How long a retried turn looks for the gateway's own resumed run after a restart. */
  recoveryWaitMs?: number;
  /** Aborted when someone stops the turn (the bridge has recorded the stop before). */
  signal?: AbortSignal;
  /** The platform's stop control, where it has one, and the ref its stop events carry. */
  stop?: { control: StopControl; ref: string };
}

/** Run one attempt of a turn, with the platform's stop control offered while it runs. */
export async function runTurn(turn: Turn, ctx: TurnContext): Promise<TurnOutcome> {
  const control = ctx.stop?.control;
  let offered = Boolean(control);
  const withdraw = async (how: Parameters<StopControl["ended"]>[0]) => {
    if (!offered) return;
    offered = false;
    await quietly(control!.ended(how));
  };
  if (control) await quietly(control.running({ ref: ctx.stop!.ref, title: turn.message.text, first: turn.seq === 1 }));
  // Once the answer is delivered there is nothing left to stop: the control goes with it.
  const outcome = await runAttempt(turn, ctx, () => withdraw("done"));
  await withdraw(outcome.kind === "retry" ? "retrying" : outcome.kind);
  return outcome;
}

async function runAttempt(turn: Turn, ctx: TurnContext, answered: () => Promise<void>): Promise<TurnOutcome> {
  const { sink } = ctx;
  let status = await ctx.gatewayStatus();
  if (status.phase === "ready") await quietly(sink.setStatus({ text: "thinking…" }));
  else {
    // Once told that the agent is away, the user needs no status on every retry.
    if (!turn.noticed) await quietly(sink.setStatus({ text: "waking up the agent…" }));
    // A gateway at a URL was just asked (its status is a fresh check); a container is started here.
    if (status.mode !== "url") status = await ctx.ensureGateway();
  }
  if (status.phase !== "ready") return waitForGateway(turn, ctx, status.lastError ?? `gateway ${status.phase}`);

  let connection: Awaited<ReturnType<TurnContext["connect"]>>;
  try {
    connection = await ctx.connect();
  } catch (error) {
    // No connection at all (refused, dropped before the handshake): the gateway is away, as when
    // its status says so. The message was never sent; the wait doesn't use up the turn's tries.
    if (isGatewayAway(error)) {
      await ctx.reportGatewayFailure(message(error));
      return waitForGateway(turn, ctx, message(error));
    }
    return failure(turn, ctx, error, undefined);
  }
  const { client, transport } = connection;
  let stream: TextStream | undefined;
  try {
    let runId = turn.runId;
    if (!turn.delivered) {
      const result = await streamRun(turn, ctx, client, (opened) => (stream = opened));
      if (result.kind !== "final") return result.outcome;
      runId = result.runId;
      // The answer is finished: a failure from here on has no partial text to mark.
      stream = undefined;
    }
    if (ctx.signal?.aborted) return await stopped(ctx, client, turn, runId, undefined);
    await answered();
    // `turn.delivered` is as this attempt found it: true when an earlier attempt, whose connection
    // the gateway dropped, delivered the answer and only the files are left.
    if (runId) await postMedia(turn, ctx, { ...ctx.media, client, transport, sessionKey: turn.message.conversation, runId, keyPrefix: mediaPrefix(turn), resumed: turn.delivered });
    await quietly(sink.clearStatus());
    return { kind: "done" };
  } catch (error) {
    // A failure after a stop (the connection dropped meanwhile) is the stop's end, not a retry.
    if (ctx.signal?.aborted) return stopped(ctx, undefined, turn, undefined, stream);
    return failure(turn, ctx, error, stream);
  } finally {
    client.close();
  }
}

type RunResult = { kind: "final"; runId: string } | { kind: "ended"; outcome: TurnOutcome };

async function streamRun(turn: Turn, ctx: TurnContext, client: GatewayClient, opened: (stream: TextStream) => void): Promise<RunResult> {
  const { sink, inbox } = ctx;
  const sessionKey = turn.message.conversation;
  const subscription = subscribeRun(client);
  const stop = async (runId: string | undefined): Promise<RunResult> => ({ kind: "ended", outcome: await stopped(ctx, client, turn, runId, stream) });
  let stream: TextStream | undefined;
  const openStream = async () => {
    if (!stream) opened((stream = await sink.startText()));
    return stream;
  };
  const deliver = async (text: string, runId: string, how: string) => {
    await (await openStream()).finish(text);
    console.log(`bridge: answered ${sessionKey} #${turn.seq} on try ${turn.attempts} (${how}, run ${runId})`);
    // The run whose files go with this answer, for a retry that only has the files left to post.
    inbox.setRun(turn.seq, runId);
    inbox.markDelivered(turn.seq);
    return { kind: "final", runId } as const;
  };

  try {
    // A retry may find the gateway already resumed this turn by itself (see recovery.ts).
    const retry = turn.attempts > 1;
    if (ctx.signal?.aborted) return await stop(undefined);
    const recovered = retry ? await recoveredReply(client, sessionKey, turn.message.text) : undefined;
    if (recovered?.kind === "done") return await deliver(recovered.text, recovered.runId ?? idempotencyKey(turn), "reply found in the session");
    let runId: string;
    if (recovered?.kind === "active") runId = recovered.runId;
    else {
      // Stopped while the agent was still waking up: the message is never sent.
      if (ctx.signal?.aborted) return await stop(undefined);
      const sent = await sendTurn(client, turn, inbox, { waitMs: ctx.recoveryWaitMs ?? 120_000, signal: ctx.signal });
      if (sent.kind === "done") return await deliver(sent.text, sent.runId, "finished run of the key");
      runId = sent.runId;
    }
    inbox.setRun(turn.seq, runId);
    for (const followed = new Set<string>(); ; ) {
      followed.add(runId);
      subscription.bind(runId);
      const result = await follow(runId);
      if (result.kind !== "absorbed" && result.kind !== "failed") return result;
      // On a retry, the answer may live in the gateway's own resumed run, which may not have
      // started yet: look for it for a while.
      const resumed = retry ? await awaitRecovered(followed) : undefined;
      if (resumed?.kind === "done") return await deliver(resumed.text, resumed.runId ?? runId, "resumed run's reply");
      if (resumed?.kind !== "active" || followed.has(resumed.runId)) {
        if (result.kind === "failed") throw new RunFailedError(result.message);
        return await deliver("", runId, "empty final");
      }
      runId = resumed.runId;
      inbox.setRun(turn.seq, runId);
    }
  } finally {
    subscription.close();
  }

  /** A reply made meanwhile, or a run not followed yet; polled, since the resumed run starts late. */
  async function awaitRecovered(followed: Set<string>) {
    const deadline = Date.now() + (ctx.recoveryWaitMs ?? 120_000);
    for (;;) {
      const found = await recoveredReply(client, sessionKey, turn.message.text);
      if (found?.kind === "done" || (found?.kind === "active" && !followed.has(found.runId))) return found;
      if (Date.now() >= deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** Stream one run's events to the sink until it ends. */
  async function follow(runId: string): Promise<RunResult | { kind: "absorbed" } | { kind: "failed"; message: string }> {
    for await (const event of withIdleTimeout(subscription, ctx.idleTimeoutMs ?? 300_000, ctx.signal)) {
      // Stopped: nothing that arrives after the stop is shown.
      if (ctx.signal?.aborted) break;
      switch (event.type) {
        case "text":
          await (await openStream()).update(event.text);
          break;
        case "tool":
          if (event.phase === "start") await quietly(sink.setStatus(toolStatus(event.name, event.title)));
          break;
        case "final":
          // A re-sent message folded into the gateway's own resumed run ends empty: follow that run.
          if (!event.text.trim() && turn.attempts > 1) return { kind: "absorbed" };
          return deliver(event.text, runId, "final event");
        case "error":
          if (turn.attempts > 1) return { kind: "failed", message: event.message };
          await stream?.abort("the agent hit an error");
          throw new RunFailedError(event.message);
        case "aborted":
          await stream?.abort("stopped");
          await quietly(sink.clearStatus());
          return { kind: "ended", outcome: { kind: "done" } };
      }
    }
    if (ctx.signal?.aborted) return stop(runId);
    throw new GatewayError("the run ended without a final message", true);
  }
}

/**
 * End a stopped turn: abort the gateway's run (the model request is cut off), end the answer
 * keeping what was shown, marked as stopped, and say so where nothing was shown yet.
 */
async function stopped(ctx: TurnContext, client: GatewayClient | undefined, turn: Turn, runId: string | undefined, stream: TextStream | undefined): Promise<TurnOutcome> {
  if (client && runId) {
    await chatAbort(client, { sessionKey: turn.message.conversation, runId }).catch((error) =>
      console.warn("chat.abort failed:", message(error)),
    );
  }
  if (stream) await quietly(stream.abort("stopped"));
  else await quietly(ctx.sink.postNotice("Stopped.", "info"));
  await quietly(ctx.sink.clearStatus());
  return { kind: "stopped" };
}

async function postMedia(turn: Turn, ctx: TurnContext, media: MediaContext): Promise<void> {
  const artifacts = await awaitArtifacts(media);
  for (const artifact of artifacts) {
    // A stop while the files are collected: none is posted after it.
    if (ctx.signal?.aborted) return;
    // Posted already, or posted by its path before the gateway made it an artifact.
    if (turn.mediaPosted.includes(artifact.id) || turn.mediaPosted.includes(pathFileId(artifact.title))) continue;
    try {
      await ctx.sink.postMedia(await storeArtifact(media, artifact));
    } catch (error) {
      // The gateway went away meanwhile: the turn is tried again (its text is not sent twice) and
      // the file is copied then.
      if (connectionLost(error)) throw error;
      await quietly(ctx.sink.postNotice(`Couldn't deliver the file “${artifact.title}”: ${message(error)}`, "error"));
    }
    ctx.inbox.markMediaPosted(turn.seq, artifact.id);
  }
}

async function failure(turn: Turn, ctx: TurnContext, error: unknown, stream: TextStream | undefined): Promise<TurnOutcome> {
  const text = message(error);
  if (error instanceof GatewayError && error.retryable) {
    await ctx.reportGatewayFailure(text);
    if (stream) await quietly(stream.abort("the connection to the agent was lost, retrying…"));
    else await noticeOnce(turn, ctx, "The agent was interrupted. Retrying your message…");
    return { kind: "retry", error: text };
  }
  // The platform failed to take the answer (a dropped connection, or 429/5xx past the call's own
  // retries): the answer is not lost, the turn is tried again and delivers the finished reply
  // from the session (recovery.ts). Nothing is marked delivered until a delivery succeeded.
  if (isRetryable(error, true)) return { kind: "retry", error: text };
  await quietly(ctx.sink.postNotice(`Sorry, that failed: ${text}${runFailureHint(error)}`, "error"));
  await quietly(ctx.sink.clearStatus());
  return { kind: "failed", error: text };
}

/** The gateway is away: the user is told once that the message is kept, and the turn waits for it. */
async function waitForGateway(turn: Turn, ctx: TurnContext, error: string): Promise<TurnOutcome> {
  await noticeOnce(turn, ctx, "The agent isn't reachable right now. Your message is kept and will be answered when it is back.");
  return { kind: "retry", error, waitingForGateway: true };
}

async function noticeOnce(turn: Turn, ctx: TurnContext, text: string): Promise<void> {
  if (turn.noticed) return;
  await quietly(ctx.sink.postNotice(text, "info"));
  ctx.inbox.markNoticed(turn.seq);
  turn.noticed = true;
}

export function toolStatus(tool: string, title?: string): WorkingStatus {
  const name = tool.toLowerCase();
  const verb = name.includes("browser") || name.includes("web") ? "browsing" : name.includes("exec") || name.includes("bash") ? "running a command" : `using ${tool}`;
  return { text: `${title ?? verb}…`, tool };
}

const mediaPrefix = (turn: Turn) => `${turn.message.conversation.replace(/[^\w.:-]+/g, "_")}/${turn.seq}`;

async function quietly(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    console.warn("reply sink call failed:", message(error));
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
