// A stand-in for a Cloudflare Access team domain, on loopback, for the admin-surface tests.
//
//   GET  /cdn-cgi/access/certs   the published keys, as Access serves them ({keys, public_cert, public_certs})
//   POST /_test/sign             {payload, kid?, header?} -> {token}: RS256 with that key (a kid never
//                                published gets a fresh, unpublished key: the "unknown kid" case)
//   POST /_test/rotate           a new key, published next to the old ones -> {kid}
//   GET  /_test/stats            {certsFetches}
//
// The private keys never leave this process; tests in workerd ask it to sign.
//
// API:  const access = await startAccessJwks({ port: 0 }); access.url (origin), access.close()

import crypto from "node:crypto";
import http from "node:http";

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

export async function startAccessJwks({ port = 0, host = "127.0.0.1" } = {}) {
  const keys = new Map(); // kid -> { privateKey, jwk, published }
  let certsFetches = 0;
  let counter = 0;
  const addKey = (kid, published) => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    keys.set(kid, { privateKey, published, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }, pem: publicKey.export({ format: "pem", type: "spki" }) });
    return kid;
  };
  addKey(`key-${++counter}`, true);

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://access");
    const json = (status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
    try {
      if (req.method === "GET" && url.pathname === "/cdn-cgi/access/certs") {
        certsFetches++;
        const published = [...keys.values()].filter((key) => key.published);
        return json(200, {
          keys: published.map((key) => key.jwk),
          public_cert: { kid: published[0].jwk.kid, cert: published[0].pem },
          public_certs: published.map((key) => ({ kid: key.jwk.kid, cert: key.pem })),
        });
      }
      if (req.method === "GET" && url.pathname === "/_test/stats") return json(200, { certsFetches });
      if (req.method === "POST" && url.pathname === "/_test/rotate") return json(200, { kid: addKey(`key-${++counter}`, true) });
      if (req.method === "POST" && url.pathname === "/_test/sign") {
        const body = JSON.parse(await readBody(req) || "{}");
        const kid = body.kid ?? [...keys.keys()][0];
        if (!keys.has(kid)) addKey(kid, false);
        const header = { alg: "RS256", typ: "JWT", kid, ...body.header };
        const input = `${b64url(header)}.${b64url(body.payload ?? {})}`;
        const signature = crypto.sign("sha256", Buffer.from(input), keys.get(kid).privateKey).toString("base64url");
        return json(200, { token: `${input}.${signature}` });
      }
      json(404, { error: "not found" });
    } catch (error) {
      json(500, { error: String(error) });
    }
  });
  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${server.address().port}`;
  return { url: origin, close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }) };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
