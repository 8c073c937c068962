/** The audit log records every admin action, from Slack and HTTP, and never a secret. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { policy } from "../../src/policy/policy-object";
import { redactSecrets } from "../../src/policy/redact";
import { adminRequest } from "../support/access-token";
import { directMessage, slash } from "../support/slack-admin";
import { eventually, slackMessages, uniqueChannel } from "../support/slack-relay";

const PROVIDER_KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx";
const BEARER = "Bearer abcdefghijklmnopqrstuvwxyz012345";

describe("the audit log", () => {
  it("keeps no secrets, whatever admins type or the gateway answers", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    // Secrets pasted as arguments, through both surfaces.
    await slash(`allow ${env.GATEWAY_TOKEN} ${marker}`);
    await slash(`new slack:T0TESTTEAM:D${marker} ${env.SLACK_BOT_TOKEN}`);
    await slash(`logs 3 ${PROVIDER_KEY}`);
    await adminRequest("/admin/commands/allow", { body: { args: [`slack:U${marker}`, BEARER, env.SLACK_SIGNING_SECRET!] } });
    await slash(`status ${env.GATEWAY_TOKEN}`, { user: "U0NOTADMIN" });

    // A pairing code, approved: a credential until used.
    const dm = uniqueChannel("D");
    await directMessage(dm, `U0AUD${marker.toUpperCase()}`, "let me in");
    const notice = await eventually(async () => (await slackMessages(dm)).find((m) => /`([A-Z0-9]{8})`/.test(m.text)), 30_000, "the code");
    const code = /`([A-Z0-9]{8})`/.exec(notice.text)![1]!;
    expect((await slash(`pair approve ${code}`)).shown).toMatch(/Approved/);

    const audit = await policy(env).audit(500);
    const text = JSON.stringify(audit);
    for (const secret of [env.GATEWAY_TOKEN, env.SLACK_BOT_TOKEN!, env.SLACK_SIGNING_SECRET!, PROVIDER_KEY, "abcdefghijklmnopqrstuvwxyz012345", code]) {
      expect(text).not.toContain(secret);
    }
    // ...while still saying who did what.
    expect(audit.find((entry) => entry.action === "pair" && entry.detail.includes(`U0AUD${marker.toUpperCase()}`))).toMatchObject({ actor: "slack:U0ADMIN", outcome: "ok" });
    expect(audit.find((entry) => entry.detail.includes(marker) && entry.action === "allow" && entry.actor === "slack:U0ADMIN")?.detail).toContain("[GATEWAY_TOKEN]");
    expect(audit.find((entry) => entry.action === "status" && entry.actor === "slack:U0NOTADMIN")).toMatchObject({ outcome: "refused" });
    expect(audit.find((entry) => entry.actor === "access:admin@example.com" && entry.detail.includes(marker))?.detail).toContain("Bearer [redacted]");
  });
});

describe("redactSecrets", () => {
  it("replaces configured secrets by name and token-shaped strings by pattern", () => {
    const fake = { GATEWAY_TOKEN: "gw-secret-123456", OPENAI_API_KEY: "sk-proj-0123456789abcdef", MODEL: "molt/stand-in" };
    const out = redactSecrets(
      "token gw-secret-123456 key sk-proj-0123456789abcdef xoxb-1-2-abcdefgh Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig api_key=hunter22 model molt/stand-in",
      fake,
    );
    expect(out).not.toMatch(/gw-secret|sk-proj|xoxb-1|hunter22|eyJhbGciOi/);
    expect(out).toContain("[GATEWAY_TOKEN]");
    expect(out).toContain("molt/stand-in");
  });
});
