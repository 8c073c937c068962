import type { Child } from "hono/jsx";
import type { Env } from "../../../env";

/** What every page gets: the environment, who is looking, their session token, the clock. */
export interface PageContext {
  env: Env;
  actor: string;
  token: string;
  now: number;
  query: URLSearchParams;
}

export type PageBody = (ctx: PageContext) => Promise<Child>;
