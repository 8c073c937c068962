/**
 * The HTTP admin surface: closed without Access, admins only, every command reachable with JSON
 * arguments and a JSON result, and the Access identity recorded as the audit actor.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../src/index";
import { policy } from "../../src/policy/policy-object";
import { adminRequest, claims, signAccessToken } from "../support/access-token";

type Result = { ok: boolean; title: string; text: string; data?: Record<string, unknown>; error?: string };
const json = async (response: Response) => (await response.json()) as Result;

describe("the admin surface without Access configured", () => {
  for (const [what, change] of [
    ["no AUD", { ACCESS_AUD: undefined }],
    ["no team domain", { ACCESS_TEAM_DOMAIN: undefined }],
    ["a plain-http public team domain", { ACCESS_TEAM_DOMAIN: "http://attacker.example" }],
  ] as const) {
    it(`is closed with ${what}, even to a valid admin token`, async () => {
      const token = await signAccessToken(claims());
      const response = await app.fetch(
        new Request("https://relay.test/admin/status", { headers: { "cf-access-jwt-assertion": token } }),
        { ...env, ...change },
        createExecutionContext(),
      );
      expect(response.status).toBe(503);
      expect((await json(response)).error).toMatch(/closed/);
    });
  }
});

describe("the admin surface behind Access", () => {
  it("refuses a valid Access user who is not in ADMINS, and audits the attempt", async () => {
    const email = `mallory-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const status = await adminRequest("/admin/status", { email });
    expect(status.status).toBe(403);
    expect((await json(status)).text).toMatch(/admins only/);

    const allow = await adminRequest("/admin/commands/allow", { email, body: { args: ["slack:U0MALLORY"] } });
    expect(allow.status).toBe(403);
    const { senders } = await policy(env).lists();
    expect(senders.map((entry) => entry.value)).not.toContain("slack:U0MALLORY");

    const audit = await policy(env).audit(200);
    const mine = audit.filter((entry) => entry.actor === `access:${email}`);
    expect(mine.map((entry) => [entry.action, entry.outcome])).toEqual([
      ["allow", "refused"],
      ["status", "refused"],
    ]);
  });

  it("lets an admin run a command with JSON arguments, and records them as the actor", async () => {
    const user = `slack:U0FRIEND${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const added = await adminRequest("/admin/commands/allow", { body: { args: [user] } });
    expect(added.status).toBe(200);
    expect((await json(added)).ok).toBe(true);

    const lists = await json(await adminRequest("/admin/commands/allow", { body: {} }));
    expect((lists.data!.senders as { value: string; addedBy: string }[]).find((entry) => entry.value === user)?.addedBy).toBe("access:admin@example.com");

    const removed = await adminRequest("/admin/commands/deny", { body: { args: [user] } });
    expect((await json(removed)).text).toMatch(/no longer/);
    const audit = await policy(env).audit(50);
    expect(audit.some((entry) => entry.actor === "access:admin@example.com" && entry.action === "allow" && entry.detail.includes(user))).toBe(true);
  });

  it("answers 404 to an unknown command and 400 to bad arguments or a bad body", async () => {
    expect((await adminRequest("/admin/commands/frobnicate", { body: {} })).status).toBe(404);
    expect((await adminRequest("/admin/commands/allow", { body: { args: ["not-a-user-id"] } })).status).toBe(400);
    expect((await adminRequest("/admin/commands/allow", { body: "{nope" })).status).toBe(400);
    expect((await adminRequest("/admin/commands/allow", { body: { args: "slack:U1" } })).status).toBe(400);
  });

  it("says plainly that backup has nothing to back up here when the gateway runs elsewhere", async () => {
    const body = await json(await adminRequest("/admin/commands/backup", { body: {} }));
    expect(body.ok).toBe(false);
    expect(body.text).toMatch(/runs elsewhere.*not here/);
  });

  it("reports status with queued turns and latency fields", async () => {
    const body = await json(await adminRequest("/admin/status"));
    expect(body.text).toMatch(/Queued turns:/);
    expect(body.text).toMatch(/Turn latency:/);
    expect(body.data!.turns).toMatchObject({ queued: expect.any(Number), samples: expect.any(Number) });
  });

  it("shows and checks the model against the real gateway", async () => {
    const shown = await json(await adminRequest("/admin/commands/model", { body: {} }));
    expect(shown.ok).toBe(true);
    expect(shown.data).toMatchObject({ primary: "molt/stand-in", available: ["molt/stand-in"] });

    const unknown = await json(await adminRequest("/admin/commands/model", { body: { args: ["nope/nothing"] } }));
    expect(unknown.ok).toBe(false);
    expect(unknown.text).toMatch(/No model `nope\/nothing`/);

    // The model already in use (the only one there is): a real config.patch, which the gateway
    // answers without writing its config or restarting, so the gateway the other files share is
    // left alone. A test that switches models needs a gateway of its own (the sandbox project's).
    const set = await json(await adminRequest("/admin/commands/model", { body: { args: ["stand-in"] } }));
    expect(set.ok).toBe(true);
    expect(set.data).toEqual({ primary: "molt/stand-in", previous: "molt/stand-in" });
  });

  it("tails the gateway's logs without the gateway token", async () => {
    const body = await json(await adminRequest("/admin/commands/logs", { body: { args: ["50"] } }));
    expect(body.ok).toBe(true);
    expect((body.data!.lines as string[]).length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toContain(env.GATEWAY_TOKEN);
  });

  it("starts a fresh session for a named conversation", async () => {
    const key = `slack:T0TESTTEAM:D0NEW${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const body = await json(await adminRequest("/admin/commands/new", { body: { args: [key] } }));
    expect(body.ok).toBe(true);
    expect(body.data).toEqual({ key });
    expect((await adminRequest("/admin/commands/new", { body: {} })).status).toBe(400);
  });
});
