import { conversation } from "../bridge/conversation-object";
import type { StopRequest, StopResult } from "../bridge/stop";
import type { Env } from "../env";
import { policy } from "../policy/policy-object";
import { type Command, UsageError } from "./registry";

/** Recent conversations looked at for runs nested in this one (threads of a channel). */
const NESTED_LOOKUP = 50;

/**
 * Stops the agent's current run in this conversation: the gateway's run is aborted and the answer
 * ends where it was, marked as stopped. Open to everyone; the bridge lets only the person who
 * asked, or an admin, stop a run. A platform's own stop control (the adapter's stop capability)
 * arrives as this command too, naming the run it was shown for.
 *
 * Where a conversation holds others (a channel whose threads are conversations of their own,
 * while a slash command only knows the channel), `/molt stop` there stops the runs in them that
 * the caller may stop.
 */
export const stopCommand: Command = {
  name: "stop",
  usage: "/molt stop",
  help: "Stop the agent's current answer in this conversation (the person who asked, or an admin).",
  admin: false,
  async run({ env, args, actor, conversation: key }) {
    if (!key) throw new UsageError("Stop works in a conversation: use it where the agent is answering.");
    const ref = args[0];
    let result = await stopIn(env, key, { actor, ...(ref ? { ref } : {}) });
    if (result.status === "idle" && !ref) result = (await stopNested(env, key, actor)) ?? result;
    // Stops, and refused attempts, go to the audit log (a stop that found nothing running does not).
    if (result.status !== "idle") {
      await policy(env)
        .record({ actor, action: "stop", detail: key, outcome: result.status === "stopped" ? "ok" : "refused" })
        .catch((error) => console.error("audit write failed:", error instanceof Error ? error.message : String(error)));
    }
    return { ok: result.status === "stopped", title: "Stop", text: result.text, data: { status: result.status }, audit: result.status };
  },
};

function stopIn(env: Env, key: string, request: StopRequest): Promise<StopResult> {
  // Typed by hand: the RPC type of the bridge is too deep for the compiler.
  const bridge = conversation(env, key) as unknown as { stop(request: StopRequest): Promise<StopResult> };
  return bridge.stop(request);
}

/** Stop the runs in conversations nested in `key` (`<key>:...`); undefined when none runs. */
async function stopNested(env: Env, key: string, actor: string): Promise<StopResult | undefined> {
  const nested = (await policy(env).recentConversations(NESTED_LOOKUP)).filter((candidate) => candidate.startsWith(`${key}:`));
  const results = await Promise.all(nested.map((candidate) => stopIn(env, candidate, { actor }).catch(() => undefined)));
  const stopped = results.filter((result) => result?.status === "stopped").length;
  if (stopped > 0) return { status: "stopped", text: stopped === 1 ? "Stopped." : `Stopped ${stopped} answers.` };
  return results.find((result) => result?.status === "refused");
}
