import { withGateway } from "./gateway";
import { type Command, UsageError } from "./registry";

/** Resets the gateway session whose key is the conversation's (the bridge uses that key for its turns). */
export const newCommand: Command = {
  name: "new",
  usage: "/molt new [conversation]",
  help: "Start a fresh agent session for this conversation (over HTTP: name the conversation key).",
  admin: true,
  async run({ env, args, conversation, direct }) {
    const key = args[0] ?? conversation;
    if (!key) throw new UsageError("Name the conversation, e.g. `slack:T0123:D0456`.");
    await withGateway(env, (client) => client.request("sessions.reset", { key }));
    // A slash command in a channel knows the channel, not the thread: threads are sessions of their own.
    const note = direct === false && !args[0] ? " In a channel, each thread is its own session: start a new thread for a fresh one." : "";
    return { ok: true, title: "New session", text: `Started a fresh session for \`${key}\`.${note}`, audit: `reset ${key}`, data: { key } };
  },
};
