import type { Env as RelayEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends RelayEnv {
      /** The stand-in model's base URL (relay project). */
      TEST_MODEL_URL?: string;
      /** The container host that plays the Sandbox container (sandbox project). */
      TEST_CONTAINER_HOST_URL?: string;
      /** Kills and restarts the chaos project's gateway (test/support/chaos-gateway.mjs). */
      TEST_CHAOS_CONTROL_URL?: string;
    }
  }
}
