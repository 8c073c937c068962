/**
 * Outbound handlers: a process in the container calls a virtual host over plain HTTP and the
 * Worker answers, through the SDK's own interception (`outboundByHost` -> `interceptOutboundHttp`
 * -> the runtime -> `ContainerProxy`) over the emulated runtime. The test-only host
 * `echo.internal` is registered in test/support/sandbox-worker.ts, the way production hosts are.
 */
import { afterEach, describe, expect, it } from "vitest";
import { containerStats, expectNoUnmatchedContainerCalls, uniqueSandbox } from "../support/container";

afterEach(expectNoUnmatchedContainerCalls);

const CALL = `
const response = await fetch("http://echo.internal/hello?x=1", { method: "POST", body: "hi there", headers: { "content-type": "text/plain" } });
console.log(JSON.stringify({ status: response.status, body: await response.json() }));
`;

const STREAM = `
const decoder = new TextDecoder();
const gate = "g" + Math.random().toString(36).slice(2);
const response = await fetch("http://echo.internal/stream?gate=" + gate);
const reader = response.body.getReader();
const first = await reader.read();
console.log("first: " + decoder.decode(first.value).trim());
// The handler holds the rest until it is released: a buffered answer would never get here.
await (await fetch("http://echo.internal/release?gate=" + gate)).json();
let rest = "";
for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
console.log("rest: " + rest.trim());
`;

// No proxy: a fresh agent ignores HTTP_PROXY, as OpenClaw's CDP socket does. It resolves the name
// and connects to port 80 itself.
const DIRECT = `
import http from "node:http";
import { lookup } from "node:dns/promises";
const body = await new Promise((resolve, reject) => {
  http.get("http://echo.internal/direct", { agent: new http.Agent() }, (response) => {
    let text = "";
    response.on("data", (chunk) => (text += chunk));
    response.on("end", () => resolve(JSON.parse(text)));
  }).on("error", reject);
});
const unknown = await lookup("not-intercepted.internal").then(() => "resolved", (error) => error.code);
console.log(JSON.stringify({ url: body.url, unknown }));
`;

describe("outbound handlers", () => {
  it("answers a process's plain HTTP to a virtual host with the Worker's handler", async () => {
    const { name, sandbox } = uniqueSandbox("egress");
    await sandbox.writeFile("/workspace/call.mjs", CALL);
    const result = await sandbox.exec("node call.mjs", { timeout: 30_000 });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      status: 200,
      body: { method: "POST", url: "http://echo.internal/hello?x=1", body: "hi there", authorization: null },
    });
    // It went through the runtime's interception to the Durable Object.
    expect((await containerStats(name)).outbound).toEqual([{ method: "POST", url: "http://echo.internal/hello?x=1" }]);
  });

  it("streams the handler's answer as it is written", async () => {
    const { sandbox } = uniqueSandbox("egress");
    await sandbox.writeFile("/workspace/stream.mjs", STREAM);
    const result = await sandbox.exec("node stream.mjs", { timeout: 30_000 });
    expect(result.stdout).toBe("first: data: first\nrest: data: second\n");
    expect(result.exitCode).toBe(0);
  });

  it("leaves other hosts to the network", async () => {
    const { name, sandbox } = uniqueSandbox("egress");
    await sandbox.writeFile("/workspace/other.mjs", `await fetch("http://not-intercepted.invalid/").then((r) => console.log(r.status), () => console.log("unreachable"));`);
    const result = await sandbox.exec("node other.mjs", { timeout: 30_000 });
    // Not handled by the Worker: it went for the real network, where the name does not resolve.
    expect(result.stdout.trim()).toBe("unreachable");
    expect((await containerStats(name)).outbound).toEqual([]);
  });

  it("resolves an intercepted name in the container, so a program that ignores HTTP_PROXY reaches the handler too", async () => {
    const { name, sandbox } = uniqueSandbox("egress");
    await sandbox.writeFile("/workspace/direct.mjs", DIRECT);
    const result = await sandbox.exec("node direct.mjs", { timeout: 30_000 });
    expect(result.stderr).toBe("");
    // A name nothing intercepts resolves as usual (here: not at all).
    expect(JSON.parse(result.stdout)).toEqual({ url: "http://echo.internal/direct", unknown: "ENOTFOUND" });
    expect((await containerStats(name)).outbound).toEqual([{ method: "GET", url: "http://echo.internal/direct" }]);
  });
});
