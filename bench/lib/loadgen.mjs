// Load generator, run as its own process so that its CPU is not the servers'. Sends pre-signed,
// unique app_mention deliveries over keep-alive HTTP/1.1 connections and prints one JSON line.
//
//   node bench/lib/loadgen.mjs '{"url":"http://127.0.0.1:P/slack/events","mode":"open","rate":200,"seconds":20,"run":"A"}'
//   node bench/lib/loadgen.mjs '{"url":...,"mode":"closed","concurrency":32,"seconds":10,"run":"B"}'
//
// open:   requests start on a fixed schedule (rate/s) whatever the answers do (no coordinated
//         omission: a slow server meets a growing queue, as with Slack). Latency runs from the
//         moment a request is handed to Node's http client to the last byte of the answer.
// closed: `concurrency` senders, each sending its next request when the previous one is answered:
//         the most the server can do.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { mentionPayload, signDelivery } from "./slack-events.mjs";
import { summarize } from "./stats.mjs";

const opts = JSON.parse(process.argv[2]);
const target = new URL(opts.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256 });
// Slack gives up on a delivery after 3 s (and retries it): an answer later than that is a failure.
const TIMEOUT_MS = opts.timeoutMs ?? 3_000;

// Sign everything up front: signing is the client's work, not the server's.
const capacity = opts.mode === "open" ? Math.ceil(opts.rate * opts.seconds) : Math.ceil((opts.maxRate ?? 20_000) * opts.seconds);
const now = Date.now();
const deliveries = Array.from({ length: capacity }, (_, i) => {
  // `threads`: spread the mentions over that many existing threads (conversations); default: each
  // mention starts its own thread, i.e. its own bridge Durable Object.
  const threadTs = opts.threads ? `${Math.floor(now / 1000) - 60}.${String(i % opts.threads).padStart(6, "0")}` : undefined;
  if (opts.kind === "challenge") return signDelivery({ token: "x", challenge: `c${i}`, type: "url_verification" });
  const body = JSON.stringify(mentionPayload({ run: opts.run, i, channel: `C0B${opts.run}`, now, threadTs }));
  // `unsigned`: a wrong signature, answered 401 before any parsing (the Worker's floor).
  if (opts.kind === "unsigned") return signDelivery(body, { secret: "wrong" });
  return signDelivery(body);
});

function send(delivery) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: delivery.headers, agent },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, error: error.message, ms: performance.now() - started }));
    req.end(delivery.body);
  });
}

const results = [];
const t0 = performance.now();
let next = 0;

if (opts.mode === "open") {
  const total = deliveries.length;
  const interval = 1000 / opts.rate;
  const inflight = [];
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (next < due) inflight.push(send(deliveries[next++]).then((r) => results.push(r)));
      if (next < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const sentAt = performance.now();
  await Promise.all(inflight);
  report(sentAt);
} else {
  const deadline = t0 + opts.seconds * 1000;
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < deadline && next < deliveries.length) results.push(await send(deliveries[next++]));
  });
  await Promise.all(workers);
  report(performance.now());
}

function report(sendingEnded) {
  const elapsed = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.status === (opts.expect ?? 200));
  const errors = {};
  for (const r of results) if (r.status !== (opts.expect ?? 200)) { const key = r.error ?? `HTTP ${r.status}`; errors[key] = (errors[key] ?? 0) + 1; }
  const out = {
    mode: opts.mode,
    offered: opts.mode === "open" ? opts.rate : null,
    concurrency: opts.concurrency ?? null,
    sent: results.length,
    ok: ok.length,
    errors,
    seconds: elapsed,
    sendSeconds: (sendingEnded - t0) / 1000,
    // Answers per second over the whole run, drain included.
    throughput: ok.length / elapsed,
    latency: summarize(ok.map((r) => r.ms)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  agent.destroy();
}
