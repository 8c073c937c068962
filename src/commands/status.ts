import { gatewaySupervisor } from "../sandbox/supervisor";
import type { Command } from "./registry";

export const statusCommand: Command = {
  name: "status",
  usage: "/molt status",
  help: "The agent's state: gateway phase, version, uptime, last error.",
  async run({ env }) {
    const status = await gatewaySupervisor(env).status();
    const lines = [
      `*Gateway:* ${status.phase} (${status.mode}: ${status.where})`,
      status.version ? `*OpenClaw:* ${status.version}` : undefined,
      status.phase === "ready" && status.readyAt ? `*Up for:* ${formatDuration(Date.now() - status.readyAt)}` : undefined,
      `*Starts:* ${status.starts}`,
      status.lastError ? `*Last error:* ${status.lastError}` : undefined,
    ];
    return { ok: true, title: "Status", text: lines.filter(Boolean).join("\n") };
  },
};

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
