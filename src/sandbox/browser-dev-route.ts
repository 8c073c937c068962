/**
 * Local dev: a gateway that runs on this machine (`GATEWAY_URL`, `npm run dev`) reaches the
 * agent's browser at `http://127.0.0.1:<port>/__dev/browser`, because it has no Sandbox outbound
 * handler to go through. Served only when `DEV_BROWSER_ROUTE` is set and the request is addressed
 * to a loopback host; anything else gets the same 404 as an unknown path, so a deployment never
 * opens a browser for the public hostname.
 */
import type { Env } from "../env";
import { serveAgentBrowser } from "./browser-session";

export const DEV_BROWSER_PREFIX = "/__dev/browser";
// 0.0.0.0 reaches this machine only; `npm run dev` gives it to OpenClaw, which treats a loopback CDP URL as a
// browser it manages itself (it wants /json/new and per-tab sockets) but 0.0.0.0 as a remote one.
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "0.0.0.0"]);

export function serveDevBrowser(request: Request, env: Env): Promise<Response> | Response {
  const url = new URL(request.url);
  if (env.DEV_BROWSER_ROUTE !== "on" || !LOOPBACK_HOSTS.has(url.hostname)) return Response.json({ error: "not found" }, { status: 404 });
  return serveAgentBrowser(request, env);
}
