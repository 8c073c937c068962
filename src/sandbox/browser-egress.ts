/**
 * The container's way to its browser: the outbound handler for `browser.internal`. OpenClaw in the
 * container is configured with `cdpUrl: http://browser.internal` (container/start-gateway.mjs); its
 * `/json/version` requests and CDP socket upgrades leave the container as plain HTTP on port 80,
 * the Sandbox intercepts them by host, and this handler hands them to the agent's BrowserSession
 * object. No public URL, and no secret the agent could read: reaching this host at all is what
 * shows the request comes from the agent's container.
 */
import { serveAgentBrowser } from "./browser-session";
import type { EgressHandler } from "./egress";

export const browserEgress: EgressHandler = (request, env) => serveAgentBrowser(request, env);
