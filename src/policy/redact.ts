/**
 * Keeping secrets out of anything a person may read: chat replies, HTTP answers, the audit log.
 * Every configured secret is replaced by name, then token-shaped strings are masked by pattern
 * (a key the relay doesn't know about, e.g. printed by the gateway, is still caught).
 */
import type { Env } from "../env";

/** Env keys whose values are secrets: tokens, signing secrets, API keys. */
const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD/i;
/** Shorter values are too likely to occur by chance to be replaced everywhere. */
const MIN_SECRET_LENGTH = 6;

const PATTERNS: [RegExp, string][] = [
  [/\bxox[abeoprs]-[A-Za-z0-9-]{6,}/g, "[redacted]"],
  [/\bsk-[A-Za-z0-9_-]{12,}/g, "[redacted]"],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, "[redacted jwt]"],
  [/((?:token|secret|password|api[_-]?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]{6,}/gi, "$1[redacted]"],
];

export function redactSecrets(text: string, env: Partial<Env>): string {
  let out = text;
  const secrets = Object.entries(env)
    .filter((entry): entry is [string, string] => SECRET_NAME.test(entry[0]) && typeof entry[1] === "string")
    .filter(([, value]) => value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b[1].length - a[1].length);
  for (const [name, value] of secrets) out = out.split(value).join(`[${name}]`);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
