import { describe, expect, it } from "vitest";
import { verifySlackRequest } from "../../src/adapters/slack/verify";
import { VerificationError } from "../../src/errors";
import { slackSignature } from "../support/slack-sign";

// Slack's published worked example (see docs/platforms notes).
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TIMESTAMP = 1531420618;
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const AT_SIGNING = TIMESTAMP * 1000;

function headers(signature = SIGNATURE, timestamp: string | null = String(TIMESTAMP)): Headers {
  const h = new Headers({ "x-slack-signature": signature });
  if (timestamp !== null) h.set("x-slack-request-timestamp", timestamp);
  return h;
}

async function rejection(promise: Promise<void>): Promise<VerificationError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).status).toBe(401);
  return error as VerificationError;
}

describe("verifySlackRequest", () => {
  it("accepts Slack's published worked example, as a string and as raw bytes", async () => {
    await expect(verifySlackRequest(BODY, headers(), SECRET, AT_SIGNING)).resolves.toBeUndefined();
    const bytes = new TextEncoder().encode(BODY).buffer as ArrayBuffer;
    await expect(verifySlackRequest(bytes, headers(), SECRET, AT_SIGNING + 299_000)).resolves.toBeUndefined();
  });

  it("agrees with the test signer used for fixtures", async () => {
    expect(await slackSignature(BODY, TIMESTAMP, SECRET)).toBe(SIGNATURE);
  });

  it("rejects a tampered body", async () => {
    await rejection(verifySlackRequest(BODY.replace("roadrunner", "coyote"), headers(), SECRET, AT_SIGNING));
  });

  it("rejects the wrong secret", async () => {
    await rejection(verifySlackRequest(BODY, headers(), "not-the-secret", AT_SIGNING));
  });

  it("rejects a timestamp more than 300 s old", async () => {
    const error = await rejection(verifySlackRequest(BODY, headers(), SECRET, AT_SIGNING + 301_000));
    expect(error.message).toMatch(/window/);
  });

  it("rejects a timestamp more than 300 s in the future", async () => {
    const error = await rejection(verifySlackRequest(BODY, headers(), SECRET, AT_SIGNING - 301_000));
    expect(error.message).toMatch(/window/);
  });

  it("rejects missing headers", async () => {
    await rejection(verifySlackRequest(BODY, headers(SIGNATURE, null), SECRET, AT_SIGNING));
    await rejection(verifySlackRequest(BODY, new Headers({ "x-slack-request-timestamp": String(TIMESTAMP) }), SECRET, AT_SIGNING));
  });

  it("rejects malformed signature and timestamp headers", async () => {
    for (const bad of ["a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "v1=" + SIGNATURE.slice(3), "v0=zz", "v0="]) {
      const error = await rejection(verifySlackRequest(BODY, headers(bad), SECRET, AT_SIGNING));
      expect(error.message).toMatch(/malformed/);
    }
    await rejection(verifySlackRequest(BODY, headers(SIGNATURE, "1531420618.5"), SECRET, AT_SIGNING));
  });

  it("a signature for another timestamp does not verify, even inside the window", async () => {
    await rejection(verifySlackRequest(BODY, headers(SIGNATURE, String(TIMESTAMP + 1)), SECRET, AT_SIGNING));
  });
});
