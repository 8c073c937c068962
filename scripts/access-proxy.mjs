// What Cloudflare Access does in front of the Worker, on loopback, for `npm run dev`: every
// request to this proxy is forwarded to the Worker with a `Cf-Access-Jwt-Assertion` for one dev
// identity, signed by the local Access stand-in (test/support/access-jwks.mjs) that the Worker is
// configured to trust (ACCESS_TEAM_DOMAIN). The Worker verifies it exactly as in production:
// there is no bypass in the Worker, and the Worker's own port stays without a console login.
//
// API: const proxy = await startAccessProxy({ port, target, accessUrl, audience, email });
//      proxy.url; await proxy.close()

import http from "node:http";
import { randomUUID } from "node:crypto";

/** Access's app tokens last a session; the stand-in's last an hour and are renewed before they end. */
const TOKEN_LIFETIME_S = 3600;

export async function startAccessProxy({ port = 0, host = "127.0.0.1", target, accessUrl, audience, email }) {
  let token;
  let expires = 0;
  async function accessToken() {
    const now = Math.floor(Date.now() / 1000);
    if (token && now < expires - 300) return token;
    const payload = { aud: [audience], email, exp: now + TOKEN_LIFETIME_S, iat: now, nbf: now, iss: accessUrl, sub: randomUUID(), type: "app", identity_nonce: randomUUID() };
    const response = await fetch(`${accessUrl}/_test/sign`, { method: "POST", body: JSON.stringify({ payload }) });
    ({ token } = await response.json());
    expires = payload.exp;
    return token;
  }

  const upstream = new URL(target);
  const server = http.createServer(async (req, res) => {
    try {
      const headers = { ...req.headers };
      delete headers["cf-access-jwt-assertion"]; // only Access sets it
      headers["cf-access-jwt-assertion"] = await accessToken();
      // The Host header stays the browser's: the Worker sees the address the browser used, as
      // behind Access it sees the public hostname (its Origin checks compare against it).
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on("error", (error) => fail(res, error));
      req.pipe(forward);
    } catch (error) {
      fail(res, error);
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

function fail(res, error) {
  if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
  res.end(`access proxy: ${error.message}`);
}
