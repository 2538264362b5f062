// The in-page half of `make bench`: hwsigner (release wasm) and Ledger's official
// client (ledger-bitcoin@0.3.0, bundled) sign the same PSBTs against ONE simulated
// Ledger in this page. Both reach it through the same metered APDU function, so the
// simulator's own time is measured identically and subtracted, and the APDU counts and
// bytes are counted at the same point. run.mjs drives this through `window.bench`.
// Both are imported on demand, so that `startup()` can time a cold start of each.
let hwsigner;
let ledger;

/** 64-byte HID reports for `n` bytes of APDU or reply (Ledger framing: 5-byte header,
 *  the first report also carries the 2-byte length). */
export function hidReports(n) {
  return n <= 57 ? 1 : 1 + Math.ceil((n - 57) / 59);
}

/** Wraps the simulator: counts APDUs, bytes and reports each way, and its own time. */
function meter(link) {
  const m = { apdus: 0, bytesOut: 0, bytesIn: 0, reportsOut: 0, reportsIn: 0, simMs: 0 };
  const exchange = (apdu) => {
    const t0 = performance.now();
    const reply = link.exchange(apdu);
    m.simMs += performance.now() - t0;
    m.apdus += 1;
    m.bytesOut += apdu.length;
    m.bytesIn += reply.length;
    m.reportsOut += hidReports(apdu.length);
    m.reportsIn += hidReports(reply.length);
    return reply;
  };
  const reset = () => Object.keys(m).forEach((k) => (m[k] = 0));
  return { m, exchange, reset };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

let link;
let meters;
let hw;
let official;
const keys = {};

/** Cold start, in a fresh page: from loading the package to the first answered call
 *  (the master fingerprint), for hwsigner and then for Ledger's stack. The simulator's
 *  construction and its time answering are left out. */
async function startup() {
  let t0 = performance.now();
  hwsigner = await import("../pkg/hwsigner.js");
  await hwsigner.default();
  const initMs = performance.now() - t0;
  link = new hwsigner.SimulatedLedgerLink();
  const mh = meter(link);
  t0 = performance.now();
  await hwsigner.ledgerFromExchange(mh.exchange).masterFingerprint();
  const hwFirst = performance.now() - t0 - mh.m.simMs;
  const mo = meter(link);
  t0 = performance.now();
  ledger = await import("./dist/official.js");
  const importMs = performance.now() - t0;
  t0 = performance.now();
  await ledger.officialClient(mo.exchange).getMasterFingerprint();
  const officialFirst = performance.now() - t0 - mo.m.simMs;
  return {
    hwsigner: { loadMs: initMs, firstCallMs: hwFirst, totalMs: initMs + hwFirst },
    official: { loadMs: importMs, firstCallMs: officialFirst, totalMs: importMs + officialFirst },
  };
}

async function setup() {
  hwsigner = await import("../pkg/hwsigner.js");
  ledger = await import("./dist/official.js");
  await hwsigner.default();
  link = new hwsigner.SimulatedLedgerLink();
  meters = { hwsigner: meter(link), official: meter(link) };
  hw = hwsigner.ledgerFromExchange(meters.hwsigner.exchange);
  official = ledger.officialClient(meters.official.exchange);
  const fpr = await official.getMasterFingerprint();
  for (const [script, path] of [["wpkh", "84'/1'/0'"], ["tr", "86'/1'/0'"]]) {
    const xpub = await official.getExtendedPubkey(`m/${path}`, false);
    keys[script] = `[${fpr}/${path}]${xpub}`;
  }
}

/** One timed signing; returns {ms, hostMs, ...meter} or throws. */
async function signOnce(who, psbt, script, inputs) {
  const meterOf = meters[who];
  meterOf.reset();
  const t0 = performance.now();
  let result;
  if (who === "hwsigner") {
    result = await hw.signPsbt(psbt);
  } else {
    const policy = new ledger.DefaultWalletPolicy(`${script}(@0/**)`, keys[script]);
    result = await official.signPsbt(psbt, policy, null);
  }
  const ms = performance.now() - t0;
  // Outside the timing: every input got its signature. (hwsigner verified each one
  // already; finalizing fails unless all inputs are signed.)
  if (who === "hwsigner") {
    const done = hwsigner.finalizePsbt(result);
    if (!done.tx) throw new Error(`hwsigner: the signed psbt does not finalize`);
  } else if (result.length !== inputs) {
    throw new Error(`official: ${result.length} signatures for ${inputs} inputs`);
  }
  return { ms, hostMs: ms - meterOf.m.simMs, ...meterOf.m };
}

/** Signs `inputs`-input PSBTs `runs` times with each client in `clients`, alternating
 *  which goes first, after one untimed warm-up each. */
async function signing({ inputs, script = "wpkh", runs = 5, clients = ["hwsigner", "official"] }) {
  const psbt = hwsigner.samplePsbt("ledger", inputs, script);
  const samples = Object.fromEntries(clients.map((c) => [c, []]));
  for (const c of clients) await signOnce(c, psbt, script, inputs);
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...clients].reverse() : clients;
    for (const c of order) samples[c].push(await signOnce(c, psbt, script, inputs));
  }
  const out = { inputs, script, runs };
  for (const c of clients) {
    const s = samples[c];
    const last = s[s.length - 1];
    out[c] = {
      hostMs: median(s.map((x) => x.hostMs)),
      totalMs: median(s.map((x) => x.ms)),
      simMs: median(s.map((x) => x.simMs)),
      apdus: last.apdus,
      bytesOut: last.bytesOut,
      bytesIn: last.bytesIn,
      reportsOut: last.reportsOut,
      reportsIn: last.reportsIn,
    };
  }
  return out;
}

window.bench = { startup, setup, signing };
document.getElementById("state").textContent = "ready";
