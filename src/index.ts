/**
 * The Worker: verifies each platform's webhook at the edge, stores the message in an intake shard,
 * and answers the platform at once. The policy check, the conversation's bridge and the turn
 * itself all come after the answer.
 */
import { Hono } from "hono";
import { adapters } from "./adapters";
import type { Adapter, CommandReply } from "./adapters/types";
import { intake, storedMessage } from "./bridge/intake-object";
import { startListeners } from "./bridge/listener-object";
import { answerChatCommand } from "./commands/chat";
import type { Env } from "./env";
import { HttpError, PayloadError } from "./errors";
import { adminRoutes } from "./http/admin";
import { serveMediaLink } from "./bridge/media-links";
import { serveDevBrowser } from "./sandbox/browser-dev-route";
import { gatewaySupervisor } from "./sandbox/supervisor";
import { DEV_LLM_PREFIX, devLlmRoute } from "./sandbox/llm-dev-route";

const app = new Hono<{ Bindings: Env }>();

/**
 * Platform connections (a chat Gateway) start with the first request this isolate serves (so a
 * deploy reconnects at once), from the cron trigger every minute, and on /healthz.
 */
let listenersStarted = false;
app.use(async (c, next) => {
  if (!listenersStarted) {
    listenersStarted = true;
    const starting = startListeners(c.env).catch(() => (listenersStarted = false));
    try {
      c.executionCtx.waitUntil(starting);
    } catch {
      // No execution context (a direct call in a test): the start runs on its own.
    }
  }
  await next();
});

app.get("/healthz", async (c) => {
  const gateway = await gatewaySupervisor(c.env).status();
  const platforms = Object.fromEntries(adapters.map((adapter) => [adapter.platform, adapter.configured(c.env)]));
  const connections = await startListeners(c.env);
  return c.json({ ok: true, gateway, platforms, connections });
});

app.get("/media/*", (c) => serveMediaLink(c.req.raw, c.env));

app.route("/admin", adminRoutes);
// Local dev only (off unless DEV_LLM_ROUTE, loopback only): the local gateway's model calls.
app.all(`${DEV_LLM_PREFIX}*`, (c) => devLlmRoute(c.req.raw, c.env));

// The agent's browser, for a gateway on this machine in local dev only (404 unless DEV_BROWSER_ROUTE
// is set and the request is to loopback). In production the container reaches it through the
// Sandbox's outbound handler for browser.internal; no public route opens a browser.
app.all("/__dev/browser/*", (c) => serveDevBrowser(c.req.raw, c.env));

for (const adapter of adapters) {
  for (const route of adapter.routes) app.post(route, (c) => receive(adapter, c.req.raw, c.env, c.executionCtx));
}

async function receive(adapter: Adapter, request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Response> {
  if (!adapter.configured(env)) return Response.json({ error: `${adapter.platform} is not configured` }, { status: 404 });
  const inbound = await adapter.receive(request, env, Date.now()).catch(asRequestError);
  const replies: CommandReply[] = [];
  for (const event of inbound.events) {
    if (event.kind === "command") replies.push(await answerChatCommand(event, env));
    // Stored durably before the answer; the policy check and the bridge come after it (intake-object.ts).
    else await intake(env, event.conversation).accept(storedMessage(event));
  }
  return inbound.ack(replies, (work) => ctx.waitUntil(work));
}

/**
 * An adapter's `receive` only verifies and parses (it calls no API and stores nothing), so anything
 * it throws is about the request: a 400, never a 500. Its own 401s and 400s pass as they are; any
 * other error is a parsing defect, logged (without the payload) and answered as a bad payload.
 */
function asRequestError(error: unknown): never {
  if (error instanceof HttpError) throw error;
  console.error("payload parse defect:", error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : typeof error);
  throw new PayloadError("malformed payload");
}

app.notFound((c) => c.json({ error: "not found" }, 404));
app.onError((error, c) => {
  if (error instanceof HttpError) return c.json({ error: error.message }, error.status as 400);
  console.error("unhandled error:", error instanceof Error ? error.message : String(error));
  return c.json({ error: "internal error" }, 500);
});

export default {
  fetch: app.fetch,
  /** The cron trigger (every minute): keeps platform connections up. */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    ctx.waitUntil(startListeners(env));
  },
} satisfies ExportedHandler<Env>;
export { ConversationObject } from "./bridge/conversation-object";
export { IntakeObject } from "./bridge/intake-object";
export { ListenerObject } from "./bridge/listener-object";
export { CommandRunner } from "./commands/runner";
export { GatewaySupervisor } from "./sandbox/supervisor";
export { PolicyObject } from "./policy/policy-object";
export { StateKeeper } from "./sandbox/state-keeper";
export { Sandbox } from "./sandbox/agent-sandbox";
export { ContainerProxy } from "@cloudflare/sandbox";
export { UsageObject } from "./sandbox/usage-object";
export { BrowserSession } from "./sandbox/browser-session";
