/**
 * The container's way to its browser: a process in the container asks `http://browser.internal`
 * for `/json/version`, as OpenClaw does before it connects, and the Worker's outbound handler for
 * that host answers through the agent's BrowserSession object, over the SDK's own interception.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { browserSession } from "../../src/sandbox/browser-session";
import { containerStats, expectNoUnmatchedContainerCalls, uniqueSandbox } from "../support/container";

afterEach(expectNoUnmatchedContainerCalls);

const DISCOVER = `
const response = await fetch("http://browser.internal/json/version");
console.log(JSON.stringify({ status: response.status, body: await response.json() }));
`;

describe("browser.internal", () => {
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
