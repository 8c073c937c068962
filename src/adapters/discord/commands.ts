/**
 * `/molt` as one Discord slash command with a sub-command per command in the relay's registry
 * (src/commands/registry.ts), each with the registry's arguments as typed options. Discord needs
 * the definitions before anyone types `/molt`, so `npm run setup` registers them; this file has
 * only erasable TypeScript and no runtime imports, so that the setup script (Node) can import it.
 * A test keeps it in step with the registry: every command, every argument.
 *
 * An interaction's options come back by name; `commandText` puts them in the declared order, which
 * is the order the registry's commands read their arguments in (`pair approve CODE`).
 */

import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord-api-types/v10";

/** Discord's option types used here. */
const STRING = 3;
const INTEGER = 4;

interface OptionSpec {
  name: string;
  description: string;
  type: typeof STRING | typeof INTEGER;
  required?: boolean;
  choices?: { name: string; value: string }[];
  min_value?: number;
  max_value?: number;
}

interface SubCommandSpec {
  name: string;
  description: string;
  options?: OptionSpec[];
}

const choices = (...values: string[]) => values.map((value) => ({ name: value, value }));

export const MOLT_SUBCOMMANDS: readonly SubCommandSpec[] = [
  { name: "help", description: "What /molt can do" },
  { name: "status", description: "The agent, the gateway and the conversation's turns" },
  { name: "restart", description: "Restart the agent's gateway (admins)" },
  {
    name: "pair",
    description: "Pending DM pairing requests: list, approve or deny (admins)",
    options: [
      { name: "action", description: "list, approve or deny", type: STRING, choices: choices("list", "approve", "deny") },
      { name: "code", description: "The pairing code (for approve and deny)", type: STRING },
    ],
  },
  {
    name: "allow",
    description: "Let a person DM the agent, or allow a channel; no arguments: show the lists (admins)",
    options: [
      { name: "who", description: "platform:user, or `channel`", type: STRING },
      { name: "channel", description: "With who=channel: a conversation key, or `here`", type: STRING },
    ],
  },
  {
    name: "deny",
    description: "Remove a person or a channel from the allowlists (admins)",
    options: [
      { name: "who", description: "platform:user, or `channel`", type: STRING, required: true },
      { name: "channel", description: "With who=channel: a conversation key, or `here`", type: STRING },
    ],
  },
  {
    name: "model",
    description: "Show or set the agent's model (admins)",
    options: [{ name: "model", description: "provider/model", type: STRING }],
  },
  {
    name: "new",
    description: "Start a fresh agent session for this conversation (admins)",
    options: [{ name: "conversation", description: "Another conversation's key", type: STRING }],
  },
  {
    name: "logs",
    description: "The gateway's last log lines, secrets redacted (admins)",
    options: [{ name: "n", description: "How many lines", type: INTEGER, min_value: 1, max_value: 200 }],
  },
  {
    name: "backup",
    description: "Back up the agent's state now (admins)",
    options: [{ name: "force", description: "`--force`: make it current even if much smaller", type: STRING, choices: choices("--force") }],
  },
  { name: "backups", description: "The agent's state snapshots kept (admins)" },
  {
    name: "restore",
    description: "Put a snapshot of the agent's state back, and restart (admins)",
    options: [{ name: "generation", description: "The snapshot's generation (see /molt backups)", type: STRING, required: true }],
  },
  {
    name: "audit",
    description: "The last admin actions (admins)",
    options: [{ name: "n", description: "How many entries", type: INTEGER, min_value: 1, max_value: 200 }],
  },
  { name: "stop", description: "Stop the agent's current answer in this conversation" },
  {
    name: "screenshot",
    description: "A screenshot of a page, rendered at the edge (admins)",
    options: [
      { name: "url", description: "An http(s) URL", type: STRING, required: true },
      { name: "mode", description: "`full` for the whole page", type: STRING, choices: choices("full") },
    ],
  },
];

/** Contexts: 0 guild, 1 the bot's DMs, 2 private channels; installed to guilds (0). */
export function moltCommandDefinition(): RESTPostAPIChatInputApplicationCommandsJSONBody & { options: { name: string; description: string }[] } {
  return {
    name: "molt",
    description: "Run a molt-relay admin command",
    type: 1,
    contexts: [0, 1, 2],
    integration_types: [0],
    options: MOLT_SUBCOMMANDS.map((sub) => ({
      type: 1,
      name: sub.name,
      description: sub.description.slice(0, 100),
      options: sub.options ?? [],
    })),
  };
}

interface GivenOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: GivenOption[];
}

/**
 * The words after `/molt` for a `/molt <sub> ...` interaction: the sub-command, then its options'
 * values in declared order (an option left out ends the list, as later ones need it). Undefined when
 * no sub-command was given.
 */
export function commandText(options: readonly GivenOption[] | undefined): string | undefined {
  const sub = options?.find((option) => option.type === 1);
  if (!sub) return undefined;
  const given = new Map((sub.options ?? []).map((option) => [option.name, option.value]));
  const declared = MOLT_SUBCOMMANDS.find((spec) => spec.name === sub.name)?.options ?? [];
  const words: string[] = [sub.name];
  for (const spec of declared) {
    const value = given.get(spec.name);
    if (value === undefined || String(value).trim() === "") break;
    words.push(String(value).trim());
  }
  // Options the definition doesn't know (an older registration) still reach the command.
  for (const [name, value] of given) if (!declared.some((spec) => spec.name === name) && value !== undefined) words.push(String(value));
  return words.join(" ");
}
