/** Running one request against the gateway for a command: bring it up if needed, connect, close. */
import type { Env } from "../env";
import type { GatewayClient } from "../gateway/client";
import { connectToGateway } from "../sandbox/connect";
import { gatewaySupervisor } from "../sandbox/supervisor";

export async function withGateway<T>(env: Env, work: (client: GatewayClient) => Promise<T>): Promise<T> {
  const status = await gatewaySupervisor(env).ensureReady();
  if (status.phase !== "ready") throw new Error(`the gateway is ${status.phase}${status.lastError ? `: ${status.lastError}` : ""}`);
  const client = await connectToGateway(env);
  try {
    return await work(client);
  } finally {
    client.close("command done");
  }
}
