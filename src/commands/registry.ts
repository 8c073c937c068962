/**
 * The `/molt` command registry: one file per command, each declaring its name, arguments (usage),
 * help, whether it is for admins, and its handler, once. Chat platforms and the HTTP admin surface
 * run commands through `runCommand`, which checks the caller, runs the handler and writes the
 * audit log. Results are platform-neutral; each surface renders them.
 */
import type { CommandReply } from "../adapters/types";
import type { Env } from "../env";
import { isAdmin } from "../policy/admission";
import { policy } from "../policy/policy-object";
import { redactSecrets } from "../policy/redact";
import { allowCommand } from "./allow";
import { auditCommand } from "./audit";
import { backupCommand } from "./backup";
import { backupsCommand } from "./backups";
import { denyCommand } from "./deny";
import { helpCommand } from "./help";
import { logsCommand } from "./logs";
import { modelCommand } from "./model";
import { newCommand } from "./new";
import { pairCommand } from "./pair";
import { restartCommand } from "./restart";
import { screenshotCommand } from "./screenshot";
import { restoreCommand } from "./restore";
import { statusCommand } from "./status";
import { stopCommand } from "./stop";

/** A reply, plus structured data for the HTTP surface (chat shows only the text). */
export interface CommandResult extends CommandReply {
  data?: Record<string, unknown>;
  /** What the audit log should add about the effect, e.g. `approved slack:U123`. No secrets. */
  audit?: string;
  /** Files the command made, stored in the MEDIA bucket; chat surfaces upload them after the text. */
  media?: CommandMedia[];
}

export interface CommandMedia {
  /** R2 key in MEDIA. */
  key: string;
  name: string;
  contentType: string;
  size: number;
  /** A signed link, for surfaces that can't take the file. */
  link?: string;
}

export interface CommandContext {
  env: Env;
  /** The words after the command's name. */
  args: string[];
  /** Who runs it: `slack:U123`, `access:alice@example.com`. */
  actor: string;
  /** The conversation it was issued in; absent over HTTP. */
  conversation?: string;
  /** That conversation is a DM. */
  direct?: boolean;
}

export interface Command {
  name: string;
  /** The arguments, e.g. `/molt logs [n]`. */
  usage: string;
  help: string;
  /** Only `ADMINS` may run it. */
  admin: boolean;
  run(ctx: CommandContext): Promise<CommandResult>;
  /** What the audit log keeps of the arguments (default: all). */
  auditArgs?(args: string[]): string[];
}

/** Wrong arguments: the caller gets the usage (HTTP 400). */
export class UsageError extends Error {}

export const commands: readonly Command[] = [
  helpCommand,
  statusCommand,
  restartCommand,
  pairCommand,
  allowCommand,
  denyCommand,
  modelCommand,
  newCommand,
  logsCommand,
  backupCommand,
  auditCommand,
  stopCommand,
  screenshotCommand,
  backupsCommand,
  restoreCommand,
];

export interface Invocation {
  name: string;
  args: string[];
  actor: string;
  conversation?: string;
  direct?: boolean;
}

export type CommandOutcome = {
  /** done: it ran (the result says whether it worked); refused: not an admin; unknown; invalid: bad arguments; failed: it threw. */
  status: "done" | "refused" | "unknown" | "invalid" | "failed";
  result: CommandResult;
};

/** `pair approve ABCD` → name `pair`, args `[approve, ABCD]`. An empty text is `help`. */
export function parseCommandText(text: string): { name: string; args: string[] } {
  const [name = "help", ...args] = text.trim().split(/\s+/).filter(Boolean);
  return { name: name.toLowerCase(), args };
}

export function findCommand(name: string): Command | undefined {
  return commands.find((candidate) => candidate.name === name.toLowerCase());
}

export async function runCommand(env: Env, invocation: Invocation): Promise<CommandOutcome> {
  const command = findCommand(invocation.name);
  if (!command) {
    const name = redactSecrets(invocation.name, env).slice(0, 40);
    return { status: "unknown", result: { ok: false, title: "Unknown command", text: `No command \`${name}\`. Try \`/molt help\`.` } };
  }
  const args = (command.auditArgs?.(invocation.args) ?? invocation.args).join(" ");
  const audit = (outcome: "ok" | "failed" | "refused", effect?: string) =>
    policy(env)
      .record({ actor: invocation.actor, action: command.name, detail: effect ? `${args} → ${effect}` : args, outcome })
      .catch((error) => console.error("audit write failed:", error instanceof Error ? error.message : String(error)));

  if (command.admin && !isAdmin(env, invocation.actor)) {
    await audit("refused");
    return {
      status: "refused",
      result: { ok: false, title: command.name, text: `\`/molt ${command.name}\` is for admins only, and \`${invocation.actor}\` isn't one.` },
    };
  }
  let outcome: CommandOutcome;
  try {
    const { args: _args, name: _name, ...where } = invocation;
    const result = await command.run({ env, args: invocation.args, ...where });
    outcome = { status: "done", result };
  } catch (error) {
    const message = redactSecrets(error instanceof Error ? error.message : String(error), env);
    outcome =
      error instanceof UsageError
        ? { status: "invalid", result: { ok: false, title: command.name, text: `${message}\nUsage: \`${command.usage}\`` } }
        : { status: "failed", result: { ok: false, title: command.name, text: `Failed: ${message}` } };
  }
  if (command.admin) await audit(outcome.status === "done" && outcome.result.ok ? "ok" : "failed", outcome.result.audit);
  return outcome;
}
