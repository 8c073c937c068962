/**
 * The container's way to its browser: a process in the container asks `http://browser.internal`
 * for `/json/version`, as OpenClaw does before it connects, and the Worker's outbound handler for
 * that host answers through the agent's BrowserSession object, over the SDK's own interception.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, inject, it } from "vitest";
import { browserSession } from "../../src/sandbox/browser-session";
import { containerStats, expectNoUnmatchedContainerCalls, uniqueSandbox } from "../support/container";

afterEach(expectNoUnmatchedContainerCalls);

const DISCOVER = `
const response = await fetch("http://browser.internal/json/version");
console.log(JSON.stringify({ status: response.status, body: await response.json() }));
`;

const PROBE = `
const { webSocketDebuggerUrl } = await (await fetch("http://browser.internal/json/version")).json();
const socket = new WebSocket(webSocketDebuggerUrl);
const reply = await new Promise((resolve, reject) => {
  socket.onerror = (event) => reject(new Error("socket error: " + (event.message ?? "")));
  socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: "Browser.getVersion" }));
  socket.onmessage = (event) => resolve(JSON.parse(String(event.data)));
});
socket.close();
console.log(JSON.stringify({ url: webSocketDebuggerUrl, product: reply.result?.product ?? null, error: reply.error ?? null }));
`;

describe("browser.internal", () => {
  it("carries the agent's CDP socket from inside the container to the real browser", async () => {
    expect(inject("browserSetupError")).toBe("");
    const { name, sandbox } = uniqueSandbox("browser");
    await sandbox.writeFile("/workspace/probe.mjs", PROBE);
    const result = await sandbox.exec("node probe.mjs", { timeout: 60_000 });
    expect(result.stderr).toBe("");
    const probe = JSON.parse(result.stdout) as { url: string; product: string | null };
    expect(probe.url).toBe("ws://browser.internal/devtools/browser");
    expect(probe.product).toMatch(/Chrome/);
    expect((await containerStats(name)).outbound).toContainEqual({ method: "GET", url: "http://browser.internal/devtools/browser", upgrade: true });
    expect((await browserSession(env).status()).open).toBe(true);
    await browserSession(env).close();
  });

  it("answers the agent's CDP discovery from inside the container, without opening a browser", async () => {
    const { name, sandbox } = uniqueSandbox("browser");
    const opened = (await browserSession(env).status()).sessionsOpened;
    await sandbox.writeFile("/workspace/discover.mjs", DISCOVER);
    const result = await sandbox.exec("node discover.mjs", { timeout: 30_000 });
    expect(result.stderr).toBe("");
    const { status, body } = JSON.parse(result.stdout) as { status: number; body: { webSocketDebuggerUrl: string } };
    expect(status).toBe(200);
    // Same host, port and scheme as asked: OpenClaw refuses a discovery answer that points elsewhere.
    expect(body.webSocketDebuggerUrl).toBe("ws://browser.internal/devtools/browser");
    expect((await containerStats(name)).outbound).toEqual([{ method: "GET", url: "http://browser.internal/json/version" }]);
    expect((await browserSession(env).status()).sessionsOpened).toBe(opened);
  });
});
