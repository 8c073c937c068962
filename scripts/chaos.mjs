#!/usr/bin/env node
// `npm run chaos [-- --n 1000]`: the chaos soak (test/chaos) at full size. Prints a
// `chaos report:` line with lost, duplicated and late answers and message-to-answer latency.
import { spawnSync } from "node:child_process";

const i = process.argv.indexOf("--n");
const messages = Number(i > 0 ? process.argv[i + 1] : 1_000);
const result = spawnSync("npx", ["vitest", "run", "--project", "chaos"], {
  stdio: "inherit",
  env: { ...process.env, CHAOS_MESSAGES: String(messages) },
});
process.exit(result.status ?? 1);
