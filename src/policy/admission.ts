/**
 * Who may talk to the agent, decided at the edge before a message is stored in a bridge: a
 * refused message never reaches the gateway and never wakes the container.
 *
 * - DMs follow the platform's policy: `pairing` (default: strangers get a code an admin
 *   approves), `allowlist` (only listed senders), or `open`. Admins may always DM.
 * - Channel mentions are open unless a channel allowlist exists; then only listed channels.
 */
import type { ReplyTarget, Sender } from "../adapters/types";
import type { Env } from "../env";
import { MAX_PENDING_PER_PLATFORM, newPairingCode, PAIRING_CODE_TTL_MS } from "./codes";
import type { PolicyStore } from "./store";

export type DmPolicy = "pairing" | "allowlist" | "open";
const DM_POLICIES: readonly DmPolicy[] = ["pairing", "allowlist", "open"];

export interface AdmissionRequest {
  sender: Sender;
  direct: boolean;
  conversation: string;
  reply: ReplyTarget;
}

export type Admission =
  | { allowed: true }
  | { allowed: false; reason: "pairing" | "pairing-full" | "not-allowed" | "channel"; notice: string };

/**
 * `DM_POLICY` is one policy for every platform (`allowlist`) or a list per platform
 * (`slack:open,telegram:pairing`); a bare entry in a list sets the default. Unknown words are
 * ignored: a typo must not open the agent.
 */
export function dmPolicyFor(env: Pick<Env, "DM_POLICY">, platform: string): DmPolicy {
  let policy: DmPolicy = "pairing";
  for (const entry of (env.DM_POLICY ?? "").split(",").map((part) => part.trim().toLowerCase())) {
    const [scope, value] = entry.includes(":") ? entry.split(":", 2) : [undefined, entry];
    if (!DM_POLICIES.includes(value as DmPolicy)) continue;
    if (scope === undefined && policy === "pairing") policy = value as DmPolicy;
    if (scope === platform) return value as DmPolicy;
  }
  return policy;
}

/** `ADMINS`: comma-separated `platform:userId` entries (`access:<email>` for the HTTP surface). */
export function admins(env: Pick<Env, "ADMINS">): Set<string> {
  return new Set(
    (env.ADMINS ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => /^[a-z][a-z0-9_-]*:\S+$/i.test(entry))
      .map(canonicalId),
  );
}

export function isAdmin(env: Pick<Env, "ADMINS">, senderId: string): boolean {
  return admins(env).has(canonicalId(senderId));
}

/** Platform names and emails compare without case; platform user ids keep theirs. */
export function canonicalId(id: string): string {
  const at = id.indexOf(":");
  if (at < 0) return id;
  const platform = id.slice(0, at).toLowerCase();
  const user = id.slice(at + 1);
  return `${platform}:${platform === "access" ? user.toLowerCase() : user}`;
}

export function admit(store: PolicyStore, env: Env, request: AdmissionRequest, now: number): Admission {
  return request.direct ? admitDirect(store, env, request, now) : admitChannel(store, request);
}

function admitChannel(store: PolicyStore, request: AdmissionRequest): Admission {
  const channels = store.channels();
  const listed = (prefix: string) => request.conversation === prefix || request.conversation.startsWith(`${prefix}:`);
  if (channels.length === 0 || channels.some((entry) => listed(entry.value))) return { allowed: true };
  return {
    allowed: false,
    reason: "channel",
    notice: "The assistant isn't enabled in this channel. An admin can enable it with `/molt allow channel here`.",
  };
}

function admitDirect(store: PolicyStore, env: Env, request: AdmissionRequest, now: number): Admission {
  const sender = canonicalId(request.sender.id);
  const platform = request.reply.platform;
  const policy = dmPolicyFor(env, platform);
  if (policy === "open" || isAdmin(env, sender) || store.senderAllowed(sender)) return { allowed: true };
  if (policy === "allowlist") {
    return {
      allowed: false,
      reason: "not-allowed",
      notice: `Sorry, this assistant only talks to people its owner has allowed. Your id is \`${sender}\`: an admin can add you with \`/molt allow ${sender}\`.`,
    };
  }
  store.dropExpiredPairings(now);
  let request_ = store.pairingForSender(sender);
  if (!request_) {
    if (store.pendingCount(platform) >= MAX_PENDING_PER_PLATFORM) {
      return {
        allowed: false,
        reason: "pairing-full",
        notice: "This assistant has too many pending pairing requests right now. Please try again later.",
      };
    }
    request_ = {
      code: uniqueCode(store),
      sender,
      platform,
      ...(request.sender.name ? { name: request.sender.name } : {}),
      reply: request.reply,
      createdAt: now,
      expiresAt: now + PAIRING_CODE_TTL_MS,
    };
    store.addPairing(request_);
    store.appendAudit({ at: now, actor: "relay", action: "pair.request", detail: `from ${sender}`, outcome: "ok" });
  }
  const minutes = Math.max(1, Math.ceil((request_.expiresAt - now) / 60_000));
  return {
    allowed: false,
    reason: "pairing",
    notice:
      `I don't know you yet. Your pairing code is \`${request_.code}\` (valid for ${minutes} min). ` +
      `Ask the assistant's owner to approve it with \`/molt pair approve ${request_.code}\`.`,
  };
}

function uniqueCode(store: PolicyStore): string {
  for (;;) {
    const code = newPairingCode();
    if (!store.pairingByCode(code)) return code;
  }
}
