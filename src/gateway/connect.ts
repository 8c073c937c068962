/**
 * Opening a paired, authenticated connection to this deployment's gateway. The supervisor keeps
 * the device identity; when the gateway asks to pair it, the supervisor approves it (in the
 * container the relay owns) and the connect is tried once more.
 */
import type { Env } from "../env";
import { gatewaySupervisor } from "../sandbox/supervisor";
import { sandboxTransport } from "../sandbox/transport";
import { GatewayClient } from "./client";
import { loadDeviceSigner } from "./device";
import { PairingRequiredError } from "./errors";
import { urlTransport, type GatewayTransport } from "./transport";

export function gatewayTransport(env: Env): GatewayTransport {
  return env.GATEWAY_URL ? urlTransport(env.GATEWAY_URL) : sandboxTransport(env);
}

export async function connectToGateway(env: Env, transport = gatewayTransport(env)): Promise<GatewayClient> {
  const supervisor = gatewaySupervisor(env);
  const { identity, deviceToken } = await supervisor.device();
  const device = await loadDeviceSigner(identity);
  const open = () => GatewayClient.connect(transport, { token: env.GATEWAY_TOKEN, device, deviceToken });
  let client: GatewayClient;
  try {
    client = await open();
  } catch (error) {
    if (!(error instanceof PairingRequiredError) || !error.requestId) throw error;
    await supervisor.approveOwnDevice(error.requestId);
    client = await open();
  }
  const issued = client.hello.auth?.deviceToken;
  if (issued && issued !== deviceToken) await supervisor.saveDeviceToken(issued);
  const version = client.hello.server?.version;
  if (typeof version === "string") await supervisor.recordVersion(version);
  return client;
}
