// Release check: loads the built npm package (pkg/, after wasm-opt) in headless Debian
// Chromium, the way a page would, checks two exported functions and runs the README's
// JavaScript examples (the first one, and MuSig2's) as written. `wasm-pack test`
// runs the debug build without wasm-opt, so this is what catches a release module that
// fails to load (e.g. a bad wasm-opt). Prints "release check: N passed, N failed".
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, serveDir, watchPage } from "./harness.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PAGE = process.env.RELEASE_CHECK_PAGE || "/tests/js/release_check.html";
const TIMEOUT_MS = 60_000;

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

async function main() {
  const problems = []; // page errors, console errors, failed requests
  const checks = [];
  const check = (name, got, want) => {
    const pass = got === want;
    checks.push(pass);
    console.log(`${pass ? "ok  " : "FAIL"} ${name}: got ${JSON.stringify(got)}${pass ? "" : `, want ${JSON.stringify(want)}`}`);
  };

  const { server, base } = await serveDir(ROOT);
  const browser = await launchChromium(TIMEOUT_MS);
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    watchPage(page, problems, "release");

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
      // Known values of the simulator's seed, computed outside hwsigner by embit
      // (tests/python/known_values.py; tests/common/known.rs): the receive address 0 of
      // wpkh m/84'/1'/0', and the RFC 6979 BIP-137 signature of "hello" by m/84'/1'/0'/0/0
      // (a p2wpkh path: header 39-42).
      check("README example: address", ok ? readme.addr : JSON.stringify(readme), "tb1qzdr7s2sr0dwmkwx033r4nujzk86u0cy6fmzfjk");
      check("README example: final transaction", ok && /^02000000000102[0-9a-f]+$/.test(readme.tx) ? "segwit tx, 2 inputs" : JSON.stringify(readme), "segwit tx, 2 inputs");
      check("README example: message signature", ok ? readme.sig : JSON.stringify(readme), "J5tQFWKd0pKCuTDRUH8blWakNdB6/0NnbcVTi/v5yQlBHKwgtIJjr4pVMJslk8v+NkTRi5NAf2YjSENppufWcIs=");
      // The README's MuSig2 example: a taproot address, a final 2-input transaction
      // whose witnesses are one 64-byte signature each (the aggregate, key path).
      const musig = value(r.result.musig ?? { error: "not run" });
      const m = typeof musig === "object" && musig !== null;
      check("README MuSig2 example: address", m && /^tb1p[0-9a-z]{58}$/.test(musig.address) ? "testnet p2tr" : JSON.stringify(musig), "testnet p2tr");
      const keyPathWitness = "0140"; // one item of 64 bytes
      const witnesses = m ? musig.tx.split(keyPathWitness).length - 1 : 0;
      check("README MuSig2 example: final transaction", m && /^02000000000102[0-9a-f]+$/.test(musig.tx) && witnesses >= 2 ? "segwit tx, 2 inputs, key-path witnesses" : JSON.stringify(musig), "segwit tx, 2 inputs, key-path witnesses");
      const refused = value(r.result.defaultMusig ?? { error: "not run" });
      check("default entry: finalizing MuSig2 is unsupported, naming hwsigner/full", typeof refused === "string" && refused.startsWith("unsupported:") && refused.includes("hwsigner/full") ? "unsupported, names hwsigner/full" : refused, "unsupported, names hwsigner/full");
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
