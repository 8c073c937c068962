import { conversation } from "../bridge/conversation-object";
import type { StopRequest, StopResult } from "../bridge/stop";
import { type Command, UsageError } from "./registry";

/**
 * Stops the agent's current run in this conversation: the gateway's run is aborted and the answer
 * ends where it was, marked as stopped. Open to everyone; the bridge lets only the person who
 * asked, or an admin, stop a run. A platform's own stop control (Slack's stop button, Telegram's
 * Stop button) arrives as this command too, naming the run it was shown for.
 */
export const stopCommand: Command = {
  name: "stop",
  usage: "/molt stop",
  help: "Stop the agent's current answer in this conversation (the person who asked, or an admin).",
  admin: false,
  async run({ env, args, actor, conversation: key }) {
    if (!key) throw new UsageError("Stop works in a conversation: use it where the agent is answering.");
    // Typed by hand: the RPC type of the bridge is too deep for the compiler.
    const bridge = conversation(env, key) as unknown as { stop(request: StopRequest): Promise<StopResult> };
    const result = await bridge.stop({ actor, ...(args[0] ? { ref: args[0] } : {}) });
    return { ok: result.status === "stopped", title: "Stop", text: result.text, data: { status: result.status }, audit: result.status };
  },
};
