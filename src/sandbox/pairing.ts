/**
 * Pairing the relay's own device with the gateway in the container the relay owns. Each connect of
 * an unpaired device raises a pairing request, and a newer request supersedes an older one: on a
 * cold start, bridges connecting at once that each approved their own request kept superseding one
 * another, and some gave up. So the bridges wait while the supervisor pairs (one pairing at a
 * time): it connects, approves the request that connect raised, and connects again to take the
 * device token the gateway issues.
 */
import type { Env } from "../env";
import { GatewayClient } from "../gateway/client";
import { loadDeviceSigner, type StoredDeviceIdentity } from "../gateway/device";
import { PairingRequiredError } from "../gateway/errors";
import { approveDeviceInContainer } from "./lifecycle";
import { openSandbox, sandboxTransport } from "./transport";

/** Connects tried while pairing (a bridge connecting meanwhile can still supersede a request). */
const PAIRING_ATTEMPTS = 4;

export async function pairDevice(
  env: Env,
  credentials: { identity: StoredDeviceIdentity; deviceToken?: string },
  saveToken: (token: string) => Promise<void>,
): Promise<void> {
  const device = await loadDeviceSigner(credentials.identity);
  const transport = sandboxTransport(env);
  for (let attempt = 1; ; attempt++) {
    try {
      const client = await GatewayClient.connect(transport, { token: env.GATEWAY_TOKEN, device, deviceToken: credentials.deviceToken });
      const issued = client.hello.auth?.deviceToken;
      client.close("paired");
      if (issued && issued !== credentials.deviceToken) await saveToken(issued);
      return;
    } catch (error) {
      if (!(error instanceof PairingRequiredError) || !error.requestId || attempt >= PAIRING_ATTEMPTS) throw error;
      await approveDeviceInContainer(openSandbox(env), env, error.requestId).catch((failure: unknown) => {
        // Superseded by a connect meanwhile: the next connect raises a request of its own.
        if (attempt + 1 >= PAIRING_ATTEMPTS) throw failure;
      });
    }
  }
}
