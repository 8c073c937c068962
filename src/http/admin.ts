/**
 * The HTTP admin surface, behind Cloudflare Access: `GET /admin/status` and
 * `POST /admin/commands/<name>` with `{"args": ["approve", "ABCD2345"]}` (JSON in, JSON out).
 * The Access identity (`access:<email>`) must be in ADMINS, and is the audit log's actor.
 * The owner's web console (./console) is mounted here too, behind the same check.
 */
import { Hono } from "hono";
import type { AccessIdentity } from "../access";
import { requireAccess } from "../access";
import { type CommandOutcome, runCommand } from "../commands/registry";
import type { Env } from "../env";
import { PayloadError } from "../errors";
import { consoleRoutes } from "./console";
import { consoleHeaders } from "./console/guard";

const STATUS_CODES: Record<CommandOutcome["status"], number> = { done: 200, refused: 403, unknown: 404, invalid: 400, failed: 502 };

export const adminRoutes = new Hono<{ Bindings: Env; Variables: { identity: AccessIdentity } }>();

adminRoutes.use("*", consoleHeaders());
adminRoutes.use("*", requireAccess());

adminRoutes.get("/status", async (c) => respond(await runCommand(c.env, { name: "status", args: [], actor: c.get("identity").id })));

adminRoutes.post("/commands/:name", async (c) => {
  const args = await readArgs(c.req.raw);
  return respond(await runCommand(c.env, { name: c.req.param("name"), args, actor: c.get("identity").id }));
});

function respond({ status, result }: CommandOutcome): Response {
  const { audit: _audit, ...body } = result;
  // A command that ran but didn't succeed (an unknown code, no persistence) is still a 200: `ok` says.
  return Response.json(body, { status: STATUS_CODES[status] });
}

/** `{"args": [...]}`; an empty body means no arguments. */
async function readArgs(request: Request): Promise<string[]> {
  const text = await request.text();
  if (!text.trim()) return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PayloadError("the body is not JSON");
  }
  const args = (body as { args?: unknown } | null)?.args ?? [];
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string" || typeof arg === "number")) {
    throw new PayloadError('"args" must be a list of strings');
  }
  return args.map(String);
}

// The owner's console (HTML pages and form actions), behind the same Access check.
adminRoutes.route("/", consoleRoutes);
