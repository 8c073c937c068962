#!/usr/bin/env node
// `npm run fuzz -- --n 100000 [--seed 1234]`: the edge fuzz test (test/fuzz) with more cases.
// Without --seed a fresh one is drawn and printed, so a failure can be replayed.
import { spawnSync } from "node:child_process";

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const cases = Number(arg("n") ?? 20_000);
const seed = Number(arg("seed") ?? Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz: ${cases} cases, seed ${seed} (replay: npm run fuzz -- --n ${cases} --seed ${seed})`);
const result = spawnSync("npx", ["vitest", "run", "--project", "relay", "test/fuzz/payloads.test.ts", "--testTimeout", String(180_000 + cases * 200)], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_CASES: String(cases) },
});
process.exit(result.status ?? 1);
