/**
 * Which URLs a browser run by the relay itself (`/molt screenshot`) may load: http(s) on public
 * hosts only. Refused: other schemes, and the relay's own network — its own hostname, loopback,
 * private, link-local (cloud metadata), CGNAT and unique-local addresses, and names that only
 * mean something inside a network (`localhost`, `*.local`, `*.internal`, `*.localhost`).
 *
 * The check runs on the URL as the WHATWG parser normalises it, so `http://2130706433/` and
 * `http://0x7f.1/` are seen as 127.0.0.1. It does not resolve names: a public name that resolves to a
 * private address is the browser's network to refuse (Browser Rendering has no route into ours).
 */

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const LOCAL_NAME = /(^|\.)(localhost|local|internal|lan|home\.arpa|intranet)$/i;

function ipv4Private(host: string): boolean {
  const parts = host.split(".").map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return false;
  const [a, b] = parts as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function ipv6Private(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (!bare.includes(":")) return false;
  if (bare === "::" || bare === "::1") return true;
  // IPv4-mapped / -translated forms, as the URL parser writes them (::ffff:7f00:1).
  const mapped = /^::(ffff:(0:)?)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (mapped) {
    const hi = parseInt(mapped[3]!, 16);
    const lo = parseInt(mapped[4]!, 16);
    return ipv4Private(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(bare);
}

/** Whether a host is on the relay's own network (or is the relay itself). */
export function isOwnNetworkHost(hostname: string, relayHost?: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return true;
  if (relayHost && host === relayHost.toLowerCase()) return true;
  if (!host.includes(".") && !host.includes(":")) return true; // single-label names resolve only inside a network
  return LOCAL_NAME.test(host) || ipv4Private(host) || ipv6Private(host);
}

/** Checks a URL given by a user. `relayUrl` is the relay's own public URL, when known. */
export function checkBrowsableUrl(input: string, relayUrl?: string): UrlVerdict {
  let url: URL;
  try {
    // Slack writes links as <url> or <url|label>.
    url = new URL(input.trim().replace(/^<([^|>]+)(\|[^>]*)?>$/, "$1"));
  } catch {
    return { ok: false, reason: "that is not a URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: `only http and https URLs, not ${url.protocol}` };
  if (url.username || url.password) return { ok: false, reason: "URLs with credentials are refused" };
  const relayHost = relayUrl ? safeHost(relayUrl) : undefined;
  if (isOwnNetworkHost(url.hostname, relayHost)) return { ok: false, reason: `${url.hostname} is on the relay's own network` };
  return { ok: true, url };
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
