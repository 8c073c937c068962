/**
 * Opening a paired, authenticated connection to this deployment's gateway. The supervisor keeps
 * the device identity; when the gateway asks to pair it, the supervisor pairs it (in the
 * container the relay owns, one pairing for all the bridges asking) and the connect is tried again.
 */
import type { Env } from "../env";
import { gatewaySupervisor } from "./supervisor";
import { sandboxTransport } from "./transport";
import { GatewayClient } from "../gateway/client";
import { loadDeviceSigner } from "../gateway/device";
import { PairingRequiredError } from "../gateway/errors";
import { urlTransport, type GatewayTransport } from "../gateway/transport";

/** Connects tried: a refused one waits for the supervisor to pair the device, then tries again. */
const PAIRING_ATTEMPTS = 3;

export function gatewayTransport(env: Env): GatewayTransport {
  return env.GATEWAY_URL ? urlTransport(env.GATEWAY_URL) : sandboxTransport(env);
}

export async function connectToGateway(env: Env, transport = gatewayTransport(env)): Promise<GatewayClient> {
  const supervisor = gatewaySupervisor(env);
  let client: GatewayClient | undefined;
  let deviceToken: string | undefined;
  for (let attempt = 1; !client; attempt++) {
    // Read again after a pairing: it may have brought a device token.
    const credentials = await supervisor.device();
    deviceToken = credentials.deviceToken;
    const device = await loadDeviceSigner(credentials.identity);
    try {
      client = await GatewayClient.connect(transport, { token: env.GATEWAY_TOKEN, device, deviceToken });
    } catch (error) {
      if (!(error instanceof PairingRequiredError) || attempt >= PAIRING_ATTEMPTS || (env.GATEWAY_URL && !error.requestId)) throw error;
      await supervisor.pairOwnDevice(error.requestId);
    }
  }
  const issued = client.hello.auth?.deviceToken;
  if (issued && issued !== deviceToken) await supervisor.saveDeviceToken(issued);
  const version = client.hello.server?.version;
  if (typeof version === "string") await supervisor.recordVersion(version);
  return client;
}
