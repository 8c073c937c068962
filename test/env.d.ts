import type { Env } from "../src/env";

declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    /** The stand-in model's base URL (relay project). */
    TEST_MODEL_URL?: string;
    /** The container host that plays the Sandbox container (sandbox project). */
    TEST_CONTAINER_HOST_URL?: string;
  }
}
