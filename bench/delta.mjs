// Benchmark 3 (issue 2): the relay's overhead from the gateway's first delta of a turn to the
// adapter's first post of it at the platform.
//
// Real parts: the stand-in model, a real OpenClaw gateway, the Slack API emulator and the built
// Worker in workerd (GATEWAY_URL and SLACK_API_URL pointed at them). A separate observer client on
// the gateway timestamps the first `chat` delta of each run; the emulator timestamps the first
// `chat.startStream` (or `chat.postMessage`) in the thread. Both clocks are this process's
// Date.now(), so the difference is the Worker's path: WebSocket frame in, run-event parsing, the
// stream's first write, the Slack API call out. Turns are sent one after another into one thread
// (warm: session, socket pool and isolate exist), after warm-up turns that are not counted.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSlackEmulator } from "../test/emulators/slack.mjs";
import { startGateway } from "../test/support/gateway-process.mjs";
import { startModelServer } from "../test/support/model-server.mjs";
import { GatewayClient, makeDeviceIdentity } from "../test/support/protocol-probe.mjs";
import { BENCH_BOT_TOKEN, BENCH_SIGNING_SECRET, mentionPayload, signDelivery } from "./lib/slack-events.mjs";
import { summarize } from "./lib/stats.mjs";
import { startWorker } from "./worker-host.mjs";

const TOKEN = "bench-gateway-token-0123456789";
const POSTS = new Set(["chat.startStream", "chat.postMessage"]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const THREADS = 5;

export async function runDelta({ workerScript, turns = 20, log = console.log }) {
  const cleanup = [];
  try {
    const [slack, model] = await Promise.all([startSlackEmulator({ port: 0 }), startModelServer({ port: 0 })]);
    cleanup.push(() => slack.close(), () => model.close());
    const gatewayStarted = Date.now();
    const gateway = await startGateway({ token: TOKEN, modelUrl: model.url });
    cleanup.push(() => gateway.stop());
    log(`  gateway ready in ${((Date.now() - gatewayStarted) / 1000).toFixed(1)} s`);
    const worker = await startWorker({
      scriptPath: workerScript,
      storageRoot: fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(),
      bindings: {
        GATEWAY_TOKEN: TOKEN,
        GATEWAY_URL: gateway.url,
        SLACK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
        SLACK_BOT_TOKEN: BENCH_BOT_TOKEN,
        SLACK_API_URL: slack.url,
      },
    });
    cleanup.push(() => worker.dispose());

    // The observer: its own device (loopback peers are paired automatically), read scope only.
    const observer = await GatewayClient.open(gateway.url);
    cleanup.push(() => observer.close());
    const hello = await observer.connect({ token: TOKEN, device: makeDeviceIdentity(), scopes: ["operator.read"] });
    if (!hello.ok) throw new Error(`observer connect failed: ${JSON.stringify(hello.error)}`);
    const firstDelta = new Map(); // runId -> {t, sessionKey}
    observer.listeners.add((frame) => {
      if (frame.type !== "event" || frame.event !== "chat" || frame.payload?.state !== "delta") return;
      const { runId, sessionKey } = frame.payload;
      if (!firstDelta.has(runId)) firstDelta.set(runId, { t: Date.now(), sessionKey });
    });

    // Several threads, visited in turn: a thread's turn only ends ~6 s after its answer (the bridge
    // waits that long for artifacts), so while one thread waits, the next one is measured. Only one
    // turn is ever streaming at a time.
    const stamp = Date.now().toString(36).toUpperCase();
    const threads = Array.from({ length: THREADS }, (_, j) => ({ channel: `C0D${stamp}${j}`, threadTs: undefined, sentCalls: 0, turns: 0 }));
    const turnEnded = (thread) => slack.calls.slice(thread.sentCalls).some(
      (c) => c.channel === thread.channel && c.method === "assistant.threads.setStatus" && c.body.status === "",
    );
    let counter = 0;
    async function turn(thread) {
      const runsBefore = new Set(firstDelta.keys());
      const callsBefore = slack.calls.length;
      thread.sentCalls = callsBefore;
      const payload = mentionPayload({ run: "D", i: ++counter, channel: thread.channel, text: `delta probe number ${counter}`, threadTs: thread.threadTs });
      thread.threadTs ??= payload.event.ts;
      const { body, headers } = signDelivery(payload);
      const sent = Date.now();
      const response = await fetch(`${worker.url}/slack/events`, { method: "POST", headers, body });
      await response.arrayBuffer();
      const acked = Date.now();
      if (response.status !== 200) throw new Error(`mention ${counter} answered HTTP ${response.status}`);
      const mine = (c) => c.channel === thread.channel;
      const [runId, delta] = await until(() => [...firstDelta].find(([id]) => !runsBefore.has(id)), 60_000, `turn ${counter}'s first delta`);
      const post = await until(() => slack.calls.slice(callsBefore).find((c) => mine(c) && POSTS.has(c.method)), 60_000, `turn ${counter}'s first post`);
      await until(() => slack.calls.slice(callsBefore).some((c) => mine(c) && c.method === "chat.stopStream"), 60_000, `turn ${counter}'s answer`);
      thread.turns += 1;
      return { turn: counter, runId, overheadMs: post.time - delta.t, ackMs: acked - sent, mentionToDeltaMs: delta.t - sent, mentionToPostMs: post.time - sent, firstPost: post.method };
    }
    // Warm-up, all threads at once: each thread's first turn (a new session on the gateway) is not
    // measured.
    const warmStarted = Date.now();
    await Promise.all(threads.map(async (thread) => {
      const before = slack.calls.length;
      thread.sentCalls = before;
      const payload = mentionPayload({ run: "D", i: ++counter, channel: thread.channel, text: `warm up ${counter}`, threadTs: thread.threadTs });
      thread.threadTs = payload.event.ts;
      const { body, headers } = signDelivery(payload);
      const response = await fetch(`${worker.url}/slack/events`, { method: "POST", headers, body });
      await response.arrayBuffer();
      await until(() => slack.calls.slice(before).some((c) => c.channel === thread.channel && c.method === "chat.stopStream"), 120_000, "a warm-up answer");
    }));
    log(`  ${threads.length} warm-up turns (one per thread, in parallel) answered in ${((Date.now() - warmStarted) / 1000).toFixed(1)} s`);
    const samples = [];
    while (samples.length < turns) {
      const thread = threads[samples.length % threads.length];
      await until(() => turnEnded(thread), 60_000, "the previous turn's end");
      const s = await turn(thread);
      samples.push(s);
      log(`  turn ${samples.length}: first delta → first post ${s.overheadMs} ms (mention → delta ${s.mentionToDeltaMs} ms, ack ${s.ackMs} ms)`);
    }
    const unmatched = slack.unmatched.length;
    return {
      turns: samples.length,
      overhead: summarize(samples.map((s) => s.overheadMs)),
      mentionToDelta: summarize(samples.map((s) => s.mentionToDeltaMs)),
      mentionToPost: summarize(samples.map((s) => s.mentionToPostMs)),
      ack: summarize(samples.map((s) => s.ackMs)),
      firstPostMethods: [...new Set(samples.map((s) => s.firstPost))],
      unmatchedSlackCalls: unmatched,
      gatewayStartupMs: gateway.startupMs,
      samples,
    };
  } finally {
    for (const close of cleanup.reverse()) await Promise.resolve().then(close).catch(() => undefined);
  }
}
