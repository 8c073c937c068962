/** Runs on the real gateway for media tests: a message sent and its run followed to its end. */
import type { GatewayClient } from "../../src/gateway/client";
import { chatSend } from "../../src/gateway/methods";
import { subscribeRun } from "../../src/gateway/run-events";

/** Send `message` to `sessionKey` and follow the run to its end: its acknowledgement and its events' types. */
export async function runToEnd(client: GatewayClient, sessionKey: string, message: string) {
  const subscription = subscribeRun(client);
  const ack = await chatSend(client, { sessionKey, message, idempotencyKey: crypto.randomUUID() });
  subscription.bind(ack.runId);
  const events: string[] = [];
  for await (const event of subscription) events.push(event.type);
  subscription.close();
  return { ack, events };
}
