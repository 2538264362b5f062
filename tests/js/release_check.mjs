// Release check: loads the built npm package (pkg/, after wasm-opt) in headless Debian
// Chromium, the way a page would, and checks two exported functions. `wasm-pack test`
// runs the debug build without wasm-opt, so this is what catches a release module that
// fails to load (e.g. a bad wasm-opt). Prints "release check: N passed, N failed".
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PAGE = process.env.RELEASE_CHECK_PAGE || "/tests/js/release_check.html";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT_MS = 60_000;
const CHROMIUM_ARGS = [
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
const MIME = {
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

function crateVersion() {
  const toml = readFileSync(join(ROOT, "Cargo.toml"), "utf8");
  let inPackage = false;
  for (const line of toml.split("\n")) {
    if (/^\s*\[/.test(line)) inPackage = line.trim() === "[package]";
    const m = inPackage && line.match(/^\s*version\s*=\s*"([^"]+)"/);
    if (m) return m[1];
  }
  throw new Error("no [package] version in Cargo.toml");
}

// First HID report of a Ledger APDU: channel 0x0101, tag 0x05, sequence 0, the 2-byte
// APDU length, the APDU, zero-padded to 64 bytes.
function expectedLedgerFrame(apduHex) {
  const apdu = Buffer.from(apduHex, "hex");
  const head = Buffer.from([0x01, 0x01, 0x05, 0x00, 0x00, apdu.length >> 8, apdu.length & 0xff]);
  const report = Buffer.alloc(64);
  Buffer.concat([head, apdu]).copy(report);
  return report.toString("hex");
}

function startServer() {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://x");
      let path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
      if (path !== ROOT && !path.startsWith(ROOT + sep)) throw Object.assign(new Error(), { code: "EACCES" });
      if ((await stat(path)).isDirectory()) path = join(path, "index.html");
      const body = await readFile(path);
      res.writeHead(200, {
        "content-type": MIME[extname(path)] || "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === "EACCES" ? 403 : 404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok(server));
  });
}

async function main() {
  const problems = []; // page errors, console errors, failed requests
  const checks = [];
  const check = (name, got, want) => {
    const pass = got === want;
    checks.push(pass);
    console.log(`${pass ? "ok  " : "FAIL"} ${name}: got ${JSON.stringify(got)}${pass ? "" : `, want ${JSON.stringify(want)}`}`);
  };

  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
    });
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });

    await page.goto(base + PAGE, { waitUntil: "load" });
    await page.waitForFunction(() => window.__releaseCheck !== undefined, null, { timeout: TIMEOUT_MS });
    const r = await page.evaluate(() => window.__releaseCheck);
    if (!r.ok) {
      problems.push(`package failed to load: ${r.error}`);
      checks.push(false, false);
    } else {
      const value = (x) => (x.error !== undefined ? `error: ${x.error}` : x.value);
      check("version()", value(r.result.version), crateVersion());
      let frame = value(r.result.ledgerFrame);
      if (Array.isArray(frame)) frame = frame.join("");
      check('ledgerFrame("b001000000")', frame, expectedLedgerFrame("b001000000"));
      // The README's JavaScript example ran as written, on the simulated Ledger.
      const readme = value(r.result.readme ?? { error: "not run" });
      const ok = typeof readme === "object" && readme !== null;
      check("README example: fingerprint", ok ? readme.fpr : readme, "f5acc2fd");
      check("README example: address", ok && /^tb1q[0-9a-z]{38}$/.test(readme.addr) ? "testnet p2wpkh" : JSON.stringify(readme), "testnet p2wpkh");
      check("README example: final transaction", ok && /^02000000000102[0-9a-f]+$/.test(readme.tx) ? "segwit tx, 2 inputs" : JSON.stringify(readme), "segwit tx, 2 inputs");
      check("README example: message signature", ok && readme.sig.length === 88 ? "88 base64 chars" : JSON.stringify(readme), "88 base64 chars");
    }
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }

  for (const p of problems) console.log(`FAIL ${p}`);
  const passed = checks.filter(Boolean).length;
  const failed = checks.length - passed + problems.length;
  console.log(`release check: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

// Whatever hangs (browser start, page load), give up well after the per-step timeouts.
setTimeout(() => {
  console.log(`FAIL watchdog: no result after ${(2 * TIMEOUT_MS) / 1000} s`);
  console.log("release check: 0 passed, 1 failed");
  process.exit(1);
}, 2 * TIMEOUT_MS).unref();

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log("release check: 0 passed, 1 failed");
    process.exit(1);
  },
);
