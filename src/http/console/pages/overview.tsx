/** Overview: the agent's state as the supervisor and the bridges already know it. Never wakes the container. */
import { describeMonth, estimateMonth } from "../../../commands/cost-estimate";
import { formatDuration } from "../../../commands/status";
import { turnStats } from "../../../commands/turn-stats";
import { gatewaySupervisor } from "../../../sandbox/supervisor";
import { usageLedger } from "../../../sandbox/usage-object";
import { formatAge } from "../layout";
import type { PageContext } from "./context";

type Fact = [label: string, value: string | undefined, id?: string];

export async function overviewPage({ env, now }: PageContext) {
  const [status, turns, model, month] = await Promise.all([
    gatewaySupervisor(env).status(),
    turnStats(env, now),
    gatewaySupervisor(env).primaryModel(),
    usageLedger(env).month(now),
  ]);
  const up = status.phase === "ready" && status.readyAt ? formatDuration(now - status.readyAt) : undefined;
  const ms = (value: number) => (value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`);
  // Rows without a value are left out: the browser and the last snapshot get a row here once
  // the relay knows about them (from src/sandbox/), never a placeholder.
  const facts: Fact[] = [
    ["Gateway", `${status.phase} (${status.mode}: ${status.where})`, "phase"],
    ["Since", `${formatAge(now - status.since)}`],
    ["Up for", up],
    ["OpenClaw", status.version],
    ["Model", model ?? env.MODEL ?? "OpenClaw's default"],
    ["Gateway starts", String(status.starts)],
    ["Queued turns", String(turns.queued), "queued"],
    ["Turn latency", turns.p50Ms === undefined ? "no finished turns in the last day" : `p50 ${ms(turns.p50Ms)}, p95 ${ms(turns.p95Ms!)} (${turns.samples} turns, last day)`],
    ["Model calls today", status.usage ? `${status.usage.calls} (${status.usage.failed} failed), ${status.usage.inputTokens} tokens in, ${status.usage.outputTokens} out` : undefined],
    ["Last error", status.lastError],
    ["Cost", describeMonth(estimateMonth(month, now))],
  ];
  return (
    <section class="card">
      <dl class="facts">
        {facts
          .filter((fact): fact is [string, string, string?] => fact[1] !== undefined)
          .map(([label, value, id]) => (
            <>
              <dt>{label}</dt>
              <dd id={id}>{value}</dd>
            </>
          ))}
      </dl>
    </section>
  );
}
