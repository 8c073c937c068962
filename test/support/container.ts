/**
 * Helpers for the `sandbox` project: a look at the emulated container host (what ran in a
 * container, its disk, its control-plane calls) and small programs to run in a container.
 */
import { env } from "cloudflare:test";
import { getSandbox } from "@cloudflare/sandbox";
import { expect } from "vitest";

export interface ContainerStats {
  running: boolean;
  starts: number;
  ip: string | null;
  dir: string | null;
  startAttempts: Record<string, number>;
  processes: { id: string; status: string; exitCode: number | null; model: string | null }[];
  execs: string[];
  calls: string[];
  unmatched: string[];
  forwardedSeen: string[];
  /** Requests from the container's processes that the runtime handed to the Durable Object. */
  outbound: { method: string; url: string }[];
  history: { ip: string; dir: string; exitCode: number; startAttempts: Record<string, number> }[];
}

export const host = (path: string, init?: RequestInit) => fetch(`${env.TEST_CONTAINER_HOST_URL}${path}`, init);

/** The Durable Object id of a sandbox: the host knows containers by it. */
export const sandboxObjectId = (name: string) => env.Sandbox.idFromName(name).toString();

export async function containerStats(name: string): Promise<ContainerStats> {
  return (await (await host(`/_host/${sandboxObjectId(name)}/stats`)).json()) as ContainerStats;
}

export async function containerLogs(name: string): Promise<string> {
  return ((await (await host(`/_host/${sandboxObjectId(name)}/logs`)).json()) as { logs: string }).logs;
}

/** No call reached the container host or a control plane that they do not know (then forgets them). */
export async function expectNoUnmatchedContainerCalls(): Promise<void> {
  const response = await host("/_host/unmatched", { method: "DELETE" });
  expect(((await response.json()) as { unmatched: string[] }).unmatched).toEqual([]);
}

/** Take the calls nobody knows, for a test that makes one on purpose. */
export async function takeUnmatchedContainerCalls(): Promise<string[]> {
  return ((await (await host("/_host/unmatched", { method: "DELETE" })).json()) as { unmatched: string[] }).unmatched;
}

let counter = 0;
/** A sandbox of its own for one test. */
export function uniqueSandbox(prefix = "t") {
  const name = `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  return { name, sandbox: getSandbox(env.Sandbox, name) };
}

/**
 * A tiny server for a container: it binds port 0 on the container's address and prints the port
 * it got. It answers HTTP with what it saw, and completes a WebSocket handshake (then sends
 * "hello" and echoes text frames).
 */
export const ECHO_SERVER = `
import http from "node:http";
import crypto from "node:crypto";
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ served: "echo", method: req.method, url: req.url, headers: req.headers }));
});
server.on("upgrade", (req, socket) => {
  const accept = crypto.createHash("sha1").update(req.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + "\\r\\n\\r\\n");
  socket.write(Buffer.from([0x81, 5, ...Buffer.from("hello")]));
});
server.listen(0, process.env.CONTAINER_IP ?? "0.0.0.0", () => console.log("listening " + server.address().port));
`;

/** Start ECHO_SERVER in a container and return the port it bound. */
export async function startEchoServer(sandbox: ReturnType<typeof getSandbox>, id = "echo"): Promise<number> {
  await sandbox.writeFile("/workspace/echo.mjs", ECHO_SERVER);
  await sandbox.startProcess("node echo.mjs", { processId: id });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const logs = await sandbox.getProcessLogs(id);
    const match = logs.stdout.match(/listening (\d+)/);
    if (match) return Number(match[1]);
    if (Date.now() > deadline) throw new Error(`the echo server did not report its port: ${logs.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
