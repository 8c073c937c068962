/**
 * The console in a real headless Chromium, served by the Worker and signed in through (a
 * stand-in of) Cloudflare Access: every page renders, the People page's Approve button approves a
 * pairing code, another site's form can't make the browser run an action, and without Access
 * there is no page. A screenshot of each page is taken (kept for docs/console.md with
 * CONSOLE_SCREENSHOTS=1).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversation } from "../../src/bridge/conversation-object";
import type { Turn } from "../../src/bridge/inbox";
import { policy } from "../../src/policy/policy-object";
import { claims, signAccessToken } from "../support/access-token";
import { ConsoleBrowser, EVIL, RELAY } from "../support/console-browser";
import { directMessage } from "../support/slack-admin";
import { eventually, slackMessages, uniqueChannel } from "../support/slack-relay";

let browser: ConsoleBrowser | undefined;
let unavailable: string | undefined;

beforeAll(async () => {
  const launch = await ConsoleBrowser.launch();
  // npm install brings Chromium (@sparticuz/chromium): without it these tests fail, never skip.
  if ("browser" in launch) browser = launch.browser;
  else unavailable = launch.unavailable;
});

afterAll(() => browser?.close());

/** The browser; a test that needs it fails where Chromium did not start. */
function chromium(_ctx?: unknown): ConsoleBrowser {
  if (!browser) throw new Error(`Chromium did not start: ${unavailable}`);
  return browser;
}

/** A stranger's DM under the pairing policy: a pending request with a code. */
async function pendingPairing(name: string): Promise<{ code: string; sender: string }> {
  const user = `U0BROWSER${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
  const channel = uniqueChannel("D");
  const admission = await policy(env).admit({
    sender: { id: `slack:${user}`, name },
    direct: true,
    conversation: `slack:T0TESTTEAM:${channel}`,
    reply: { platform: "slack", team: "T0TESTTEAM", channel, thread_ts: null, user, user_team: "T0TESTTEAM" },
  });
  const code = admission.allowed ? undefined : /`([A-Z0-9]{8})`/.exec(admission.notice)?.[1];
  if (!code) throw new Error("no pairing code");
  return { code, sender: `slack:${user}` };
}

describe("the console in a browser", () => {
  it("shows every page to the signed-in owner, and keeps a screenshot of each", async (ctx) => {
    const page = chromium(ctx);
    page.accessToken = await signAccessToken(claims());
    // A real turn first, so that Overview, Conversations and Cost have something to show.
    const dm = uniqueChannel("D");
    const { ts } = await directMessage(dm, "U0ADMIN", "hello from the console test");
    await eventually(async () => (await slackMessages(dm)).find((m) => m.thread_ts === ts && !m.streaming && m.text.includes("Echo:")), 90_000, "the agent's reply");
    const turns = () => (conversation(env, `slack:T0TESTTEAM:${dm}`) as unknown as { turns(): Promise<Turn[]> }).turns();
    await eventually(async () => (await turns()).every((turn) => turn.state === "done"), 30_000, "the turn to finish");
    await pendingPairing("Ada Lovelace");

    const pages: [string, string, string][] = [
      ["overview", "/admin/", "#phase"],
      ["people", "/admin/people", "#pairing"],
      ["conversations", "/admin/conversations", "#conversations"],
      ["logs", "/admin/logs", "#audit"],
      ["actions", "/admin/actions", "button[name=restart]"],
      ["cost", "/admin/cost", "#chart-awake"],
    ];
    for (const [name, path, landmark] of pages) {
      await page.goto(`${RELAY}${path}`);
      expect(await page.text(landmark), `${name}: ${landmark}`).not.toBeNull();
      const png = await page.screenshot();
      expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      await page.keepScreenshot(`console-${name}`, png);
    }
    expect(await page.text("#phase")).toBeNull(); // the last page is Cost, not Overview
    await page.goto(`${RELAY}/admin/`);
    // The supervisor's phase of the test gateway (on a loaded machine a health check may time out).
    expect(await page.text("#phase")).toMatch(/^(ready|starting|stopped|unreachable) \(url: ws:\/\/127\.0\.0\.1:\d+\)$/);
    await page.goto(`${RELAY}/admin/conversations`);
    const table = await page.text("#conversations");
    expect(table).toContain(`slack:T0TESTTEAM:${dm}`);
    expect(table).not.toContain("hello from the console test");
    await page.goto(`${RELAY}/admin/cost`);
    expect(await page.text("#chart-turns figcaption")).toMatch(/Turns: [1-9]/);
    // Awake time as the supervisor recorded it: the gateway became ready for the turn above.
    expect(Number(await page.attribute("#chart-awake", "data-total"))).toBeGreaterThan(0);
    expect(page.seen.every((request) => request.status === 200 || request.url.endsWith("/admin"))).toBe(true);
    expect(page.unexpected).toEqual([]);
    expect(page.listenerErrors).toEqual([]);
  });

  it("approves a pairing code with the People page's button and shows the result", async (ctx) => {
    const page = chromium(ctx);
    page.accessToken = await signAccessToken(claims());
    const { code, sender } = await pendingPairing("Grace Hopper");
    await page.goto(`${RELAY}/admin/people`);
    expect(await page.text(`li[data-code="${code}"]`)).toContain("Grace Hopper");

    await page.clickAndWait(`li[data-code="${code}"] button[name=approve]`);
    expect(await page.text("#result")).toContain(`Approved ${sender} : their messages now reach the agent.`);
    expect(await page.text(`li[data-code="${code}"]`)).toBeNull();
    expect(await page.text("#lists")).toContain(sender);
    await page.keepScreenshot("console-approved", await page.screenshot());
    const post = page.seen.at(-2)!;
    expect(post).toMatchObject({ method: "POST", url: `${RELAY}/admin/run`, status: 200 });
    expect(post.headers.Origin ?? post.headers.origin).toBe(RELAY);
    expect((await policy(env).lists()).senders.map((entry) => entry.value)).toContain(sender);
    expect(page.unexpected).toEqual([]);
  });

  it("refuses an action posted by another site's form, even with a valid session token", async (ctx) => {
    const page = chromium(ctx);
    page.accessToken = await signAccessToken(claims());
    const { code } = await pendingPairing("Mallory's Target");
    await page.goto(`${RELAY}/admin/people`);
    const html = (await page.text(`li[data-code="${code}"]`)) ?? "";
    expect(html).toContain(code);
    // The worst case: the other site somehow knows this session's token. Origin checks still refuse.
    const token = await page.attribute("input[name=token]", "value");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    page.evilPage = `<!doctype html><title>win a prize</title>
      <form method="post" action="${RELAY}/admin/run">
        <input type="hidden" name="token" value="${token}"><input type="hidden" name="back" value="people">
        <input type="hidden" name="command" value="pair"><input type="hidden" name="arg" value="approve"><input type="hidden" name="arg" value="${code}">
        <button id="prize" style="font-size:40px">Claim your prize</button>
      </form>`;
    await page.goto(`${EVIL}/`);
    await page.clickAndWait("#prize");

    const post = page.seen.at(-1)!;
    expect(post).toMatchObject({ method: "POST", url: `${RELAY}/admin/run`, status: 403 });
    expect(post.headers.Origin ?? post.headers.origin).toBe(EVIL);
    expect(await page.text("body")).toMatch(/refused/);
    expect((await policy(env).pairings()).map((request) => request.code)).toContain(code);
  });

  it("shows no page without an Access token", async (ctx) => {
    const page = chromium(ctx);
    page.accessToken = null;
    await page.goto(`${RELAY}/admin/people`);
    expect(page.seen.at(-1)).toMatchObject({ url: `${RELAY}/admin/people`, status: 401 });
    const body = (await page.text("body")) ?? "";
    expect(body).toMatch(/missing Cf-Access-Jwt-Assertion/);
    expect(body).not.toMatch(/Pairing requests/);
  });
});
