/**
 * The owner's console: server-rendered pages under /admin/, behind the same Access check as the
 * JSON routes (mounted inside them), for admins only. Every action is a POST to /admin/run that
 * runs one `/molt` command through the registry, and shows the page it came from with the result.
 */
import { Hono } from "hono";
import type { AccessIdentity } from "../../access";
import { type CommandOutcome, runCommand } from "../../commands/registry";
import type { Env } from "../../env";
import { HttpError } from "../../errors";
import { accessJwt, crossSiteReason, requireAdmin, sessionToken, sessionTokenValid } from "./guard";
import { type Flash, Layout, PAGES, type PageName } from "./layout";
import { actionsPage } from "./pages/actions";
import type { PageBody } from "./pages/context";
import { conversationsPage } from "./pages/conversations";
import { costPage } from "./pages/cost";
import { logsPage } from "./pages/logs";
import { overviewPage } from "./pages/overview";
import { peoplePage } from "./pages/people";
import { CONSOLE_CSS } from "./style";

type ConsoleEnv = { Bindings: Env; Variables: { identity: AccessIdentity } };

const BODIES: Record<PageName, PageBody> = {
  overview: overviewPage,
  people: peoplePage,
  conversations: conversationsPage,
  logs: logsPage,
  actions: actionsPage,
  cost: costPage,
};

const STATUS_CODES: Record<CommandOutcome["status"], 200 | 400 | 403 | 404 | 502> = { done: 200, refused: 403, unknown: 404, invalid: 400, failed: 502 };

export const consoleRoutes = new Hono<ConsoleEnv>();

// Per route, not `use("*")`: mounted at /admin, a wildcard would also catch the JSON routes.
const admin = requireAdmin();

consoleRoutes.get("/console.css", admin, (c) => c.body(CONSOLE_CSS, 200, { "content-type": "text/css; charset=utf-8" }));

for (const [name, , href] of PAGES) {
  // Mounted under /admin, "/" would be /admin itself: /admin/ is matched as an empty segment.
  const path = href === "/admin/" ? "/:empty{^$}" : href.slice("/admin".length);
  consoleRoutes.get(path, admin, (c) => render(c.env, c.get("identity"), c.req.raw, name));
}
consoleRoutes.get("/", admin, (c) => c.redirect("/admin/", 308));

consoleRoutes.post("/run", admin, async (c) => {
  const refusal = crossSiteReason(c.req.raw, c.env);
  if (refusal) throw new HttpError(403, `refused: ${refusal}`);
  const form = await c.req.raw.formData().catch(() => {
    throw new HttpError(400, "the body is not a form");
  });
  const field = (key: string) => {
    const value = form.get(key);
    return typeof value === "string" ? value : "";
  };
  if (!(await sessionTokenValid(c.env, accessJwt(c.req.raw), field("token")))) {
    throw new HttpError(403, "refused: the form's session token is missing or stale (reload the page and try again)");
  }
  const back = PAGES.find(([name]) => name === field("back"))?.[0] ?? "overview";
  const args = form.getAll("arg").filter((arg): arg is string => typeof arg === "string").map((arg) => arg.trim()).filter(Boolean);
  const outcome = await runCommand(c.env, { name: field("command"), args, actor: c.get("identity").id });
  const flash: Flash = { ok: outcome.status === "done" && outcome.result.ok, title: outcome.result.title, text: outcome.result.text };
  return render(c.env, c.get("identity"), c.req.raw, back, flash, STATUS_CODES[outcome.status]);
});

async function render(env: Env, identity: AccessIdentity, request: Request, page: PageName, flash?: Flash, status = 200): Promise<Response> {
  const now = Date.now();
  const token = await sessionToken(env, accessJwt(request));
  const body = await BODIES[page]({ env, actor: identity.id, token, now, query: new URL(request.url).searchParams });
  const html = (
    <Layout page={page} who={identity.email ?? identity.id} flash={flash}>
      {body}
    </Layout>
  );
  return new Response(`<!doctype html>${html}`, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}
