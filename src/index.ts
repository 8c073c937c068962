/**
 * The Worker: verifies each platform's webhook at the edge, stores the message in an intake shard,
 * and answers the platform at once. The policy check, the conversation's bridge and the turn
 * itself all come after the answer.
 */
import { Hono } from "hono";
import { adapters } from "./adapters";
import type { Adapter, CommandReply } from "./adapters/types";
import { intake, storedMessage } from "./bridge/intake-object";
import { answerChatCommand } from "./commands/chat";
import type { Env } from "./env";
import { HttpError } from "./errors";
import { adminRoutes } from "./http/admin";
import { serveMediaLink } from "./http/media-links";
import { gatewaySupervisor } from "./sandbox/supervisor";
import { DEV_LLM_PREFIX, devLlmRoute } from "./sandbox/llm-dev-route";

const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", async (c) => {
  const gateway = await gatewaySupervisor(c.env).status();
  const platforms = Object.fromEntries(adapters.map((adapter) => [adapter.platform, adapter.configured(c.env)]));
  return c.json({ ok: true, gateway, platforms });
});

app.get("/media/*", (c) => serveMediaLink(c.req.raw, c.env));

app.route("/admin", adminRoutes);
// Local dev only (off unless DEV_LLM_ROUTE, loopback only): the local gateway's model calls.
app.all(`${DEV_LLM_PREFIX}*`, (c) => devLlmRoute(c.req.raw, c.env));

for (const adapter of adapters) {
  for (const route of adapter.routes) app.post(route, (c) => receive(adapter, c.req.raw, c.env, c.executionCtx));
}

async function receive(adapter: Adapter, request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Response> {
  if (!adapter.configured(env)) return Response.json({ error: `${adapter.platform} is not configured` }, { status: 404 });
  const inbound = await adapter.receive(request, env, Date.now());
  const replies: CommandReply[] = [];
  for (const event of inbound.events) {
    if (event.kind === "command") replies.push(await answerChatCommand(event, env));
    // Stored durably before the answer; the policy check and the bridge come after it (intake-object.ts).
    else await intake(env, event.conversation).accept(storedMessage(event));
  }
  return inbound.ack(replies, (work) => ctx.waitUntil(work));
}

app.notFound((c) => c.json({ error: "not found" }, 404));
app.onError((error, c) => {
  if (error instanceof HttpError) return c.json({ error: error.message }, error.status as 400);
  console.error("unhandled error:", error instanceof Error ? error.message : String(error));
  return c.json({ error: "internal error" }, 500);
});

export default app;
export { ConversationObject } from "./bridge/conversation-object";
export { IntakeObject } from "./bridge/intake-object";
export { CommandRunner } from "./commands/runner";
export { GatewaySupervisor } from "./sandbox/supervisor";
export { PolicyObject } from "./policy/policy-object";
export { StateKeeper } from "./sandbox/state-keeper";
export { Sandbox } from "./sandbox/agent-sandbox";
export { ContainerProxy } from "@cloudflare/sandbox";
