import type { Command } from "./registry";

/** Honest until persistence lands: nothing of the agent's state is saved outside the container. */
export const backupCommand: Command = {
  name: "backup",
  usage: "/molt backup",
  help: "Back up the agent's state, where persistence is configured.",
  admin: true,
  async run() {
    return {
      ok: false,
      title: "Backup",
      text: "No persistence is configured: the agent's state lives only in its container, so there is nothing to back up to. Nothing was done.",
      data: { persistence: false },
    };
  },
};
