// results/latest.md: the run's numbers as the Markdown tables README.md quotes.
const f = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? "-" : Number(v).toFixed(d));

export function renderMarkdown(r) {
  const out = [];
  const m = r.machine;
  out.push(`# Latest run (${m.date})`, "");
  out.push(`${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}; Node ${m.node}; workerd ${m.workerd}.`);
  out.push(`Load average (1/5/15 min) at start ${m.loadAverageAtStart?.join(" ")}, at end ${m.loadAverageAtEnd?.join(" ")}; ${m.minutes} min.`, "");
  if (r.bundle) {
    const b = r.bundle;
    out.push("## Bundle", "", "| build | raw KiB | gzip KiB |", "| --- | ---: | ---: |");
    out.push(`| wrangler dry run (as deployed) | ${f(b.worker.rawKiB)} | ${f(b.worker.gzipKiB)} |`);
    out.push(`| same, --minify | ${f(b.minified.rawKiB)} | ${f(b.minified.gzipKiB)} |`, "");
    out.push("| package (minified build) | KiB |", "| --- | ---: |");
    for (const p of b.packages) out.push(`| ${p.name} | ${f(p.KiB)} |`);
    out.push("");
  }
  if (r.ack) {
    out.push("## Ack: fixed 200 req/s (open loop, 10 s)", "");
    out.push("| target | ok/sent | p50 ms | p99 ms | max ms | server CPU ms/req | load avg |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const t of r.ack.results) {
      const x = t.fixed;
      out.push(`| ${t.label} | ${x.ok}/${x.sent} | ${f(x.latency.p50)} | ${f(x.latency.p99)} | ${f(x.latency.max)} | ${f(x.serverCpuMsPerOk, 2)} | ${f(x.loadAverage1m)} |`);
    }
    out.push("", "## Ack: throughput", "");
    out.push("| target | max sustained open-loop rate (no errors, p99 ≤ 100 ms) | closed loop, 16 senders: req/s | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: | ---: |");
    for (const t of r.ack.results) {
      out.push(`| ${t.label} | ${t.maxSustainedRate} | ${f(t.closed.throughput, 0)} | ${f(t.closed.latency.p50)} | ${f(t.closed.latency.p99)} |`);
      // The runtime's floors go beside Bolt; they have no open-loop phases.
      for (const fl of t.name === "bolt" ? (r.ack.floors ?? []) : []) {
        out.push(`| ${fl.label} | - | ${f(fl.closed.throughput, 0)} | ${f(fl.closed.latency.p50)} | ${f(fl.closed.latency.p99)} |`);
      }
    }
    out.push("", "## Ack: open-loop steps (4 s each)", "", "| target | offered req/s | ok/sent | p50 ms | p99 ms | errors |", "| --- | ---: | ---: | ---: | ---: | --- |");
    for (const t of r.ack.results) {
      for (const s of t.steps) out.push(`| ${t.name} | ${s.offered} | ${s.ok}/${s.sent} | ${f(s.latency.p50)} | ${f(s.latency.p99)} | ${Object.entries(s.errors).map(([k, v]) => `${k}×${v}`).join(" ")} |`);
    }
    const p = r.ack.profile;
    if (p) {
      out.push("", "## Where the Worker's time goes", "", "Stages (closed loop, 16 senders, tmpfs):", "", "| stage | req/s | p50 ms | p99 ms | workerd CPU ms/req |", "| --- | ---: | ---: | ---: | ---: |");
      for (const { label, closed: fl } of r.ack.floors ?? []) {
        out.push(`| ${label} | ${f(fl.throughput, 0)} | ${f(fl.latency.p50)} | ${f(fl.latency.p99)} | ${f(fl.serverCpuMsPerOk, 2)} |`);
      }
      for (const [stage, s] of Object.entries(p.stages)) out.push(`| ${stage} | ${f(s.throughput, 0)} | ${f(s.latency.p50)} | ${f(s.latency.p99)} | ${f(s.serverCpuMsPerOk, 2)} |`);
      const fullClosed = r.ack.results.find((t) => t.name === "worker-tmpfs")?.closed;
      const ackOnly = r.ack.results.find((t) => t.name === "ack-only-tmpfs")?.closed;
      if (ackOnly) out.push(`| app_mention, intake and bridge alarms off (ack path only) | ${f(ackOnly.throughput, 0)} | ${f(ackOnly.latency.p50)} | ${f(ackOnly.latency.p99)} | ${f(ackOnly.serverCpuMsPerOk, 2)} |`);
      if (fullClosed) out.push(`| app_mention, real Worker (ack + background turns) | ${f(fullClosed.throughput, 0)} | ${f(fullClosed.latency.p50)} | ${f(fullClosed.latency.p99)} | ${f(fullClosed.serverCpuMsPerOk, 2)} |`);
      out.push("", `CPU profile of the Worker isolate at 100 req/s (busy ${f(p.profile.busyMs, 0)} ms of ${f(p.profile.totalMs, 0)} ms sampled):`, "");
      out.push("| function (bundle line) | self ms | share of busy |", "| --- | ---: | ---: |");
      for (const s of p.profile.self.slice(0, 12)) out.push(`| \`${s.name}\` | ${f(s.ms, 0)} | ${f(s.share * 100)} % |`);
      out.push("", "| inclusive | ms | share of busy |", "| --- | ---: | ---: |");
      for (const [name, v] of Object.entries(p.profile.inclusive).sort((a, b) => b[1].ms - a[1].ms)) out.push(`| ${name} | ${f(v.ms, 0)} | ${f(v.share * 100)} % |`);
    }
    out.push("");
  }
  if (r.delta) {
    const d = r.delta;
    out.push(`## Gateway first delta → first Slack post (${d.turns} warm turns)`, "");
    out.push("| measure | median ms | p95 ms | max ms |", "| --- | ---: | ---: | ---: |");
    out.push(`| first delta (observer) → first post (emulator) | ${d.overhead.p50} | ${d.overhead.p95} | ${d.overhead.max} |`);
    out.push(`| mention sent → first delta | ${d.mentionToDelta.p50} | ${d.mentionToDelta.p95} | ${d.mentionToDelta.max} |`);
    out.push(`| mention sent → first post | ${d.mentionToPost.p50} | ${d.mentionToPost.p95} | ${d.mentionToPost.max} |`);
    out.push(`| mention ack (HTTP) | ${d.ack.p50} | ${d.ack.p95} | ${d.ack.max} |`, "");
    out.push(`First posts: ${d.firstPostMethods.join(", ")}; unmatched Slack calls: ${d.unmatchedSlackCalls}; gateway start ${f(d.gatewayStartupMs / 1000)} s.`, "");
  }
  return `${out.join("\n")}\n`;
}
