// The in-page half of `make bench`: hwsigner (release wasm) and Ledger's official
// client (ledger-bitcoin@0.3.0, bundled) sign the same PSBTs against ONE simulated
// Ledger in this page. Both reach it through the same metered APDU function, so the
// simulator's own time is measured identically and subtracted, and the APDU counts and
// bytes are counted at the same point. run.mjs drives this through `window.bench`.
// Both are imported on demand, so that `startup()` can time a cold start of each.
let hwsigner;
let simulator; // the hwsigner/simulator entry (SimulatedLedgerLink, samplePsbt)
let ledger;

/** 64-byte HID reports for `n` bytes of APDU or reply (Ledger framing: 5-byte header,
 *  the first report also carries the 2-byte length). */
export function hidReports(n) {
  return n <= 57 ? 1 : 1 + Math.ceil((n - 57) / 59);
}

/** Wraps the simulator: counts APDUs, bytes and reports each way, and the time the
 *  simulator takes inside this client's run (`simMs`, with the longest single answer);
 *  `record()` keeps the APDUs and replies of the next run. */
function meter(link) {
  const m = { apdus: 0, bytesOut: 0, bytesIn: 0, reportsOut: 0, reportsIn: 0, simMs: 0, simMaxMs: 0 };
  let trace = null;
  const exchange = (apdu) => {
    const t0 = performance.now();
    const reply = link.exchange(apdu);
    const dt = performance.now() - t0;
    m.simMs += dt;
    m.simMaxMs = Math.max(m.simMaxMs, dt);
    m.apdus += 1;
    m.bytesOut += apdu.length;
    m.bytesIn += reply.length;
    m.reportsOut += hidReports(apdu.length);
    m.reportsIn += hidReports(reply.length);
    if (trace) trace.push([Uint8Array.from(apdu), Uint8Array.from(reply)]);
    return reply;
  };
  const reset = () => Object.keys(m).forEach((k) => (m[k] = 0));
  const record = () => (trace = []);
  const take = () => {
    const t = trace;
    trace = null;
    return t;
  };
  return { m, exchange, reset, record, take };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

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
  simulator = await import("../pkg/simulator.js");
  await simulator.default();
  link = new simulator.SimulatedLedgerLink();
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
  simulator = await import("../pkg/simulator.js");
  ledger = await import("./dist/official.js");
  await simulator.default();
  link = new simulator.SimulatedLedgerLink();
  meters = { hwsigner: meter(link), official: meter(link) };
  hw = hwsigner.ledgerFromExchange(meters.hwsigner.exchange);
  official = ledger.officialClient(meters.official.exchange);
  const fpr = await official.getMasterFingerprint();
  for (const [script, path] of [["wpkh", "84'/1'/0'"], ["tr", "86'/1'/0'"]]) {
    const xpub = await official.getExtendedPubkey(`m/${path}`, false);
    keys[script] = `[${fpr}/${path}]${xpub}`;
  }
}

/** One timed signing: total ms and the meter's counts; throws unless every input got
 *  its signature. */
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
  return { ms, ...meterOf.m };
}

/** The simulator alone on a recorded trace: the same simulated Ledger the clients use
 *  (idle between signings, its key cache as warm as theirs) answers the trace's APDUs
 *  back to back, with no client code in between; its replies must be the recorded
 *  ones. Returns the ms it took. */
function replayOnce(trace) {
  const replies = new Array(trace.length);
  const t0 = performance.now();
  for (let i = 0; i < trace.length; i++) replies[i] = link.exchange(trace[i][0]);
  const ms = performance.now() - t0;
  replies.forEach((r, i) => {
    if (!sameBytes(r, trace[i][1])) throw new Error(`replay: reply ${i} differs from the recording`);
  });
  return ms;
}

/** The same APDU but for P2 of the framework's CONTINUE (`f8 01 00 P2`): the protocol
 *  version, 1 in hwsigner (and in Ledger's Rust and Python clients, as the recorded
 *  vectors show), 0 in ledger-bitcoin@0.3.0 (JS); the app ignores it there. */
const sameApdu = (a, b) =>
  sameBytes(a, b) ||
  (a.length === b.length && a[0] === 0xf8 && a[1] === 0x01 && a.every((x, i) => i === 3 || x === b[i]));

/** Records one signing's APDU trace per client; they must be the same exchanges (the
 *  same replies to the same APDUs, up to the P2 of CONTINUE, see `sameApdu`), so one
 *  trace measures the simulator for both. */
async function traceOf(clients, psbt, script, inputs) {
  const traces = [];
  for (const c of clients) {
    meters[c].record();
    await signOnce(c, psbt, script, inputs);
    traces.push(meters[c].take());
  }
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  let continueP2Differs = 0;
  traces.forEach((t, c) => {
    const i = t.findIndex(
      ([q, r], i) => !traces[0][i] || !sameApdu(q, traces[0][i][0]) || !sameBytes(r, traces[0][i][1]),
    );
    if (i >= 0 || t.length !== traces[0].length) {
      const where = i < 0 ? `after ${Math.min(t.length, traces[0].length)}` : `at ${i}: ${hex(t[i][0]).slice(0, 40)}`;
      throw new Error(`the exchanges of ${clients[0]} and ${clients[c]} differ ${where}`);
    }
    continueP2Differs += t.filter(([q], i) => !sameBytes(q, traces[0][i][0])).length;
  });
  return { trace: traces[0], continueP2Differs };
}

/** `inputs`-input PSBTs signed `runs` times by each client in `clients`, after `warmup`
 *  + 2 untimed runs of each (the same number for every client; `warmup` for the replay).
 *  Each round runs the clients and a replay of the recorded trace, in an order that
 *  rotates from round to round. The simulator's time is the replay's median, and that
 *  same figure is subtracted from every client's total: host = total - replay. */
async function signing({ inputs, script = "wpkh", runs = 5, warmup = 3, clients = ["hwsigner", "official"] }) {
  const psbt = simulator.samplePsbt("ledger", inputs, script);
  // A first run each: hwsigner reads the fingerprint and account key it infers the
  // policy from once per connection (on the first signing, in setup's case).
  for (const c of clients) await signOnce(c, psbt, script, inputs);
  const { trace, continueP2Differs } = await traceOf(clients, psbt, script, inputs);
  const steps = [...clients, "replay"];
  const step = async (s) => (s === "replay" ? { ms: replayOnce(trace) } : signOnce(s, psbt, script, inputs));
  for (let w = 0; w < warmup; w++) for (const s of steps) await step(s);
  const samples = Object.fromEntries(steps.map((s) => [s, []]));
  for (let r = 0; r < runs; r++) {
    const order = steps.map((_, i) => steps[(i + r) % steps.length]);
    for (const s of order) samples[s].push(await step(s));
  }
  const simMs = spread(samples.replay.map((x) => x.ms));
  const out = { inputs, script, runs, warmup, apdus: trace.length, continueP2Differs, simMs };
  for (const c of clients) {
    const s = samples[c];
    const last = s[s.length - 1];
    out[c] = {
      totalMs: spread(s.map((x) => x.ms)),
      hostMs: spread(s.map((x) => x.ms - simMs.median)),
      // Diagnostic: the simulator's time as metered inside this client's runs.
      simInRunMs: spread(s.map((x) => x.simMs)),
      simInRunMaxExchangeMs: median(s.map((x) => x.simMaxMs)),
      apdus: last.apdus,
      bytesOut: last.bytesOut,
      bytesIn: last.bytesIn,
      reportsOut: last.reportsOut,
      reportsIn: last.reportsIn,
    };
  }
  return out;
}

/** From a fresh page (a fresh wasm instance and JIT): the first `rounds` 1-input
 *  signings of each client, one after the other, each followed by a replay of its
 *  trace: how each figure settles as the engine warms up. */
async function firstRuns({ inputs = 1, script = "wpkh", rounds = 12 }) {
  const psbt = simulator.samplePsbt("ledger", inputs, script);
  const out = { inputs, script, hwsigner: [], official: [], replay: [] };
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? ["official", "hwsigner"] : ["hwsigner", "official"]) {
      meters[c].record();
      const x = await signOnce(c, psbt, script, inputs);
      const trace = meters[c].take();
      out[c].push({ totalMs: x.ms, simInRunMs: x.simMs, simMaxExchangeMs: x.simMaxMs });
      out.replay.push(replayOnce(trace));
    }
  }
  return out;
}

/** The method of the bench before 2026-12 (README's run of 2026-11-27), reproduced to
 *  explain its 1-input figures: right after setup, one untimed run each, then `runs`
 *  alternating timed runs; host = total - the simulator's time metered inside that
 *  client's own runs. */
async function previousMethod({ inputs = 1, script = "wpkh", runs = 5 }) {
  const psbt = simulator.samplePsbt("ledger", inputs, script);
  const clients = ["hwsigner", "official"];
  for (const c of clients) await signOnce(c, psbt, script, inputs);
  const samples = { hwsigner: [], official: [] };
  for (let r = 0; r < runs; r++) {
    for (const c of r % 2 ? [...clients].reverse() : clients) samples[c].push(await signOnce(c, psbt, script, inputs));
  }
  const out = {};
  for (const c of clients) {
    const s = samples[c];
    out[c] = {
      totalMs: median(s.map((x) => x.ms)),
      simMs: median(s.map((x) => x.simMs)),
      hostMs: median(s.map((x) => x.ms - x.simMs)),
      simMaxExchangeMs: Math.max(...s.map((x) => x.simMaxMs)),
    };
  }
  return out;
}

/** Memory: the wasm module's linear memory (bytes) before and after `calls` message
 *  signings and `signings` signings of an `inputs`-input PSBT, each call with an
 *  AbortSignal, after a warm-up. Linear memory never shrinks, so growth shows any leak
 *  that outgrows the allocator's free lists; tests/web/memory.rs counts live blocks. */
async function memory({ calls = 1000, signings = 20, inputs = 100 }) {
  const mem = (await hwsigner.default()).memory;
  const bytes = () => mem.buffer.byteLength;
  const { signal } = new AbortController();
  const call = () => hw.signMessage("m/84'/1'/0'/0/0", "hello", { signal });
  for (let i = 0; i < 50; i++) await call();
  const callsBefore = bytes();
  for (let i = 0; i < calls; i++) await call();
  const callsAfter = bytes();
  const psbt = simulator.samplePsbt("ledger", inputs, "wpkh");
  await hw.signPsbt(psbt, { signal });
  const signBefore = bytes();
  for (let i = 1; i < signings; i++) await hw.signPsbt(psbt, { signal });
  return { calls, callsBefore, callsAfter, signings, inputs, signBefore, signAfter: bytes() };
}

window.bench = { startup, setup, signing, firstRuns, previousMethod, memory };
document.getElementById("state").textContent = "ready";
