// Shared by the browser tests (bundlers.mjs, demo_e2e.mjs): a static file server on
// 127.0.0.1 with the right MIME types (application/wasm for .wasm, which
// WebAssembly.instantiateStreaming needs), Debian's Chromium through playwright-core
// (never a downloaded browser), and a page watcher that records every error.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};

/// Serves the files under `root` on http://127.0.0.1:<free port>; resolves to
/// `{server, base}`. Directories serve their index.html; nothing outside `root`.
/// `headers` are added to every file served.
export function serveDir(root, headers = {}) {
  root = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://x");
      let path = normalize(join(root, decodeURIComponent(url.pathname)));
      if (path !== root && !path.startsWith(root + sep)) throw Object.assign(new Error(), { code: "EACCES" });
      if ((await stat(path)).isDirectory()) path = join(path, "index.html");
      const body = await readFile(path);
      res.writeHead(200, {
        "content-type": MIME[extname(path)] || "application/octet-stream",
        "cache-control": "no-store",
        ...headers,
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === "EACCES" ? 403 : 404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
}

export function launchChromium(timeout) {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout });
}

/// Records into `problems` every page error, console error, failed request and HTTP
/// error status of `page`, each prefixed with `label`.
export function watchPage(page, problems, label) {
  page.on("pageerror", (e) => problems.push(`${label}: pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${label}: console.error: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problems.push(`${label}: request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${label}: HTTP ${r.status()}: ${r.url()}`);
  });
}

/// A tally of named checks: `check(name, pass, detail)` prints ok/FAIL and a line.
export function tally() {
  const results = [];
  const check = (name, pass, detail = "") => {
    results.push(Boolean(pass));
    console.log(`${pass ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
    return Boolean(pass);
  };
  const counts = () => {
    const passed = results.filter(Boolean).length;
    return { passed, failed: results.length - passed };
  };
  return { check, counts };
}
