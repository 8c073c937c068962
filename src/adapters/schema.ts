/**
 * Checking inbound payloads at the edge. Every adapter parses its platform's JSON or form body
 * against a valibot schema before reading a field of it: a payload of the wrong shape becomes a
 * PayloadError (400) with a short reason, and the parsers after it work on typed values only.
 *
 * Reasons name the field and what it should have been, never the value that was sent: a payload
 * can be huge, and it is the sender's data.
 */
import * as v from "valibot";
import { PayloadError } from "../errors";

/** The longest reason a 400 carries. */
const MAX_REASON = 160;

/** `value` as `schema` says, or a PayloadError naming the first field that is wrong. */
export function parseShape<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true, abortPipeEarly: true });
  if (result.success) return result.output;
  throw new PayloadError(shapeReason(what, result.issues[0]));
}

function shapeReason(what: string, issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return `${what} has the wrong shape`;
  const path = (issue.path ?? [])
    .map((item) => String(item.key))
    .join(".")
    .slice(0, 60);
  const expected = issue.expected ? ` (expected ${issue.expected})` : "";
  const reason = `${what}: ${path || "body"} is not valid${issue.type === "regex" ? " (unexpected format)" : expected}`;
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

/** JSON text into a value, or a PayloadError. */
export function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new PayloadError(`${what} is not JSON`);
  }
}

/** A platform id: letters, digits, `_`, `-` and `.`; no `:`, which separates a conversation key's parts. */
export const platformId = (max = 64) => v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/), v.maxLength(max));

/** Text a person wrote, bounded well above what the platform itself allows. */
export const boundedText = (max: number) => v.pipe(v.string(), v.maxLength(max));

/** An integer JavaScript holds exactly (Telegram's ids go past 2^31). */
export const safeInteger = v.pipe(v.number(), v.safeInteger());
