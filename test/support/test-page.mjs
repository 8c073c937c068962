/**
 * A local web page with known content, for the browser tests: a red page with a 200×200 blue
 * square at its top-left corner and a known title. Reached by the test Chromium as
 * `http://page.molt.test:<port>/` (the test wrapper maps *.molt.test to loopback, see
 * test/support/chromium.mjs), so it is not a loopback address by name.
 */
import http from "node:http";

export const TEST_PAGE_HOST = "page.molt.test";
export const TEST_PAGE_TITLE = "molt-relay test page";
/** Colours at known spots of a 1280×800 screenshot. */
export const TEST_PAGE_PIXELS = [
  { x: 100, y: 100, rgb: [0, 0, 255] },
  { x: 640, y: 400, rgb: [255, 0, 0] },
];

const html = `<!doctype html><html><head><title>${TEST_PAGE_TITLE}</title>
<style>html,body{margin:0;height:100%;background:#ff0000}#square{position:absolute;left:0;top:0;width:200px;height:200px;background:#0000ff}</style>
</head><body><div id="square"></div><p style="position:absolute;top:300px;left:300px;font:32px sans-serif;color:#fff">The answer is 42.</p></body></html>`;

export async function startTestPage({ port = 0 } = {}) {
  const server = http.createServer((req, res) => {
    if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(html);
    } else if (req.url === "/redirect-to-loopback") {
      res.writeHead(302, { location: `http://127.0.0.1:${server.address().port}/` });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.keepAliveTimeout = 65_000; // longer than workerd keeps an idle connection, so a reused socket is never closed under it
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address();
  return {
    url: `http://${TEST_PAGE_HOST}:${bound}/`,
    port: bound,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
