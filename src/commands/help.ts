import type { Command } from "./registry";

/** Public: it names the commands, nothing about the deployment. */
export const helpCommand: Command = {
  name: "help",
  usage: "/molt help",
  help: "List the commands.",
  admin: false,
  async run() {
    // Imported lazily: the registry imports this file.
    const { commands } = await import("./registry");
    const lines = commands.map((command) => `• \`${command.usage}\`: ${command.help}${command.admin ? " _(admins)_" : ""}`);
    return { ok: true, title: "molt-relay commands", text: lines.join("\n"), data: { commands: commands.map(({ name, usage, help, admin }) => ({ name, usage, help, admin })) } };
  },
};
