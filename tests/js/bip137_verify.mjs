// A BIP-137 verifier of another project judges hwsigner's message signatures:
// bitcoinjs-message (npm, pinned in package.json) checks each signature against the
// address of the signing key, its type taken from the signature's header, with
// checkSegwitAlways off: a p2pkh header is only good for a p2pkh address. Reads a JSON
// array of {label, message, address, signature} on stdin; prints one line per case and
// "bip137: N passed, N failed".
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { verify } = require("bitcoinjs-message");

let input = "";
for await (const chunk of process.stdin) input += chunk;
let passed = 0;
let failed = 0;
for (const c of JSON.parse(input)) {
  let ok = false;
  let why = "";
  try {
    ok = verify(c.message, c.address, c.signature, null, false);
  } catch (e) {
    why = String(e && e.message ? e.message : e);
  }
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${c.label}: ${c.address}${why ? ` (${why})` : ""}`);
}
console.log(`bip137: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
