/**
 * R2 errors on media, for the chaos soak. miniflare's R2 can't be told to fail, so the failure is
 * injected at the lowest boundary the test can reach: the R2 binding's own methods. Every binding
 * object in the isolate shares one prototype, and the pool runs the relay's Durable Objects in the
 * test's isolate (as `runInDurableObject` needs), so replacing `put` and `get` on that prototype
 * reaches the bridge's `env.MEDIA` calls inside the conversation objects, unchanged relay code.
 *
 * Only media keys of a planned conversation fail (`media/<platform>:<conversation id>…`), each rule
 * a bounded number of times on one file, with the error R2 answers for a transient fault; every other call
 * (other keys, the STATE bucket, the test's own reads) goes straight to miniflare. The failures
 * actually thrown are counted, so the soak can prove the wrapper was reached.
 */
import { env } from "cloudflare:test";
import type { Conversation, R2Fault } from "./plan";

type Op = R2Fault["op"];
interface Rule {
  op: Op;
  /** Matches the conversation's part of a media key. */
  pattern: RegExp;
  left: number;
  /** The file it fails, once it has failed one. */
  key?: string;
}

const rules: Rule[] = [];
const injected: Record<Op, number> = { put: 0, get: 0 };
let restore: (() => void) | undefined;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Replace `put` and `get` on the R2 binding's prototype; returns the undo. */
export function installR2Faults(): () => void {
  if (restore) return restore;
  const proto = Object.getPrototypeOf(env.MEDIA) as Record<Op, (key: string, ...rest: unknown[]) => Promise<unknown>>;
  const originals = { put: proto.put, get: proto.get };
  for (const op of ["put", "get"] as const) {
    const original = originals[op];
    proto[op] = function (this: unknown, key: string, ...rest: unknown[]) {
      const rule = typeof key === "string" && key.startsWith("media/") ? ruleFor(op, key) : undefined;
      if (rule) {
        rule.key = key;
        rule.left--;
        injected[op]++;
        // What R2 throws for a transient fault (error 10001); the request never reached storage.
        return Promise.reject(new Error(`${op}: We encountered an internal error. Please try again. (10001)`));
      }
      return original.call(this, key, ...rest);
    };
  }
  restore = () => {
    Object.assign(proto, originals);
    restore = undefined;
  };
  return restore;
}

/**
 * The rule a call meets: one already bound to this key, else the first unbound one of the
 * conversation. A rule binds to the first file it fails, so two rules never add up on one file
 * (each file meets at most the planned one or two failures of each kind).
 */
function ruleFor(op: Op, key: string): Rule | undefined {
  const bound = rules.filter((r) => r.op === op && r.key === key);
  if (bound.length) return bound.find((r) => r.left > 0);
  return rules.find((r) => r.op === op && r.left > 0 && r.key === undefined && r.pattern.test(key));
}

/** The next `times` calls of `op` on a media key of the conversation (one file) fail. */
export function registerR2Fault(conversation: Conversation, fault: R2Fault): void {
  // Media keys begin `media/<platform>:…` and carry the conversation's id between `:` and `:` or `/`.
  const pattern = new RegExp(`^media/${conversation.platform}:(?:[^/]*:)?${escape(conversation.id)}[:/]`);
  rules.push({ op: fault.op, pattern, left: fault.times });
}

export function r2FaultsInjected(): { put: number; get: number; pending: number } {
  return { ...injected, pending: rules.reduce((sum, r) => sum + r.left, 0) };
}
