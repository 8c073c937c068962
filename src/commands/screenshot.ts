/**
 * `/molt screenshot <url> [full]`: renders a page at the edge with Browser Rendering
 * (`@cloudflare/puppeteer` on the `BROWSER` binding) and posts the picture. The container is not
 * involved and stays asleep. The image goes to R2 like the agent's media, and the runner uploads it
 * to the conversation (chat) or the result links to it (HTTP).
 *
 * Refused: non-http(s) URLs and the relay's own network (policy/url-guard.ts), checked on the URL
 * given and again on every request the page makes, redirects included.
 */
import type { Browser } from "@cloudflare/puppeteer";
import { signedMediaLink } from "../bridge/media-links";
import { checkBrowsableUrl, isOwnNetworkHost } from "../policy/url-guard";
import { type Command, UsageError } from "./registry";

const VIEWPORT = { width: 1280, height: 800 };
const NAVIGATION_TIMEOUT_MS = 20_000;
/** Browser Rendering closes a browser left idle this long (the command closes its own at once). */
const KEEP_ALIVE_MS = 60_000;

export const screenshotCommand: Command = {
  name: "screenshot",
  usage: "/molt screenshot <url> [full]",
  help: "A screenshot of a web page, rendered at the edge (the agent is not woken). `full` captures the whole page.",
  admin: true,
  async run({ env, args }) {
    const [target, mode] = args;
    if (!target || (mode !== undefined && mode !== "full") || args.length > 2) throw new UsageError("Give one http(s) URL, optionally followed by `full`.");
    const verdict = checkBrowsableUrl(target, env.PUBLIC_URL);
    if (!verdict.ok) return { ok: false, title: "Screenshot", text: `Refused: ${verdict.reason}.`, audit: "refused" };
    if (!env.BROWSER) return { ok: false, title: "Screenshot", text: "No browser: the BROWSER binding (Browser Rendering) is not configured." };
    const url = verdict.url;
    const relayHost = env.PUBLIC_URL ? new URL(env.PUBLIC_URL).hostname : undefined;

    let browser: Browser;
    try {
      browser = await launch(env.BROWSER);
    } catch (error) {
      return { ok: false, title: "Screenshot", text: limitMessage(error) };
    }
    let png: Uint8Array;
    let title: string;
    const blocked: string[] = [];
    try {
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      await page.setRequestInterception(true);
      page.on("request", (request) => {
        const requested = request.url();
        const scheme = requested.slice(0, requested.indexOf(":") + 1);
        if (["data:", "blob:", "about:"].includes(scheme)) return void request.continue();
        let host = "";
        try {
          host = new URL(requested).hostname;
        } catch {
          // unparsable: refused below
        }
        if (!["http:", "https:", "ws:", "wss:"].includes(scheme) || isOwnNetworkHost(host, relayHost)) {
          blocked.push(host || scheme);
          return void request.abort("blockedbyclient");
        }
        void request.continue();
      });
      try {
        await page.goto(url.href, { waitUntil: "load", timeout: NAVIGATION_TIMEOUT_MS });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/ERR_BLOCKED_BY_CLIENT/.test(message) && blocked.length)
          return { ok: false, title: "Screenshot", text: `Refused: the page led to ${blocked[0]}, which is on the relay's own network.`, audit: "refused" };
        return { ok: false, title: "Screenshot", text: `Could not load ${url.href}: ${message.split("\n")[0]}` };
      }
      title = (await page.title()).slice(0, 200);
      png = new Uint8Array(await page.screenshot({ type: "png", fullPage: mode === "full" }));
    } finally {
      await browser.close().catch(() => undefined);
    }

    const key = `media/commands/${new Date().toISOString().slice(0, 10)}/${crypto.randomUUID()}-screenshot.png`;
    await env.MEDIA.put(key, png, { httpMetadata: { contentType: "image/png" } });
    const link = env.PUBLIC_URL ? await signedMediaLink(env.PUBLIC_URL, key, env.GATEWAY_TOKEN) : undefined;
    const name = `${url.hostname}.png`;
    return {
      ok: true,
      title: "Screenshot",
      text: `${title ? `*${title}*\n` : ""}${url.href} (${Math.round(png.length / 1024)} KB${mode === "full" ? ", full page" : ""})${blocked.length ? `\nBlocked ${blocked.length} request(s) to the relay's own network.` : ""}`,
      media: [{ key, name, contentType: "image/png", size: png.length, link }],
      data: { url: url.href, title, key, bytes: png.length, link },
      audit: `${png.length} bytes`,
    };
  },
};

/**
 * Launch a browser; the new-browser rate clears within a second or two, so wait once.
 * `@cloudflare/puppeteer` is imported here, on first use: it is most of the bundle's growth and
 * nothing else needs it, so other requests never evaluate it.
 */
async function launch(binding: Fetcher): Promise<Browser> {
  const { default: puppeteer } = await import("@cloudflare/puppeteer");
  try {
    return await puppeteer.launch(binding, { keep_alive: KEEP_ALIVE_MS });
  } catch (error) {
    if (!isLimit(error)) throw error;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return puppeteer.launch(binding, { keep_alive: KEEP_ALIVE_MS });
  }
}

function isLimit(error: unknown): boolean {
  return /429|rate limit|too many|limit exceeded/i.test(error instanceof Error ? error.message : String(error));
}

function limitMessage(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300);
  return isLimit(error)
    ? `Browser Rendering's limit on browsers was reached (concurrent browsers, or new browsers per second on this plan): ${message}. Try again in a minute.`
    : `Browser Rendering could not open a browser: ${message}`;
}
