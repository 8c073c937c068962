/**
 * Outbound handlers: virtual hosts that processes in the container reach over plain HTTP
 * (`http://<host>/...`) and that the Worker answers. The runtime intercepts these hosts before
 * anything leaves the container, so a handler can add what the container must never hold (a
 * provider key, an R2 binding) and can refuse what it does not allow.
 *
 * To add a host: write its handler in a file of its own in this folder, exporting a function of
 * type `EgressHandler`, and add one line to `EGRESS_HOSTS` below. Nothing else changes: the
 * `Sandbox` class (agent-sandbox.ts) registers every host of this table.
 */
import type { Env } from "../env";
import { BROWSER_HOST } from "./browser-link";
import { browserEgress } from "./browser-egress";
import { llmEgress } from "./llm-egress";
import { LLM_HOST } from "./llm-providers";
import { handleStateRequest, STATE_HOST } from "./state-egress";

/** What the Containers runtime passes to an outbound handler besides the request. */
export interface EgressContext {
  containerId: string;
  className: string;
}

export type EgressHandler = (request: Request, env: Env, ctx: EgressContext) => Response | Promise<Response>;

export const EGRESS_HOSTS: Record<string, EgressHandler> = {
  [LLM_HOST]: (request, env, ctx) => llmEgress(request, env, ctx),
  [BROWSER_HOST]: (request, env, ctx) => browserEgress(request, env, ctx),
  [STATE_HOST]: (request, env) => handleStateRequest(request, env),
};
