/**
 * Opening a paired, authenticated connection to this deployment's gateway. The supervisor keeps
 * the device identity; when the gateway asks to pair it, the supervisor approves it (in the
 * container the relay owns) and the connect is tried once more.
 */
import type { Env } from "../env";
import { gatewaySupervisor } from "./supervisor";
import { sandboxTransport } from "./transport";
import { GatewayClient } from "../gateway/client";
import { loadDeviceSigner } from "../gateway/device";
import { PairingRequiredError } from "../gateway/errors";
import { urlTransport, type GatewayTransport } from "../gateway/transport";

/** Connects tried while pairing the relay's device (a concurrent connect can supersede a request). */
const PAIRING_ATTEMPTS = 3;

export function gatewayTransport(env: Env): GatewayTransport {
  return env.GATEWAY_URL ? urlTransport(env.GATEWAY_URL) : sandboxTransport(env);
}

export async function connectToGateway(env: Env, transport = gatewayTransport(env)): Promise<GatewayClient> {
  const supervisor = gatewaySupervisor(env);
  const { identity, deviceToken } = await supervisor.device();
  const device = await loadDeviceSigner(identity);
  const open = () => GatewayClient.connect(transport, { token: env.GATEWAY_TOKEN, device, deviceToken });
  let client: GatewayClient | undefined;
  for (let attempt = 1; !client; attempt++) {
    try {
      client = await open();
    } catch (error) {
      if (!(error instanceof PairingRequiredError) || !error.requestId || attempt >= PAIRING_ATTEMPTS) throw error;
      // A request superseded by a concurrent connect fails to approve; the next connect tells.
      await supervisor.approveOwnDevice(error.requestId).catch((failure) => {
        if (attempt + 1 >= PAIRING_ATTEMPTS) throw failure;
      });
    }
  }
  const issued = client.hello.auth?.deviceToken;
  if (issued && issued !== deviceToken) await supervisor.saveDeviceToken(issued);
  const version = client.hello.server?.version;
  if (typeof version === "string") await supervisor.recordVersion(version);
  return client;
}
