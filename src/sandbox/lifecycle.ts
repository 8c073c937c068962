/**
 * Starting, finding and stopping the gateway process in the container, and approving the
 * relay's own device there. The supervisor calls these under its lock; nothing else should.
 */
import type { Env } from "../env";
import { LLM_HOST, offeredProviders, providerSecrets } from "./llm-providers";
import { GATEWAY_PORT, type SandboxStub } from "./transport";

export const GATEWAY_PROCESS_ID = "openclaw-gateway";
/** The container's start script (container/start-gateway.mjs, copied by the Dockerfile). */
export const START_SCRIPT = "/opt/molt-relay/start-gateway.mjs";

/**
 * What the start script reads: the token, the bind, which model providers to offer and where to
 * reach them. No provider key: the container calls its model through `http://llm.internal/...`,
 * and the Worker adds the key there (llm-egress.ts).
 */
export function gatewayEnvironment(env: Env): Record<string, string> {
  const vars: Record<string, string | undefined> = {
    GATEWAY_TOKEN: env.GATEWAY_TOKEN,
    GATEWAY_PORT: String(GATEWAY_PORT),
    GATEWAY_BIND: "lan",
    MODEL_PROVIDERS: offeredProviders(env),
    LLM_BASE_URL: `http://${LLM_HOST}`,
    OPENAI_COMPATIBLE_MODEL: env.OPENAI_COMPATIBLE_BASE_URL ? env.OPENAI_COMPATIBLE_MODEL || "stand-in" : undefined,
    MODEL: env.MODEL,
  };
  return Object.fromEntries(Object.entries(vars).filter((entry): entry is [string, string] => Boolean(entry[1])));
}

/** Whether the gateway process is running (or starting) in the container. */
export async function gatewayProcessRunning(sandbox: SandboxStub): Promise<boolean> {
  const processes = await sandbox.listProcesses();
  return processes.some((p) => p.id === GATEWAY_PROCESS_ID && (p.status === "running" || p.status === "starting"));
}

export async function startGatewayProcess(sandbox: SandboxStub, env: Env): Promise<void> {
  await sandbox.startProcess(`node ${START_SCRIPT}`, {
    processId: GATEWAY_PROCESS_ID,
    env: gatewayEnvironment(env),
  });
}

/**
 * Stop the gateway and wait (bounded) until it is gone, so that a new one can take its port. The
 * control plane marks a killed process `killed` at once, while the gateway may take seconds to
 * exit: `answering` tells whether its port still answers.
 */
export async function stopGatewayProcess(sandbox: SandboxStub, answering: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  if (await gatewayProcessRunning(sandbox)) await sandbox.killProcess(GATEWAY_PROCESS_ID);
  const deadline = Date.now() + timeoutMs;
  while ((await gatewayProcessRunning(sandbox)) || (await answering())) {
    if (Date.now() > deadline) throw new Error(`the gateway did not stop within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Approve a pending device pairing from inside the container. The start script runs OpenClaw's
 * own `devices approve` against the local gateway (a loopback peer, so it has the authority):
 * the gateway's auth stays on and no human is needed for the relay's own device.
 */
export async function approveDeviceInContainer(sandbox: SandboxStub, env: Env, requestId: string): Promise<void> {
  if (!REQUEST_ID.test(requestId)) throw new Error("malformed pairing request id");
  const result = await sandbox.exec(`node ${START_SCRIPT} approve-device ${requestId}`, {
    env: gatewayEnvironment(env),
    timeout: 60_000,
  });
  if (result.exitCode !== 0) {
    throw new Error(`device approval failed (exit ${result.exitCode}): ${redact(result.stderr || result.stdout, env)}`);
  }
}

/** Keep secrets out of anything that may reach a log or a chat. */
export function redact(text: string, env: Env): string {
  let out = text.slice(0, 500);
  for (const secret of [env.GATEWAY_TOKEN, ...providerSecrets(env)]) {
    if (secret && secret.length >= 6) out = out.split(secret).join("[redacted]");
  }
  return out;
}
