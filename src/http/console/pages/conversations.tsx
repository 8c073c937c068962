/**
 * Conversations: the ones with messages in the last day, from their bridges' own turn records.
 * Names where the platform gave them; never what anybody said.
 */
import { conversation } from "../../../bridge/conversation-object";
import type { Turn } from "../../../bridge/inbox";
import type { Env } from "../../../env";
import { policy } from "../../../policy/policy-object";
import { CommandButton, formatAge } from "../layout";
import type { PageContext } from "./context";

const CONVERSATIONS = 50;
const TURNS_EACH = 20;

export interface ConversationSummary {
  key: string;
  platform: string;
  lastActivity: number;
  queued: number;
  /** The newest turn's state. */
  state: Turn["state"] | undefined;
  /** Sender names the platform gave, newest first. */
  names: string[];
}

/** Only what the console shows: no message text leaves this function. */
export async function conversationSummaries(env: Env): Promise<ConversationSummary[]> {
  const keys = await policy(env).recentConversations(CONVERSATIONS);
  // Typed by hand: the RPC type of Turn (recursive Json inside) is too deep for the compiler.
  const bridge = (key: string) => conversation(env, key) as unknown as { turns(limit: number): Promise<Turn[]> };
  return Promise.all(
    keys.map(async (key) => {
      const turns = await bridge(key).turns(TURNS_EACH).catch((): Turn[] => []);
      const names = [...new Set(turns.map((turn) => turn.message.sender.name).filter((name): name is string => Boolean(name)))];
      return {
        key,
        platform: key.split(":")[0] ?? "",
        lastActivity: Math.max(0, ...turns.map((turn) => turn.finishedAt ?? turn.startedAt ?? turn.receivedAt)),
        queued: turns.filter((turn) => turn.state === "queued" || turn.state === "running").length,
        state: turns[0]?.state,
        names,
      };
    }),
  );
}

export async function conversationsPage({ env, token, now }: PageContext) {
  const summaries = await conversationSummaries(env);
  if (summaries.length === 0) return <section class="card"><p class="muted">No conversations in the last day.</p></section>;
  return (
    <section class="card">
      <ul class="items" id="conversations">
        {summaries.map((summary) => (
          <li data-key={summary.key}>
            <div>
              <span class="pill">{summary.platform}</span> <code>{summary.key}</code>
            </div>
            <div class="muted">
              {summary.names.length ? <>with {summary.names.join(", ")} · </> : null}
              {summary.lastActivity ? `active ${formatAge(now - summary.lastActivity)}` : "no activity"} · {summary.queued} queued · current turn:{" "}
              <span class={summary.state === "failed" ? "bad" : undefined}>{summary.state ?? "none"}</span>
            </div>
            <div class="buttons">
              <CommandButton token={token} back="conversations" command="new" args={[summary.key]} label="New session" />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
