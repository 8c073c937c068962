/**
 * The agent's browser link: CDP through the BrowserSession object to the local Browser Rendering
 * binding, which runs a real headless Chromium (test/support/chromium.mjs).
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { relayFrames } from "../../src/sandbox/browser-link";
import { IDLE_CLOSE_MS, type BrowserSession } from "../../src/sandbox/browser-session";
import { usageLedger } from "../../src/sandbox/usage-object";
import { cdpClient, openSocket } from "../support/cdp-client";

const BINDING = "https://browser-rendering";

beforeAll(() => {
  // Never skipped: a missing Chromium fails these tests (CI or not).
  expect(inject("browserSetupError")).toBe("");
});

let counter = 0;
function freshSession() {
  const name = `browser-test-${Date.now()}-${counter++}`;
  return env.BROWSER_SESSION.get(env.BROWSER_SESSION.idFromName(name));
}

async function connect(stub: DurableObjectStub<BrowserSession>, url = "http://browser.internal/devtools/browser") {
  const response = await openSocket(stub, url);
  expect(response.status, await (response.webSocket ? "" : response.clone().text())).toBe(101);
  return cdpClient(response.webSocket!);
}

async function bindingSessions(): Promise<string[]> {
  const body = (await (await env.BROWSER!.fetch(`${BINDING}/v1/sessions`)).json()) as { sessions: { sessionId: string }[] };
  return body.sessions.map((session) => session.sessionId);
}

async function sha256(data: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("relayFrames", () => {
  function pipePair() {
    const agent = new WebSocketPair();
    const browser = new WebSocketPair();
    // agent[0] plays the agent, browser[0] plays Browser Rendering; the relay holds the other ends.
    for (const socket of [agent[0], agent[1], browser[0], browser[1]]) socket.accept();
    relayFrames(agent[1], browser[1]);
    return { agent: agent[0], browser: browser[0] };
  }
  const next = (socket: WebSocket) =>
    new Promise<string | ArrayBuffer>((resolve) =>
      socket.addEventListener(
        "message",
        (e) => resolve(e.data instanceof Blob ? e.data.arrayBuffer() : (e.data as string | ArrayBuffer)),
        { once: true },
      ),
    );

  it("keeps text and binary frames byte-identical, several MB included, in both directions", async () => {
    const { agent, browser } = pipePair();
    const big = new Uint8Array(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, Math.min(big.length, i + 65536)));
    const text = JSON.stringify({ id: 7, result: { data: "é✓".repeat(1_500_000) } }); // ~7.5 MB of UTF-8

    let arrived = next(browser);
    agent.send(big);
    const binaryOut = await arrived;
    expect(binaryOut).toBeInstanceOf(ArrayBuffer);
    expect((binaryOut as ArrayBuffer).byteLength).toBe(big.byteLength);
    expect(await sha256(binaryOut as ArrayBuffer)).toBe(await sha256(big));

    arrived = next(agent);
    browser.send(text);
    expect(await arrived).toBe(text);

    arrived = next(agent);
    browser.send(new Uint8Array([0, 255, 1, 254]));
    const small = await arrived;
    expect(small).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(small as ArrayBuffer)]).toEqual([0, 255, 1, 254]);
  });

  it("closes the other side with the same code when one side closes", async () => {
    const { agent, browser } = pipePair();
    const closed = new Promise<CloseEvent>((resolve) => agent.addEventListener("close", resolve));
    browser.close(4001, "session expired");
    const event = await closed;
    expect([event.code, event.reason]).toEqual([4001, "session expired"]);
  });
});

describe("BrowserSession", () => {
  it("answers /json/version with a socket URL on the same host, port, scheme and path", async () => {
    const stub = freshSession();
    for (const [asked, expected] of [
      ["http://browser.internal/json/version", "ws://browser.internal/devtools/browser"],
      ["https://browser.internal:8443/json/version/", "wss://browser.internal:8443/devtools/browser"],
      ["http://127.0.0.1:8787/__dev/browser/json/version", "ws://127.0.0.1:8787/__dev/browser/devtools/browser"],
    ] as const) {
      const body = (await (await stub.fetch(asked)).json()) as { webSocketDebuggerUrl: string };
      expect(body.webSocketDebuggerUrl).toBe(expected);
    }
    // Answered without opening a browser.
    expect((await stub.status()).sessionsOpened).toBe(0);
  });

  it("connects many short probe sockets to one Browser Rendering session", async () => {
    const stub = freshSession();
    const probes = await Promise.all(Array.from({ length: 5 }, () => connect(stub)));
    const versions = await Promise.all(probes.map((probe) => probe.call<{ product: string }>("Browser.getVersion")));
    for (const version of versions) expect(version.product).toMatch(/Chrome/);
    for (const probe of probes) probe.close();
    // And later probes, after the first ones closed, still reuse it.
    const late = await connect(stub);
    await late.call("Browser.getVersion");
    late.close();

    const status = await stub.status();
    expect(status.sessionsOpened).toBe(1);
    expect(status.open).toBe(true);
    expect(await bindingSessions()).toContain(status.sessionId);
    await stub.close();
  });

  it("relays a several-MB CDP reply byte-identical to the one Chromium sends directly", async () => {
    const stub = freshSession();
    const relayed = await connect(stub);
    await relayed.call("Browser.getVersion");
    const { sessionId } = await stub.status();
    // A second socket straight to the same session on the binding, for the reference bytes.
    const direct = cdpClient((await openSocket(env.BROWSER!, `${BINDING}/v1/devtools/browser/${sessionId}`)).webSocket!);

    const { targetId } = await relayed.call<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
    const attach = async (client: typeof relayed) =>
      (await client.call<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true })).sessionId;
    const [relayedPage, directPage] = await Promise.all([attach(relayed), attach(direct)]);
    const expression = `"0123456789abcdef".repeat(${(4 * 1024 * 1024) / 16})`; // a 4 MiB string
    const frame = (page: string) => JSON.stringify({ id: 1000, method: "Runtime.evaluate", params: { expression, returnByValue: true }, sessionId: page });
    relayed.socket.send(frame(relayedPage));
    direct.socket.send(frame(directPage));
    const [viaRelay, straight] = await Promise.all([relayed.rawReply(1000), direct.rawReply(1000)]);
    expect(viaRelay.length).toBeGreaterThan(4 * 1024 * 1024);
    // The only difference CDP itself puts in: the flat session id each socket attached with.
    expect(viaRelay).toBe(straight.replace(directPage, relayedPage));

    // A full-page screenshot of several MB arrives whole (a noisy canvas compresses badly).
    await relayed.call(
      "Runtime.evaluate",
      {
        expression: `(() => { const c = document.createElement("canvas"); c.width = 1400; c.height = 1400; document.body.style.margin = 0; document.body.append(c);
          const g = c.getContext("2d"); const img = g.createImageData(1400, 1400); let x = 2463534242;
          for (let i = 0; i < img.data.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; img.data[i] = i % 4 === 3 ? 255 : x & 255; }
          g.putImageData(img, 0, 0); return true; })()`,
      },
      relayedPage,
    );
    const shot = await relayed.call<{ data: string }>("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, relayedPage);
    const png = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
    expect(png.length).toBeGreaterThan(2 * 1024 * 1024);
    expect([...png.slice(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");

    relayed.close();
    direct.close();
    await stub.close();
  });

  it("replaces a session that expired, and closes the sockets that were open on it", async () => {
    const stub = freshSession();
    const first = await connect(stub);
    await first.call("Browser.getVersion");
    const before = await stub.status();

    // Browser Rendering ends the session behind the relay's back (keep_alive ran out).
    await env.BROWSER!.fetch(`${BINDING}/v1/devtools/browser/${before.sessionId}`, { method: "DELETE" });
    const closed = await first.closed;
    expect(closed.code).toBeGreaterThanOrEqual(1000);

    // The agent's retry gets a working browser.
    const retry = await connect(stub);
    expect((await retry.call<{ product: string }>("Browser.getVersion")).product).toMatch(/Chrome/);
    const after = await stub.status();
    expect(after.sessionId).not.toBe(before.sessionId);
    expect(after.sessionsOpened).toBe(2);
    retry.close();
    await stub.close();
  });

  it("closes the session once no socket has been open for the idle time", async () => {
    const stub = freshSession();
    const before = (await usageLedger(env).month()).browserSeconds;
    const probe = await connect(stub);
    await probe.call("Browser.getVersion");
    probe.close();
    await probe.closed;
    const { sessionId } = await stub.status();

    // Still in use recently: the alarm keeps it.
    await runDurableObjectAlarm(stub);
    expect((await stub.status()).open).toBe(true);

    await runInDurableObject(stub, async (instance: BrowserSession) => {
      (instance as unknown as { lastActivity: number }).lastActivity = Date.now() - IDLE_CLOSE_MS - 1;
      await (instance as unknown as { ctx: DurableObjectState }).ctx.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    expect((await stub.status()).open).toBe(false);
    // The time it was held counts in the usage ledger (the console's cost view).
    expect((await usageLedger(env).month()).browserSeconds).toBeGreaterThan(before);
    // Browser Rendering (here: miniflare) ends the browser process asynchronously after the DELETE.
    await expect.poll(bindingSessions, { timeout: 10_000, interval: 100 }).not.toContain(sessionId);
  });

  it("answers Browser Rendering's limits with 429, Retry-After and a plain message, not a hang", async () => {
    const stub = freshSession();
    const limited = {
      fetch: async () => new Response("Rate limit exceeded", { status: 429, headers: { "retry-after": "30" } }),
    } as unknown as Fetcher;
    await runInDurableObject(stub, (instance: BrowserSession) => {
      (instance as unknown as { env: object }).env = { ...env, BROWSER: limited };
    });
    const response = await openSocket(stub, "http://browser.internal/devtools/browser");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(await response.text()).toMatch(/limit.*Try again in 30 s/s);
    expect((await stub.status()).lastError?.message).toMatch(/limit/);
  });

  it("waits out a short new-browser limit once instead of failing the agent", async () => {
    const stub = freshSession();
    // Built inside the object: I/O objects belong to the object that made them.
    const calls = await runInDurableObject(stub, (instance: BrowserSession) => {
      const seen: string[] = [];
      const rateLimitedOnce = {
        fetch: async (input: string, init?: RequestInit) => {
          seen.push(`${init?.method ?? "GET"} ${new URL(input).pathname}`);
          if (init?.method === "POST")
            return seen.length === 1 ? new Response("Too many new browsers", { status: 429, headers: { "retry-after": "1" } }) : Response.json({ sessionId: "s-2" });
          // A stand-in browser that echoes, made in the request that connects to it.
          const browserEnd = new WebSocketPair();
          browserEnd[1].accept();
          browserEnd[1].addEventListener("message", (event) => browserEnd[1].send(`echo:${event.data}`));
          return new Response(null, { status: 101, webSocket: browserEnd[0] });
        },
      };
      (instance as unknown as { env: object }).env = { ...env, BROWSER: rateLimitedOnce };
      return seen;
    });
    const response = await openSocket(stub, "http://browser.internal/devtools/browser");
    expect(response.status).toBe(101);
    const client = response.webSocket!;
    client.accept();
    const reply = new Promise((resolve) => client.addEventListener("message", (event) => resolve(event.data), { once: true }));
    client.send("ping");
    expect(await reply).toBe("echo:ping");
    const seen = await runInDurableObject(stub, () => [...calls]);
    expect(seen).toEqual(["POST /v1/devtools/browser", "POST /v1/devtools/browser", "GET /v1/devtools/browser/s-2"]);
    client.close();
  });
});

describe("/molt status", () => {
  it("shows whether the agent's browser session is open, since when, and its sockets", async () => {
    const { runCommand } = await import("../../src/commands/registry");
    const { browserSession } = await import("../../src/sandbox/browser-session");
    const agent = browserSession(env);
    await agent.close();
    const before = await runCommand(env, { name: "status", args: [], actor: "slack:U0ADMIN" });
    expect(before.result.text).toMatch(/\*Browser:\* no session open/);

    const probe = await connect(agent);
    await probe.call("Browser.getVersion");
    const during = await runCommand(env, { name: "status", args: [], actor: "slack:U0ADMIN" });
    expect(during.result.text).toMatch(/\*Browser:\* session open for \d+ s \(since \d\d:\d\d UTC\), 1 connection\(s\)/);
    expect((during.result.data?.browser as { open: boolean }).open).toBe(true);
    probe.close();
    await agent.close();
  });
});

describe("who can reach the browser", () => {
  it("opens no browser from the public hostname", async () => {
    for (const path of ["/json/version", "/devtools/browser", "/__dev/browser/json/version", "/__dev/browser/devtools/browser"]) {
      const response = await SELF.fetch(`https://relay.test${path}`, { headers: { Upgrade: "websocket" } });
      expect(response.status, path).toBe(404);
      await response.body?.cancel();
    }
  });

  it("serves the dev route only to loopback, and only when DEV_BROWSER_ROUTE is on", async () => {
    const { serveDevBrowser } = await import("../../src/sandbox/browser-dev-route");
    const off = await serveDevBrowser(new Request("http://127.0.0.1:8787/__dev/browser/json/version"), { ...env, DEV_BROWSER_ROUTE: undefined });
    expect(off.status).toBe(404);
    const devEnv = { ...env, DEV_BROWSER_ROUTE: "on" };
    const publicHost = await serveDevBrowser(new Request("https://relay.example.com/__dev/browser/json/version"), devEnv);
    expect(publicHost.status).toBe(404);
    const local = await serveDevBrowser(new Request("http://127.0.0.1:8787/__dev/browser/json/version"), devEnv);
    expect(((await local.json()) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl).toBe("ws://127.0.0.1:8787/__dev/browser/devtools/browser");
    const wildcard = await serveDevBrowser(new Request("http://0.0.0.0:8787/__dev/browser/json/version"), devEnv);
    expect(((await wildcard.json()) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl).toBe("ws://0.0.0.0:8787/__dev/browser/devtools/browser");
  });
});
