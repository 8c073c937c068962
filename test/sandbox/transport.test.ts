/**
 * The relay's way into the container, through the SDK's own Sandbox code over the emulated
 * runtime: plain HTTP reaches a process port through `containerFetch`, the WebSocket needs both
 * upgrade headers, and the transport that shipped before (everything through `wsConnect`) is shown
 * to miss the process.
 */
import { afterEach, describe, expect, it } from "vitest";
import { fetchContainerPort, upgradeRequest } from "../../src/sandbox/transport";
import { containerStats, expectNoUnmatchedContainerCalls, startEchoServer, takeUnmatchedContainerCalls, uniqueSandbox } from "../support/container";

afterEach(expectNoUnmatchedContainerCalls);

describe("reaching a process in the container", () => {
  it("sends plain HTTP to the process port through containerFetch, without forwarded headers", async () => {
    const { name, sandbox } = uniqueSandbox();
    const port = await startEchoServer(sandbox);
    const response = await fetchContainerPort(sandbox, port, "/readyz?x=1");
    expect(response.status).toBe(200);
    const seen = (await response.json()) as { served: string; url: string };
    expect(seen).toMatchObject({ served: "echo", url: "/readyz?x=1" });
    expect((await containerStats(name)).forwardedSeen).toEqual([]);
  });

  it("misses the process with the old transport: a plain request through wsConnect lands on the control plane", async () => {
    const { name, sandbox } = uniqueSandbox();
    const port = await startEchoServer(sandbox);
    const response = await sandbox.wsConnect(new Request("http://gateway.internal/readyz"), port);
    const text = await response.text();
    expect(text).not.toContain('"served":"echo"');
    expect(response.status).toBe(404);
    expect((await containerStats(name)).calls).toContain("GET /readyz");
    expect(await takeUnmatchedContainerCalls()).toEqual(["GET /readyz"]);
  });

  it("opens a WebSocket to the process only with both Upgrade and Connection headers", async () => {
    const { sandbox } = uniqueSandbox();
    const port = await startEchoServer(sandbox);

    const old = await sandbox.wsConnect(new Request("http://gateway.internal/", { headers: { Upgrade: "websocket" } }), port);
    expect(old.webSocket).toBeNull();
    expect(await old.text()).toContain("Hello from Bun server");

    const response = await sandbox.wsConnect(upgradeRequest(), port);
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    const first = new Promise<string>((resolve) => socket.addEventListener("message", (event) => resolve(String(event.data))));
    socket.accept();
    expect(await first).toBe("hello");
    socket.close();
  });

  it("routes a port nothing listens on as the runtime does: a quick error, not a hang", async () => {
    const { sandbox } = uniqueSandbox();
    await startEchoServer(sandbox);
    const response = await fetchContainerPort(sandbox, 18790, "/readyz");
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("not listening");
  });

  it("gives a container that stopped an empty disk and no processes when it starts again", async () => {
    const { name, sandbox } = uniqueSandbox();
    await sandbox.writeFile("/workspace/note.txt", "remember me");
    await sandbox.startProcess("sleep 600", { processId: "sleeper" });
    const before = await containerStats(name);
    expect(before.processes.map((p) => p.id)).toEqual(["sleeper"]);

    await sandbox.destroy();
    expect((await containerStats(name)).running).toBe(false);

    expect((await sandbox.exists("/workspace/note.txt")).exists).toBe(false);
    const after = await containerStats(name);
    expect(after.starts).toBe(before.starts + 1);
    expect(after.dir).not.toBe(before.dir);
    expect(after.processes).toEqual([]);
    expect(await sandbox.listProcesses()).toEqual([]);
  });
});
