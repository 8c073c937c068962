import type { Command } from "./registry";

export const helpCommand: Command = {
  name: "help",
  usage: "/molt help",
  help: "List the commands.",
  async run() {
    // Imported lazily: the registry imports this file.
    const { commands } = await import("./registry");
    const lines = commands.map((command) => `• \`${command.usage}\`: ${command.help}`);
    return { ok: true, title: "molt-relay commands", text: lines.join("\n") };
  },
};
