/**
 * Re-signs Slack fixtures at test time with the Worker's test signing secret, so every test goes
 * through real verification. Runs in workerd (Web Crypto only).
 */
export const TEST_SLACK_SIGNING_SECRET = "test-slack-signing-secret";
export const TEST_SLACK_BOT_TOKEN = "xoxb-test-bot-token";

const encoder = new TextEncoder();

/** `v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>` */
export async function slackSignature(body: string, timestamp: number, secret = TEST_SLACK_SIGNING_SECRET): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`v0:${timestamp}:${body}`));
  return `v0=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export interface SignOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  secret?: string;
  headers?: Record<string, string>;
}

/** A signed POST as Slack would send it. `body` objects are JSON; use `formBody` for commands. */
export async function signedSlackRequest(
  url: string,
  body: string | object,
  options: SignOptions = {},
): Promise<Request> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const form = url.endsWith("/slack/commands");
  return new Request(url, {
    method: "POST",
    headers: {
      "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": await slackSignature(raw, timestamp, options.secret),
      ...options.headers,
    },
    body: raw,
  });
}

/** A slash command fixture (its fields) as the form body Slack posts. */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
