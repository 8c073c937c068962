/**
 * The `/molt` command registry: one file per command, each declaring its name, usage, help and
 * handler once. Results are platform-neutral (CommandReply); each adapter renders them natively.
 */
import type { CommandReply, InboundCommand } from "../adapters/types";
import type { Env } from "../env";
import { helpCommand } from "./help";
import { statusCommand } from "./status";

export interface CommandContext {
  env: Env;
  event: InboundCommand;
  /** The words after the command's name. */
  args: string[];
}

export interface Command {
  name: string;
  usage: string;
  help: string;
  run(ctx: CommandContext): Promise<CommandReply>;
}

export const commands: readonly Command[] = [helpCommand, statusCommand];

export async function runCommand(event: InboundCommand, env: Env): Promise<CommandReply> {
  const [name = "help", ...args] = event.text.trim().split(/\s+/).filter(Boolean);
  const command = commands.find((candidate) => candidate.name === name.toLowerCase());
  if (!command) return { ok: false, title: "Unknown command", text: `No command \`${name}\`. Try \`/molt help\`.` };
  try {
    return await command.run({ env, event, args });
  } catch (error) {
    return { ok: false, title: command.name, text: `Failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
