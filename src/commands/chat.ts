/**
 * Running a `/molt` command that came from a chat platform. Platforms want an answer within ~3 s
 * (Slack and Discord), so a command still running after COMMAND_ACK_MS is acknowledged with a
 * "working on it" reply, and its result is posted later by its runner (runner.ts), as a relay
 * notice in the conversation.
 */
import type { CommandReply, InboundCommand } from "../adapters/types";
import type { Env } from "../env";
import { parseCommandText } from "./registry";
import { commandRunner } from "./runner";

export const COMMAND_ACK_MS = 2_500;

export async function answerChatCommand(event: InboundCommand, env: Env, ackMs = COMMAND_ACK_MS): Promise<CommandReply> {
  const { name, args } = parseCommandText(event.text);
  const invocation = { name, args, actor: event.sender.id, conversation: event.conversation, direct: event.direct };
  const result = await commandRunner(env).run({ invocation, reply: event.reply }, ackMs);
  return result ?? { ok: true, title: name, text: `Working on \`/molt ${name}\`… the result will be posted here.`, pending: true };
}
