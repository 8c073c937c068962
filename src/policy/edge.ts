/**
 * The edge check in front of the bridges: a message the policy refuses is answered (a pairing
 * code, or a short refusal) after the platform has been acknowledged, and goes no further: it is
 * never stored in a bridge, so it never reaches the gateway and never wakes the container.
 */
import type { Adapter, InboundMessage } from "../adapters/types";
import type { Env } from "../env";
import { policy } from "./policy-object";

export async function admitMessage(adapter: Adapter, message: InboundMessage, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Promise<boolean> {
  const admission = await policy(env).admit({
    sender: message.sender,
    direct: message.direct,
    conversation: message.conversation,
    reply: message.reply,
  });
  if (admission.allowed) return true;
  ctx.waitUntil(
    adapter
      .openReply(env, message.reply)
      .postNotice(admission.notice, "info")
      .catch((error) => console.warn(`${adapter.platform} refusal notice failed:`, error instanceof Error ? error.message : String(error))),
  );
  return false;
}
