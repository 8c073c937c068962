/**
 * Logs: the gateway's recent lines (through `/molt logs`, so redacted the same way) and the audit
 * log. Reading the gateway's logs needs the gateway: while a container sleeps, the page says so
 * and waits to be asked rather than wake it.
 */
import { runCommand } from "../../../commands/registry";
import { policy } from "../../../policy/policy-object";
import { gatewaySupervisor } from "../../../sandbox/supervisor";
import { formatTime } from "../layout";
import type { PageContext } from "./context";

const LOG_LINES = 100;
const AUDIT_ENTRIES = 100;

export async function logsPage({ env, actor, query }: PageContext) {
  const [status, audit] = await Promise.all([gatewaySupervisor(env).status(), policy(env).audit(AUDIT_ENTRIES)]);
  const awake = status.phase === "ready" || query.get("wake") === "1";
  const logs = awake ? await runCommand(env, { name: "logs", args: [String(LOG_LINES)], actor }) : undefined;
  const lines = (logs?.result.data?.lines as string[] | undefined) ?? [];
  return (
    <>
      <section class="card" id="gateway-logs">
        <h2>Gateway log</h2>
        {!logs ? (
          <p>
            The gateway is {status.phase}; reading its log would wake it. <a href="/admin/logs?wake=1">Read it anyway</a>
          </p>
        ) : !logs.result.ok ? (
          <p class="bad">{logs.result.text}</p>
        ) : lines.length === 0 ? (
          <p class="muted">No log lines.</p>
        ) : (
          <pre class="log">{lines.join("\n")}</pre>
        )}
      </section>
      <section class="card" id="audit">
        <h2>Audit log</h2>
        {audit.length === 0 ? (
          <p class="muted">Nothing recorded yet.</p>
        ) : (
          <ul class="items">
            {audit.map((entry) => (
              <li>
                <div>
                  <code>{entry.actor}</code> {entry.action} {entry.detail} <span class={entry.outcome === "ok" ? "ok" : "bad"}>({entry.outcome})</span>
                </div>
                <div class="muted small">{formatTime(entry.at)}</div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
