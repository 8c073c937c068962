/**
 * The console over HTTP, as Access forwards requests to it: pages for admins only, strict
 * headers, and actions that only a form from the console's own page, in the same Access session,
 * can run.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { policy } from "../../src/policy/policy-object";
import { claims, signAccessToken } from "../support/access-token";

const ORIGIN = "https://relay.test";

async function page(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("cf-access-jwt-assertion", token);
  return SELF.fetch(`${ORIGIN}${path}`, { ...init, headers, redirect: "manual" });
}

/** A stranger's DM under the pairing policy: a pending request with a code. */
async function pendingPairing(): Promise<{ code: string; sender: string }> {
  const user = `U0CONSOLE${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
  const channel = `D0C${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
  const admission = await policy(env).admit({
    sender: { id: `slack:${user}`, name: "Console Tester" },
    direct: true,
    conversation: `slack:T0TESTTEAM:${channel}`,
    reply: { platform: "slack", team: "T0TESTTEAM", channel, thread_ts: null, user, user_team: "T0TESTTEAM" },
  });
  const code = !admission.allowed ? /`([A-Z0-9]{8})`/.exec(admission.notice)?.[1] : undefined;
  if (!code) throw new Error("no pairing code");
  return { code, sender: `slack:${user}` };
}

const tokenIn = (html: string) => /name="token" value="([^"]+)"/.exec(html)?.[1];

function form(fields: [string, string][]): URLSearchParams {
  return new URLSearchParams(fields);
}

describe("the console's pages", () => {
  it("serves every page to an admin, with a strict CSP, no framing and no caching", async () => {
    const token = await signAccessToken(claims());
    for (const path of ["/admin/", "/admin/people", "/admin/conversations", "/admin/logs", "/admin/actions", "/admin/cost"]) {
      const response = await page(path, token);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/text\/html/);
      expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
      expect(response.headers.get("content-security-policy")).not.toMatch(/script-src/);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("cache-control")).toBe("no-store");
      const html = await response.text();
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toContain(env.GATEWAY_TOKEN);
      expect(html).not.toContain(token);
    }
    const bare = await page("/admin", token);
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/admin/");
  });

  it("refuses a request without an Access token, and one with a forged token", async () => {
    expect((await page("/admin/", null)).status).toBe(401);
    const forged = await signAccessToken(claims(), { kid: "never-published" });
    expect((await page("/admin/people", forged)).status).toBe(401);
    expect((await page("/admin/console.css", null)).status).toBe(401);
  });

  it("refuses an Access user who is not an admin", async () => {
    const token = await signAccessToken(claims("visitor@example.com"));
    const response = await page("/admin/people", token);
    expect(response.status).toBe(403);
    expect(await response.text()).not.toMatch(/Pairing requests/);
  });

  it("keeps the JSON admin routes, and /molt status gives the Cost page's estimate in a line", async () => {
    const token = await signAccessToken(claims());
    const response = await page("/admin/status", token);
    expect(response.status).toBe(200);
    const status = (await response.json()) as { title: string; text: string; data: { cost: { usd: number; alwaysOnUsd: number } } };
    expect(status.title).toBe("Status");
    const line = /\*Cost:\* ~(\$[\d.]+) this month \([\d.]+ h awake so far\); awake all month it would be ~(\$[\d.]+)/.exec(status.text);
    expect(line).not.toBeNull();
    const cost = await (await page("/admin/cost", token)).text();
    expect(cost).toContain(`id="estimate-total">${line![1]}<`);
    expect(cost).toContain(`id="always-on-total">${line![2]}<`);
    expect(status.data.cost.alwaysOnUsd).toBeGreaterThan(status.data.cost.usd);
  });
});

describe("the console's actions", () => {
  it("approves a pairing code from the People page's form", async () => {
    const { code, sender } = await pendingPairing();
    const token = await signAccessToken(claims());
    const html = await (await page("/admin/people", token)).text();
    expect(html).toContain(code);
    const response = await page("/admin/run", token, {
      method: "POST",
      headers: { origin: ORIGIN, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
      body: form([["token", tokenIn(html)!], ["back", "people"], ["command", "pair"], ["arg", "approve"], ["arg", code]]),
    });
    expect(response.status).toBe(200);
    const result = await response.text();
    expect(result).toContain(`Approved <code>${sender}</code>`);
    expect((await policy(env).pairings()).map((request) => request.code)).not.toContain(code);
    expect((await policy(env).lists()).senders.map((entry) => entry.value)).toContain(sender);
    const audit = await policy(env).audit(20);
    expect(audit.some((entry) => entry.actor === "access:admin@example.com" && entry.action === "pair" && entry.detail.includes(`approved ${sender}`))).toBe(true);
  });

  it("refuses a cross-site POST, a POST without the session token, and a token from another session", async () => {
    const { code } = await pendingPairing();
    const token = await signAccessToken(claims());
    const sessionToken = tokenIn(await (await page("/admin/people", token)).text())!;
    const post = (headers: Record<string, string>, fields: [string, string][], access = token) =>
      page("/admin/run", access, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form([["back", "people"], ["command", "pair"], ["arg", "approve"], ["arg", code], ...fields]),
      });

    const crossSite = await post({ origin: "https://evil.example", "sec-fetch-site": "cross-site" }, [["token", sessionToken]]);
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toMatch(/another site/);
    expect((await post({ origin: "https://evil.example" }, [["token", sessionToken]])).status).toBe(403);
    expect((await post({ "sec-fetch-site": "same-site" }, [["token", sessionToken]])).status).toBe(403);
    expect((await post({}, [["token", sessionToken]])).status).toBe(403);

    const noToken = await post({ origin: ORIGIN, "sec-fetch-site": "same-origin" }, []);
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toMatch(/session token/);

    const otherSession = await signAccessToken(claims());
    expect((await post({ origin: ORIGIN, "sec-fetch-site": "same-origin" }, [["token", sessionToken]], otherSession)).status).toBe(403);

    // Nothing happened.
    expect((await policy(env).pairings()).map((request) => request.code)).toContain(code);
  });

  it("runs only what the registry has, with its own checks", async () => {
    const token = await signAccessToken(claims());
    const sessionToken = tokenIn(await (await page("/admin/actions", token)).text())!;
    const run = (command: string, args: string[]) =>
      page("/admin/run", token, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
        body: form([["token", sessionToken], ["back", "actions"], ["command", command], ...args.map((arg): [string, string] => ["arg", arg])]),
      });
    expect((await run("frobnicate", [])).status).toBe(404);
    const bad = await run("allow", ["not-a-user"]);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/Usage/);
  });
});
