/**
 * Keys at the edge: the agent's model calls leave the container for `http://llm.internal`, where
 * the Worker adds a key the container never holds. The stand-in model refuses calls without that
 * key (test/global-setup.ts), so every answer here went through the Worker's handler.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { statusCommand } from "../../src/commands/status";
import type { Env } from "../../src/env";
import { devLlmRoute } from "../../src/sandbox/llm-dev-route";
import { llmEgress } from "../../src/sandbox/llm-egress";
import { gatewaySupervisor } from "../../src/sandbox/supervisor";
import { openSandbox, SANDBOX_ID } from "../../src/sandbox/transport";
import { TEST_MODEL_KEY } from "../secrets";
import { readyAgent } from "../support/agent";
import { runCommand } from "../../src/commands/registry";
import { expectNoUnmatchedContainerCalls, host, sandboxObjectId } from "../support/container";
import { eventually, expectNoUnmatchedSlackCalls, mention, slackMessages, uniqueChannel } from "../support/slack-relay";

const TURN_MS = 480_000;

afterEach(async () => {
  await expectNoUnmatchedContainerCalls();
  await expectNoUnmatchedSlackCalls();
});

interface ModelRequest {
  words: string;
  unauthorized?: boolean;
}
const modelRequests = async () => ((await (await fetch(`${env.TEST_MODEL_URL}/_test/requests`)).json()) as { requests: ModelRequest[] }).requests;

async function scanAgent(needle: string) {
  const response = await host(`/_host/${sandboxObjectId(SANDBOX_ID)}/scan`, { method: "POST", body: JSON.stringify({ needle }) });
  return (await response.json()) as { files: string[]; environments: number; scannedEnvironments: number };
}

/** Run a small program in the agent's container and return what it printed. */
async function inAgent(code: string, vars: Record<string, string> = {}): Promise<string> {
  const sandbox = openSandbox(env);
  const file = `/workspace/probe-${crypto.randomUUID().slice(0, 8)}.mjs`;
  await sandbox.writeFile(file, code);
  const result = await sandbox.exec(`node ${file.slice("/workspace/".length)}`, { timeout: 60_000, env: vars });
  if (result.exitCode !== 0) throw new Error(`${result.stderr}\n${result.stdout}`);
  return result.stdout.trim();
}

const answer = (channel: string, threadTs: string, needle: string) => async () =>
  (await slackMessages(channel)).find((m) => m.thread_ts === threadTs && !m.streaming && m.text.includes(needle));

describe("model keys stay in the Worker", () => {
  it("answers a turn through the Worker while the container holds no provider key, and counts the call", async () => {
    await readyAgent();
    const channel = uniqueChannel();
    const { ts } = await mention(channel, "keys at the edge");
    await eventually(answer(channel, ts, "Echo: keys at the edge"), TURN_MS, "the answer");

    // The model saw the turn with the Worker's key, and never a call without it.
    const requests = await modelRequests();
    expect(requests.some((r) => r.words.includes("keys at the edge") && !r.unauthorized)).toBe(true);
    expect(requests.filter((r) => r.unauthorized)).toEqual([]);

    // The key is nowhere in the container: not on its disk (config, state), not in any process's environment...
    const scanned = await scanAgent(TEST_MODEL_KEY);
    expect(scanned).toMatchObject({ files: [], environments: 0 });
    expect(scanned.scannedEnvironments).toBeGreaterThan(0);
    // ...while the same scan finds the placeholder the config holds instead (the scan can find things).
    expect((await scanAgent("molt-relay-placeholder")).files).toContain("root/.openclaw/openclaw.json");

    // Counted for /molt status, without content.
    const status = await gatewaySupervisor(env).status();
    expect(status.usage?.calls).toBeGreaterThan(0);
    expect(status.usage?.outputTokens).toBeGreaterThan(0);
    const shown = await statusCommand.run({ env } as unknown as Parameters<typeof statusCommand.run>[0]);
    expect(shown.text).toMatch(/Model calls today:\* \d+ \(\d+ failed\), \d+ tokens in, \d+ out/);
  }, TURN_MS);

  it("streams the model's first token to the gateway before the model has finished", async () => {
    await readyAgent();
    // Where the gateway runs, the way it calls its model. The stand-in sends its first token and
    // holds the rest until released: a buffered answer would never show the first token here.
    const out = await inAgent(`
      const decoder = new TextDecoder();
      const response = await fetch("http://llm.internal/molt/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "stand-in", stream: true, messages: [{ role: "user", content: "hold the line" }] }),
      });
      const reader = response.body.getReader();
      let seen = "";
      while (!/"content":"[^"]+"/.test(seen)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error("ended without a token: HTTP " + response.status + " " + seen.slice(0, 500));
        seen += decoder.decode(chunk.value);
      }
      console.log("first token before the end: " + !seen.includes("[DONE]"));
      await fetch(process.env.MODEL_URL + "/_test/release", { method: "POST" });
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) seen += decoder.decode(chunk.value);
      console.log("then the end: " + seen.includes("[DONE]"));
    `, { MODEL_URL: env.TEST_MODEL_URL! });
    expect(out).toBe("first token before the end: true\nthen the end: true");
  }, TURN_MS);

  it("refuses what is not a model API call, naming the path", async () => {
    await readyAgent();
    const out = await inAgent(`
      const r = await fetch("http://llm.internal/molt/v1/files", { method: "POST", body: "{}" });
      console.log(r.status + " " + (await r.json()).error.message);
    `);
    expect(out).toBe("403 molt-relay refused POST /molt/v1/files: only the model API of molt is forwarded");
    const other = await inAgent(`
      const r = await fetch("http://llm.internal/nowhere/v1/chat/completions", { method: "POST", body: "{}" });
      console.log(r.status + " " + (await r.json()).error.message);
    `);
    expect(other).toMatch(/^403 molt-relay refused POST \/nowhere\/v1\/chat\/completions: no model provider "nowhere"/);
  }, TURN_MS);

  it("passes a 429 or a 5xx from the provider to the gateway unchanged", async () => {
    await readyAgent();
    const call = (words: string) =>
      inAgent(`
      const r = await fetch("http://llm.internal/molt/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "stand-in", messages: [{ role: "user", content: ${JSON.stringify(words)} }] }),
      });
      console.log(r.status + " " + r.headers.get("retry-after") + " " + (await r.json()).error.message);
    `);
    expect(await call("ratelimit me")).toBe("429 1 stand-in model failure (requested)");
    expect(await call("fail me")).toBe("500 null stand-in model failure (requested)");
  }, TURN_MS);

  it("answers a clear error when the Worker holds no key for any provider", async () => {
    const bare = { ...env, OPENAI_COMPATIBLE_BASE_URL: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined } as unknown as Env;
    const response = await llmEgress(new Request("http://llm.internal/anthropic/v1/messages", { method: "POST", body: "{}" }), bare, { containerId: "x", className: "Sandbox" });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/no model provider key: set ANTHROPIC_API_KEY or OPENAI_API_KEY with `wrangler secret put`/);
  });

  it("serves the same handler to a local gateway under npm run dev, on loopback only", async () => {
    const call = (url: string, devEnv: Partial<Env>) => devLlmRoute(new Request(url), { ...env, ...devEnv } as unknown as Env);
    // Off unless npm run dev turned it on, and never on a public host.
    expect((await call("http://127.0.0.1:8787/_dev/llm/molt/v1/models", {})).status).toBe(404);
    expect((await call("https://relay.test/_dev/llm/molt/v1/models", { DEV_LLM_ROUTE: "1" })).status).toBe(404);
    // On: the model answers (it wants the key, which the handler added).
    const models = await call("http://127.0.0.1:8787/_dev/llm/molt/v1/models", { DEV_LLM_ROUTE: "1" });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(["stand-in"]);
    const refused = await call("http://127.0.0.1:8787/_dev/llm/molt/v1/files", { DEV_LLM_ROUTE: "1" });
    expect(refused.status).toBe(403);
  });
});

describe("the model, chosen and missing, through the Worker", () => {
  it("/molt model lists the gateway's models and sets the primary; the next turn's call goes through the Worker with it", async () => {
    await readyAgent();
    const admin = (args: string[]) => runCommand(env, { name: "model", args, actor: "slack:U0ADMIN" });
    const listed = await admin([]);
    expect(listed.result.ok).toBe(true);
    const available = (listed.result.data as { available: string[] }).available;
    const standIn = available.find((name) => name.startsWith("molt/"));
    expect(standIn).toBeDefined();

    const set = await admin([standIn!]);
    expect(set.result).toMatchObject({ ok: true, data: { primary: standIn } });
    expect(await gatewaySupervisor(env).primaryModel()).toBe(standIn);
    const refused = await admin(["nobody/no-such-model"]);
    expect(refused.result.ok).toBe(false);
    expect(refused.result.text).toMatch(/No model `nobody\/no-such-model`/);

    const channel = uniqueChannel();
    const { ts } = await mention(channel, "after choosing the model");
    await eventually(answer(channel, ts, "Echo: after choosing the model"), TURN_MS, "the answer");
    const call = (await modelRequests()).find((r) => r.words.includes("after choosing the model"));
    expect(call).toMatchObject({ unauthorized: false });
    expect((await gatewaySupervisor(env).status()).usage?.calls).toBeGreaterThan(0);
  }, TURN_MS);

  it("tells the chat plainly when the provider refuses the Worker's key, instead of hanging", async () => {
    await readyAgent();
    // The provider revokes the key the Worker holds (a missing key ends the same way: a 401 that
    // the handler passes on unchanged, or answers itself when it has no key at all, tested above).
    const revoke = (revoked: boolean) => fetch(`${env.TEST_MODEL_URL}/_test/revoke-key`, { method: "POST", body: JSON.stringify({ revoked }) });
    await revoke(true);
    try {
      const channel = uniqueChannel();
      const { ts } = await mention(channel, "hello with a revoked key");
      const shown = await eventually(
        async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && /:warning:/.test(m.text)),
        TURN_MS,
        "the error in the chat",
      );
      // OpenClaw's words (HTTP 401), and where the key really is: the Worker's secret.
      expect(shown!.text).toMatch(/HTTP 401/);
      expect(shown!.text).toMatch(/model keys are kept by the relay, not the agent.*wrangler secret put/);
      expect((await modelRequests()).some((r) => r.unauthorized)).toBe(true);
    } finally {
      await revoke(false);
    }
    // The key works again: OpenClaw holds the refused key back for about a minute, then the agent
    // answers again (the files after this one share the agent).
    const channel = uniqueChannel();
    await eventually(
      async () => {
        const { ts } = await mention(channel, "are you back");
        const settled = await eventually(
          async () => (await slackMessages(channel)).find((m) => m.thread_ts === ts && !m.streaming && (m.text.includes("Echo: are you back") || /:warning:/.test(m.text))),
          TURN_MS,
          "an answer or an error",
        );
        if (settled!.text.includes("Echo: are you back")) return true;
        await new Promise((resolve) => setTimeout(resolve, 15_000));
        return undefined;
      },
      TURN_MS,
      "the agent answering again with the restored key",
    );
  }, 2 * TURN_MS);
});
