import { browserSession } from "../sandbox/browser-session";
import { gatewaySupervisor } from "../sandbox/supervisor";
import { usageLedger } from "../sandbox/usage-object";
import { describeMonth, estimateMonth } from "./cost-estimate";
import { stateLine } from "./state-status";
import type { Command } from "./registry";
import { turnStats } from "./turn-stats";

/** Reads what the supervisor and the bridges already know: never wakes the container. */
export const statusCommand: Command = {
  name: "status",
  usage: "/molt status",
  help: "The agent's state: gateway phase, OpenClaw version, uptime, queued turns, turn latency, last error, browser session, this month's cost estimate.",
  admin: true,
  async run({ env }) {
    const [status, turns, usage, browser, state] = await Promise.all([
      gatewaySupervisor(env).status(),
      turnStats(env),
      usageLedger(env).month(),
      browserSession(env).status(),
      stateLine(env),
    ]);
    const cost = estimateMonth(usage, Date.now());
    const uptimeMs = status.phase === "ready" && status.readyAt ? Date.now() - status.readyAt : undefined;
    const latency =
      turns.p50Ms === undefined ? "no finished turns today" : `p50 ${formatMs(turns.p50Ms)}, p95 ${formatMs(turns.p95Ms!)} (${turns.samples} turns)`;
    const lines = [
      `*Gateway:* ${status.phase} (${status.mode}: ${status.where})`,
      status.version ? `*OpenClaw:* ${status.version}` : undefined,
      uptimeMs !== undefined ? `*Up for:* ${formatDuration(uptimeMs)}` : undefined,
      `*Starts:* ${status.starts}`,
      `*Queued turns:* ${turns.queued}`,
      `*Turn latency:* ${latency}`,
      `*Model calls today:* ${status.usage ? `${status.usage.calls} (${status.usage.failed} failed), ${status.usage.inputTokens} tokens in, ${status.usage.outputTokens} out` : "none"}`,
      status.lastError ? `*Last error:* ${status.lastError}` : undefined,
      `*Browser:* ${
        browser.open && browser.since
          ? `session open for ${formatDuration(Date.now() - browser.since)} (since ${new Date(browser.since).toISOString().slice(11, 16)} UTC), ${browser.connections} connection(s)`
          : "no session open"
      }${browser.lastError ? `; last error: ${browser.lastError.message}` : ""}`,
      `*Cost:* ${describeMonth(cost)}`,
      ...state.lines,
    ];
    return {
      ok: true,
      title: "Status",
      text: lines.filter(Boolean).join("\n"),
      data: { gateway: { ...status, uptimeMs }, turns, browser, state: state.data, cost: { usd: cost.estimate.usd, alwaysOnUsd: cost.alwaysOn.usd, awakeSeconds: usage.awakeSeconds } },
    };
  },
};

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
