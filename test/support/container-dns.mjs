/**
 * The emulated container's name resolution, preloaded into its Node processes (NODE_OPTIONS).
 *
 * On Cloudflare, a container's outbound traffic is intercepted on the network, not through a proxy
 * the program must honour: "your outbound configuration decides which DNS lookups resolve", so a
 * virtual host such as `browser.internal` resolves inside the container, and a plain connection
 * to it on port 80 reaches the Worker's handler. Programs that ignore HTTP_PROXY (OpenClaw's CDP
 * socket pins the address its SSRF guard resolved, and connects to it directly) depend on that.
 *
 * Here: a lookup asks the container's egress proxy (egress-proxy.mjs) whether the name is
 * intercepted; if so it resolves to the container's own address, where the proxy also listens on
 * port 80 and routes by the Host header. Any other name resolves as usual.
 */
import dns from "node:dns";
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";

const resolver = process.env.MOLT_TEST_EGRESS_RESOLVER;

function intercepted(hostname) {
  return new Promise((resolve) => {
    const request = http.get(`${resolver}/_resolve?host=${encodeURIComponent(hostname)}`, { agent: false }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(body).address ?? null);
        } catch {
          resolve(null);
        }
      });
    });
    request.on("error", () => resolve(null));
  });
}

const isName = (hostname) => typeof hostname === "string" && /[a-z]/i.test(hostname) && hostname !== "localhost" && !hostname.includes(":");

if (resolver) {
  const lookup = dns.lookup;
  dns.lookup = function (hostname, options, callback) {
    if (typeof options === "function") [callback, options] = [options, {}];
    if (typeof options === "number") options = { family: options };
    if (!isName(hostname)) return lookup.call(this, hostname, options, callback);
    intercepted(hostname).then((address) => {
      if (!address) return lookup.call(this, hostname, options, callback);
      if (options?.all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    });
  };
  const lookupPromise = dns.promises.lookup;
  dns.promises.lookup = async function (hostname, options = {}) {
    if (typeof options === "number") options = { family: options };
    const address = isName(hostname) ? await intercepted(hostname) : null;
    if (!address) return lookupPromise.call(this, hostname, options);
    return options?.all ? [{ address, family: 4 }] : { address, family: 4 };
  };
  syncBuiltinESMExports();
}
