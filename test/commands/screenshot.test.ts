/**
 * `/molt screenshot`: rendered at the edge through the local Browser Rendering binding (a real
 * Chromium), uploaded to Slack, and refused for anything on the relay's own network.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { answerChatCommand } from "../../src/commands/chat";
import { runCommand } from "../../src/commands/registry";
import { checkBrowsableUrl } from "../../src/policy/url-guard";
import { decodePng } from "../support/png";
import { slash, slashCommand } from "../support/slack-admin";
import { eventually, slackMessages, uniqueChannel } from "../support/slack-relay";

beforeAll(() => {
  // Never skipped: a missing Chromium fails these tests (CI or not).
  expect(inject("browserSetupError")).toBe("");
});

async function sha256(data: ArrayBuffer | Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("/molt screenshot", () => {
  it("posts a PNG of the page to the conversation, and the picture is the page", async () => {
    const channel = uniqueChannel();
    const page = inject("testPageUrl");
    const event = await slashCommand(`screenshot ${page}`, { channel, responseUrl: "" });
    await answerChatCommand(event, env, 0);

    const messages = await eventually(
      async () => {
        const list = await slackMessages(channel);
        return list.some((message) => Array.isArray(message.files) && message.files.length > 0) && list;
      },
      60_000,
      "the screenshot upload",
    );
    expect(messages.map((message) => message.text).join("\n")).toContain("molt-relay test page");
    const files = messages.flatMap((message) => (message.files as { name: string; size: number; sha256: string }[]) ?? []);
    expect(files).toHaveLength(1);
    expect(files[0]!.name).toBe("page.molt.test.png");

    // The uploaded bytes are the PNG the command stored, and it shows the page.
    const stored = await env.MEDIA.list({ prefix: "media/commands/" });
    let png: Uint8Array | undefined;
    for (const object of stored.objects) {
      const bytes = new Uint8Array(await (await env.MEDIA.get(object.key))!.arrayBuffer());
      if ((await sha256(bytes)) === files[0]!.sha256) png = bytes;
    }
    expect(png, "the uploaded file is one the command stored in R2").toBeDefined();
    const picture = await decodePng(png!);
    expect([picture.width, picture.height]).toEqual([1280, 800]);
    expect(picture.pixel(100, 100)).toEqual([0, 0, 255]);
    expect(picture.pixel(640, 400)).toEqual([255, 0, 0]);
  });

  it("refuses other schemes and the relay's own network, without opening a browser", async () => {
    for (const target of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "ftp://example.com/",
      "http://127.0.0.1:8787/admin",
      "http://localhost/",
      "http://2130706433/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/",
      "http://192.168.1.1/",
      "http://browser.internal/json/version",
      "http://printer.local/",
      "https://relay.test/admin/status",
      "<http://127.0.0.1/|127.0.0.1>",
    ]) {
      const answer = await slash(`screenshot ${target}`);
      expect(answer.shown, target).toMatch(/Refused: /);
    }
    expect((await slash("screenshot")).shown).toMatch(/Usage: `\/molt screenshot <url> \[full\]`/);
  });

  it("refuses a page that redirects onto the relay's own network", async () => {
    const page = new URL("/redirect-to-loopback", inject("testPageUrl")).href;
    const { result } = await runCommand(env, { name: "screenshot", args: [page], actor: "slack:U0ADMIN" });
    expect(result.ok).toBe(false);
    expect(result.text).toMatch(/Refused: the page led to 127\.0\.0\.1/);
    expect(result.media).toBeUndefined();
  });

  it("is for admins only", async () => {
    const answer = await slash(`screenshot ${inject("testPageUrl")}`, { user: "U0SNEAKY" });
    expect(answer.shown).toMatch(/is for admins only/);
  });
});

describe("checkBrowsableUrl", () => {
  it("lets public http(s) URLs through, Slack's <url|label> form included", () => {
    for (const target of ["https://example.com/", "http://example.org:8080/a?b=c", "<https://example.com/x|example.com/x>"]) {
      const verdict = checkBrowsableUrl(target, "https://relay.test");
      expect(verdict.ok, target).toBe(true);
    }
  });
});
