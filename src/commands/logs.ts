/** The gateway's recent log lines, secrets redacted. Lines are JSON records; shown as time, level, message. */
import { redactSecrets } from "../policy/redact";
import { withGateway } from "./gateway";
import { type Command, UsageError } from "./registry";

const DEFAULT_LINES = 20;
const MAX_LINES = 200;

export const logsCommand: Command = {
  name: "logs",
  usage: "/molt logs [n]",
  help: `The gateway's last n log lines (default ${DEFAULT_LINES}, at most ${MAX_LINES}), with secrets redacted.`,
  admin: true,
  async run({ env, args }) {
    const n = args[0] === undefined ? DEFAULT_LINES : Number(args[0]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError("`n` is a whole number of lines.");
    const limit = Math.min(n, MAX_LINES);
    const result = await withGateway(env, (client) => client.request<{ lines?: unknown[] }>("logs.tail", { limit }));
    const lines = (result.lines ?? []).slice(-limit).map((line) => redactSecrets(formatLogLine(line), env));
    const text = lines.length ? ["```", ...lines, "```"].join("\n") : "No log lines.";
    return { ok: true, title: `Gateway logs (last ${lines.length})`, text, data: { lines } };
  },
};

export function formatLogLine(line: unknown): string {
  if (typeof line !== "string") return String(line);
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const meta = (record._meta ?? {}) as Record<string, unknown>;
  const time = typeof record.time === "string" ? record.time.slice(11, 19) : "";
  const level = typeof meta.logLevelName === "string" ? meta.logLevelName : "";
  const message = typeof record.message === "string" ? record.message : typeof record["1"] === "string" ? record["1"] : line;
  return [time, level, message].filter(Boolean).join(" ");
}
