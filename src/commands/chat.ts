/**
 * Running a `/molt` command that came from a chat platform. Platforms want an answer within ~3 s
 * (Slack and Discord), so a command still running after COMMAND_ACK_MS is acknowledged with a
 * "working on it" reply and its result is posted later, as a relay notice in the conversation.
 */
import type { Adapter, CommandReply, InboundCommand } from "../adapters/types";
import type { Env } from "../env";
import { parseCommandText, runCommand } from "./registry";

export const COMMAND_ACK_MS = 2_500;

export async function answerChatCommand(adapter: Adapter, event: InboundCommand, env: Env, ctx: Pick<ExecutionContext, "waitUntil">, ackMs = COMMAND_ACK_MS): Promise<CommandReply> {
  const { name, args } = parseCommandText(event.text);
  const running = runCommand(env, { name, args, actor: event.sender.id, conversation: event.conversation, direct: event.direct });
  let timer: number | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ackMs) as unknown as number));
  const outcome = await Promise.race([running, late]);
  clearTimeout(timer);
  if (outcome) return strip(outcome.result);

  ctx.waitUntil(
    running
      .then(({ result }) => adapter.openReply(env, event.reply).postNotice(`**${result.title}**\n${result.text}`, result.ok ? "info" : "error"))
      .catch((error) => console.error(`late result of /molt ${name}:`, error instanceof Error ? error.message : String(error))),
  );
  return { ok: true, title: name, text: `Working on \`/molt ${name}\`… the result will be posted here.` };
}

/** Chat shows the reply only. */
function strip({ ok, title, text }: CommandReply): CommandReply {
  return { ok, title, text };
}
