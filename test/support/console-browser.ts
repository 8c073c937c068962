/**
 * A real headless Chromium looking at the console. Chromium runs outside workerd (started by
 * test/support/chromium-console.mjs), and every request it makes is intercepted over the DevTools
 * protocol (`Fetch`): requests to https://relay.test go to the Worker through SELF.fetch with the
 * Access header added, as Cloudflare Access's proxy adds it for a signed-in user; a page of
 * https://evil.test plays another site; anything else fails the request and the test.
 */
import { inject } from "vitest";
import { SELF } from "cloudflare:test";
import { Cdp } from "./cdp";

export const RELAY = "https://relay.test";
export const EVIL = "https://evil.test";

interface Paused {
  requestId: string;
  request: { url: string; method: string; headers: Record<string, string>; postData?: string; postDataEntries?: { bytes?: string }[] };
}

export interface Seen {
  url: string;
  method: string;
  status: number;
  /** The request's headers as Chromium sent them. */
  headers: Record<string, string>;
}

export type Launch = { browser: ConsoleBrowser } | { unavailable: string; required: boolean };

export class ConsoleBrowser {
  /** The Access token the stand-in proxy adds; null: the user is not signed in to Access. */
  accessToken: string | null = null;
  /** What https://evil.test serves. */
  evilPage = "<!doctype html><title>evil</title>";
  readonly seen: Seen[] = [];
  readonly unexpected: string[] = [];

  private constructor(
    private readonly cdp: Cdp,
    private readonly session: string,
  ) {}

  static async launch(viewport = { width: 412, height: 860 }): Promise<Launch> {
    const response = await fetch(`${inject("chromiumConsoleUrl")}/launch`, { method: "POST" });
    const body = (await response.json()) as { webSocketDebuggerUrl?: string; unavailable?: string; required?: boolean };
    if (!body.webSocketDebuggerUrl) return { unavailable: body.unavailable ?? `HTTP ${response.status}`, required: body.required ?? true };
    const cdp = await Cdp.connect(body.webSocketDebuggerUrl);
    const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
    const browser = new ConsoleBrowser(cdp, sessionId);
    cdp.on("Fetch.requestPaused", (params, from) => (from === sessionId ? browser.serve(params as unknown as Paused) : undefined));
    await cdp.send("Page.enable", {}, sessionId);
    await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*", requestStage: "Request" }] }, sessionId);
    await cdp.send("Emulation.setDeviceMetricsOverride", { ...viewport, deviceScaleFactor: 1, mobile: true }, sessionId);
    return { browser };
  }

  /** Go to `url` and wait until the page has loaded. */
  async goto(url: string): Promise<void> {
    const loaded = this.cdp.waitFor("Page.loadEventFired", this.session);
    await this.cdp.send("Page.navigate", { url }, this.session);
    await loaded;
  }

  /** A real mouse click in the middle of the element, then wait for the page it leads to. */
  async clickAndWait(selector: string): Promise<void> {
    const { root } = await this.cdp.send<{ root: { nodeId: number } }>("DOM.getDocument", { depth: 0 }, this.session);
    const { nodeId } = await this.cdp.send<{ nodeId: number }>("DOM.querySelector", { nodeId: root.nodeId, selector }, this.session);
    if (!nodeId) throw new Error(`no element ${selector}`);
    await this.cdp.send("DOM.scrollIntoViewIfNeeded", { nodeId }, this.session);
    // Content quads are in viewport coordinates, which is what mouse events take.
    const { quads } = await this.cdp.send<{ quads: number[][] }>("DOM.getContentQuads", { nodeId }, this.session);
    if (!quads[0]) throw new Error(`${selector} is not visible`);
    const [x1, y1, , , x3, y3] = quads[0] as [number, number, number, number, number, number];
    const at = { x: (x1 + x3) / 2, y: (y1 + y3) / 2, button: "left", clickCount: 1 };
    const loaded = this.cdp.waitFor("Page.loadEventFired", this.session);
    await this.cdp.send("Input.dispatchMouseEvent", { type: "mousePressed", ...at }, this.session);
    await this.cdp.send("Input.dispatchMouseEvent", { type: "mouseReleased", ...at }, this.session);
    await loaded;
  }

  /** The text of the first element matching `selector`, or null. Read through the DOM domain: the page itself runs no script. */
  async text(selector: string): Promise<string | null> {
    const { root } = await this.cdp.send<{ root: { nodeId: number } }>("DOM.getDocument", { depth: 0 }, this.session);
    const { nodeId } = await this.cdp.send<{ nodeId: number }>("DOM.querySelector", { nodeId: root.nodeId, selector }, this.session);
    if (!nodeId) return null;
    const { outerHTML } = await this.cdp.send<{ outerHTML: string }>("DOM.getOuterHTML", { nodeId }, this.session);
    return decodeEntities(outerHTML.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim());
  }

  /** An attribute of the first element matching `selector`, or null. */
  async attribute(selector: string, name: string): Promise<string | null> {
    const { root } = await this.cdp.send<{ root: { nodeId: number } }>("DOM.getDocument", { depth: 0 }, this.session);
    const { nodeId } = await this.cdp.send<{ nodeId: number }>("DOM.querySelector", { nodeId: root.nodeId, selector }, this.session);
    if (!nodeId) return null;
    const { attributes } = await this.cdp.send<{ attributes: string[] }>("DOM.getAttributes", { nodeId }, this.session);
    const index = attributes.findIndex((value, i) => i % 2 === 0 && value === name);
    return index < 0 ? null : attributes[index + 1]!;
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Uint8Array> {
    const { cssContentSize } = await this.cdp.send<{ cssContentSize: { width: number; height: number } }>("Page.getLayoutMetrics", {}, this.session);
    const { data } = await this.cdp.send<{ data: string }>(
      "Page.captureScreenshot",
      { format: "png", captureBeyondViewport: true, clip: { x: 0, y: 0, width: cssContentSize.width, height: Math.min(cssContentSize.height, 2400), scale: 1 } },
      this.session,
    );
    return Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
  }

  /** Hand a screenshot to the launcher (it keeps it for the docs only when asked to). */
  async keepScreenshot(name: string, png: Uint8Array): Promise<void> {
    await fetch(`${inject("chromiumConsoleUrl")}/screenshots/${name}`, { method: "POST", body: png });
  }

  close(): void {
    this.cdp.close();
  }

  get listenerErrors(): string[] {
    return this.cdp.listenerErrors;
  }

  private async serve({ requestId, request }: Paused): Promise<void> {
    const url = new URL(request.url);
    if (url.origin === EVIL) {
      this.seen.push({ url: request.url, method: request.method, status: 200, headers: request.headers });
      await this.fulfill(requestId, 200, [["content-type", "text/html"]], new TextEncoder().encode(this.evilPage));
      return;
    }
    if (url.origin !== RELAY) {
      this.unexpected.push(`${request.method} ${request.url}`);
      await this.cdp.send("Fetch.failRequest", { requestId, errorReason: "BlockedByClient" }, this.session);
      return;
    }
    // What Access's proxy does: the browser's own header never counts, Access sets it.
    const headers = new Headers(Object.entries(request.headers).filter(([name]) => name.toLowerCase() !== "cf-access-jwt-assertion"));
    if (this.accessToken) headers.set("cf-access-jwt-assertion", this.accessToken);
    const body = request.postData ?? (request.postDataEntries ? request.postDataEntries.map((entry) => atob(entry.bytes ?? "")).join("") : undefined);
    const response = await SELF.fetch(request.url, { method: request.method, headers, body, redirect: "manual" });
    this.seen.push({ url: request.url, method: request.method, status: response.status, headers: request.headers });
    await this.fulfill(requestId, response.status, [...response.headers], new Uint8Array(await response.arrayBuffer()));
  }

  private async fulfill(requestId: string, status: number, headers: [string, string][], body: Uint8Array): Promise<void> {
    await this.cdp.send(
      "Fetch.fulfillRequest",
      { requestId, responseCode: status, responseHeaders: headers.map(([name, value]) => ({ name, value })), body: base64(body) },
      this.session,
    );
  }
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&amp;/g, "&");
}
