// `make bench`: hwsigner measured against the official clients in one run, so that
// a noisy machine still gives honest ratios. Prints one table and writes
// bench/results.json.
//
//   1. bundle size: pkg/ (wasm + JS glue) next to Ledger's browser stack
//      (@ledgerhq/hw-transport-webhid + ledger-bitcoin@0.3.0) bundled here by esbuild
//   2. Chromium (same page): start-up, then Ledger signing, hwsigner (release wasm) vs
//      ledger-bitcoin, in rotating rounds against one simulated Ledger: total time, and
//      host time = total - the simulator's time measured alone on a replay of the
//      (byte-identical) APDU trace, the same figure for both clients; medians with
//      min/max. Then, in a fresh page, the first 1-input runs of each, one by one.
//   3. native: hwsigner against the simulated Ledger in memory (examples/bench.rs)
//   4. Trezor: hwsigner vs trezorlib against the simulated Trezor on UDP
//
// Environment: RUNS (default 5) timed runs per case, after one warm-up.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants } from "node:zlib";
import { build } from "esbuild";
import { launchChromium, serveDir, watchPage } from "../tests/js/harness.mjs";
import { hwiBench, hwiTable } from "./hwi.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
// Ledger's legacy browser stack (@ledgerhq/hw-app-btc with hw-transport-webhid and the
// polyfills it needs), as measured for issue 14; not rebuilt here (its dependency tree
// is not installed by the bench).
const LEGACY_HW_APP_BTC = { gzip: 142727, date: "2026-12-01" };
const RUNS = Math.max(5, Number(process.env.RUNS || 5));
const started = Date.now();
const log = (s) => console.error(`bench: ${s} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

function sizes(files) {
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
  return {
    files: files.map((f) => f.slice(root.length + 1)),
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length,
  };
}

async function bundleOfficial() {
  mkdirSync(join(here, "dist"), { recursive: true });
  const outfile = join(here, "dist", "official.js");
  await build({
    absWorkingDir: here,
    entryPoints: [join(here, "official_entry.js")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    inject: [join(here, "node_globals.js")],
    alias: { stream: "stream-browserify" },
    define: { global: "globalThis" },
    outfile,
    logLevel: "warning",
  });
  return sizes([outfile]);
}

async function browser() {
  // Cross-origin isolation gives performance.now() its fine resolution.
  const { server, base } = await serveDir(root, {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
  });
  const chromium = await launchChromium(60_000);
  const problems = [];
  const open = async (label) => {
    const page = await chromium.newPage();
    watchPage(page, problems, label);
    page.setDefaultTimeout(600_000);
    await page.goto(`${base}/bench/page.html`);
    await page.waitForFunction(() => window.bench);
    return page;
  };
  try {
    log("start-up, cold, in fresh pages");
    const cold = [];
    for (let i = 0; i < RUNS; i++) {
      const page = await open("startup");
      cold.push(await page.evaluate(() => window.bench.startup()));
      await page.close();
    }
    const startup = {};
    for (const who of ["hwsigner", "official"]) {
      startup[who] = {};
      for (const k of ["loadMs", "firstCallMs", "totalMs"]) startup[who][k] = median(cold.map((c) => c[who][k]));
    }
    log("first 1-input runs in fresh pages");
    const firstRuns = [];
    for (let i = 0; i < 5; i++) {
      const fresh = await open("first-runs");
      await fresh.evaluate(() => window.bench.setup());
      firstRuns.push(await fresh.evaluate(() => window.bench.firstRuns({ inputs: 1, rounds: 12 })));
      await fresh.close();
    }
    log("the previous method's 1-input case in fresh pages");
    const previous = [];
    for (let i = 0; i < 5; i++) {
      const fresh = await open("previous-method");
      await fresh.evaluate(() => window.bench.setup());
      previous.push(await fresh.evaluate(() => window.bench.previousMethod({ inputs: 1, runs: 5 })));
      await fresh.close();
    }
    const page = await open("signing");
    await page.evaluate(() => window.bench.setup());
    const signing = [];
    for (const [inputs, script, clients] of [
      [1, "wpkh"],
      [10, "wpkh"],
      [50, "wpkh"],
      [100, "wpkh"],
      [10, "tr"],
      [500, "wpkh", ["hwsigner"]],
    ]) {
      log(`signing ${inputs} ${script} input(s) in chromium`);
      signing.push(await page.evaluate((c) => window.bench.signing(c), { inputs, script, runs: RUNS, clients }));
    }
    log("memory: 1000 calls and 20 signings of 100 inputs in one page");
    const memory = await page.evaluate(() => window.bench.memory({ calls: 1000, signings: 20, inputs: 100 }));
    const version = chromium.version();
    if (problems.length) throw new Error(`the bench page failed:\n${problems.join("\n")}`);
    return { chromium: version, startup, signing, firstRuns, previous, memory };
  } finally {
    await chromium.close();
    server.close();
  }
}

function native(args) {
  const out = execFileSync(join(root, "target/native-bench/examples/bench"), args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;

function table(title, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  return [`\n${title}`, line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** `median [min-max]` of a spread. */
const fs3 = (x, d = 2) => `${f(x.median, d)} [${f(x.min, d)}-${f(x.max, d)}]`;

function report(r) {
  const out = [];
  const cases = r.chromium.signing.filter((c) => c.official);
  out.push(
    table(
      "Ledger signing in Chromium, same page: TOTAL ms (client + simulator), median [min-max]",
      ["inputs", "hwsigner", "ledger-bitcoin", "ratio", "APDUs (same exchanges)", "of them CONTINUE, P2 1 / 0", "bytes out+in"],
      cases.map((c) => [
        `${c.inputs} ${c.script}`,
        fs3(c.hwsigner.totalMs),
        fs3(c.official.totalMs),
        f(c.hwsigner.totalMs.median / c.official.totalMs.median),
        c.apdus,
        c.continueP2Differs,
        `${c.hwsigner.bytesOut}+${c.hwsigner.bytesIn}`,
      ]),
    ),
  );
  out.push(
    table(
      "Ledger signing: HOST ms = total - simulator alone on the replayed trace (same figure for both), median [min-max]",
      ["inputs", "sim alone (replay)", "hwsigner host", "ledger-bitcoin host", "ratio", "hwsigner native host"],
      cases.map((c) => {
        const nat = r.native.find((n) => n.inputs === c.inputs && n.script === c.script);
        return [
          `${c.inputs} ${c.script}`,
          fs3(c.simMs),
          fs3(c.hwsigner.hostMs),
          fs3(c.official.hostMs),
          f(c.hwsigner.hostMs.median / c.official.hostMs.median),
          nat ? fs3(nat.hwsignerNative.hostMs, 3) : "-",
        ];
      }),
    ),
  );
  out.push(
    table(
      "Diagnostic: the simulator's time metered inside each client's runs (median [min-max]) and its longest single answer",
      ["inputs", "sim alone", "inside hwsigner runs", "longest", "inside ledger-bitcoin runs", "longest"],
      cases.map((c) => [
        `${c.inputs} ${c.script}`,
        fs3(c.simMs),
        fs3(c.hwsigner.simInRunMs),
        f(c.hwsigner.simInRunMaxExchangeMs),
        fs3(c.official.simInRunMs),
        f(c.official.simInRunMaxExchangeMs),
      ]),
    ),
  );
  const pages = r.chromium.firstRuns;
  const at = (i, pick) => median(pages.map(pick(i)));
  // Replays follow each client's run in the order they ran (see firstRuns in page.mjs).
  const replayOf = (p, i, who) => p.replay[2 * i + ((i % 2 === 0) === (who === "hwsigner") ? 0 : 1)];
  out.push(
    table(
      `The first ${pages[0].hwsigner.length} 1-input signings of each client after setup in a fresh page, ` +
        `median over ${pages.length} pages (ms): total, the simulator's time inside the run, its longest single ` +
        "answer, and the same trace replayed right after",
      ["run", "hwsigner total", "sim inside", "longest", "replay", "ledger-bitcoin total", "sim inside", "longest", "replay"],
      pages[0].hwsigner.map((_, i) => [
        i + 1,
        f(at(i, (i) => (p) => p.hwsigner[i].totalMs)),
        f(at(i, (i) => (p) => p.hwsigner[i].simInRunMs)),
        f(at(i, (i) => (p) => p.hwsigner[i].simMaxExchangeMs)),
        f(at(i, (i) => (p) => replayOf(p, i, "hwsigner"))),
        f(at(i, (i) => (p) => p.official[i].totalMs)),
        f(at(i, (i) => (p) => p.official[i].simInRunMs)),
        f(at(i, (i) => (p) => p.official[i].simMaxExchangeMs)),
        f(at(i, (i) => (p) => replayOf(p, i, "official"))),
      ]),
    ),
  );
  out.push(
    table(
      "The previous method (until 2026-11-27), reproduced in 5 fresh pages: 1 input right after setup, one " +
        "untimed run each, 5 alternating runs, host = total - the simulator's time inside the client's own runs (medians, ms)",
      ["page", "hwsigner total", "sim inside", "host", "longest answer", "ledger-bitcoin total", "sim inside", "host", "longest answer"],
      r.chromium.previous.map((p, i) => [
        i + 1,
        f(p.hwsigner.totalMs),
        f(p.hwsigner.simMs),
        f(p.hwsigner.hostMs),
        f(p.hwsigner.simMaxExchangeMs),
        f(p.official.totalMs),
        f(p.official.simMs),
        f(p.official.hostMs),
        f(p.official.simMaxExchangeMs),
      ]),
    ),
  );
  out.push(
    table(
      "Wire floor: 64-byte HID reports each way x 1 ms (USB full-speed interrupt endpoint)",
      ["inputs", "reports out+in", "floor ms", "hwsigner host % of floor", "ledger-bitcoin host % of floor"],
      r.chromium.signing.map((c) => {
        const reports = c.hwsigner.reportsOut + c.hwsigner.reportsIn;
        return [
          `${c.inputs} ${c.script}`,
          `${c.hwsigner.reportsOut}+${c.hwsigner.reportsIn}`,
          reports,
          f((100 * c.hwsigner.hostMs.median) / reports, 1),
          c.official ? f((100 * c.official.hostMs.median) / reports, 1) : "-",
        ];
      }),
    ),
  );
  out.push(
    table(
      "Trezor SignTx against the simulated Trezor on UDP: messages (host to device / device to host);\n" +
        "host CPU ms of the signing thread and wall ms minus simulator time (medians); hwsigner native in memory",
      ["inputs", "messages hw", "messages trezorlib", "hwsigner cpu", "trezorlib cpu", "ratio", "hwsigner wall", "trezorlib wall", "hwsigner in memory", "sim ms"],
      r.trezor.map((c) => [
        `${c.inputs} ${c.script}`,
        `${c.hwsignerNative.requests}/${c.hwsignerNative.replies}`,
        `${c.trezorlib.requests}/${c.trezorlib.replies}`,
        f(c.hwsignerNative.hostCpuMs),
        f(c.trezorlib.hostCpuMs),
        f(c.hwsignerNative.hostCpuMs / c.trezorlib.hostCpuMs),
        f(c.hwsignerNative.hostMs),
        f(c.trezorlib.hostMs),
        f(r.trezorMemory.find((m) => m.inputs === c.inputs && m.script === c.script)?.hwsignerNative.hostMs),
        f(c.hwsignerNative.simMs, 1),
      ]),
    ),
  );
  const b = r.bundle;
  const row = (label, x) => [label, `${x.raw} (${kb(x.raw)})`, `${x.gzip} (${kb(x.gzip)})`];
  out.push(
    table("Bundle size", ["bundle", "raw", "gzip -9"], [
      row("hwsigner (default entry: wasm + JS glue)", b.hwsigner),
      row("hwsigner/full (the default entry's API with the miniscript and musig add-ons)", b.full),
      row("hwsigner/simulator (its own wasm + JS glue + simulator.js)", b.simulator),
      row("Ledger: hw-transport-webhid + ledger-bitcoin (esbuild, minified, polyfills)", b.official),
      [`Ledger legacy: hw-app-btc stack (measured ${LEGACY_HW_APP_BTC.date})`, "-", `${LEGACY_HW_APP_BTC.gzip} (${kb(LEGACY_HW_APP_BTC.gzip)})`],
      ["ratio hwsigner / Ledger", f(b.hwsigner.raw / b.official.raw), f(b.hwsigner.gzip / b.official.gzip)],
      ["ratio hwsigner / hw-app-btc", "-", f(b.hwsigner.gzip / LEGACY_HW_APP_BTC.gzip)],
    ]),
  );
  const m = r.chromium.memory;
  out.push(
    table("Memory in Chromium: the wasm linear memory, after warm-up", ["run", "before (bytes)", "after (bytes)", "growth"], [
      [`${m.calls} signMessage calls (each with an AbortSignal)`, m.callsBefore, m.callsAfter, m.callsAfter - m.callsBefore],
      [`${m.signings} signings of ${m.inputs} inputs`, m.signBefore, m.signAfter, m.signAfter - m.signBefore],
    ]),
  );
  const s = r.chromium.startup;
  out.push(
    table("Start-up in Chromium, cold page (median ms): load to the first answered call", ["client", "load + init", "first call", "total"], [
      ["hwsigner", f(s.hwsigner.loadMs), f(s.hwsigner.firstCallMs), f(s.hwsigner.totalMs)],
      ["ledger-bitcoin", f(s.official.loadMs), f(s.official.firstCallMs), f(s.official.totalMs)],
    ]),
  );
  out.push(
    table(
      "Scaling: hwsigner host ms per input (wpkh)",
      ["inputs", "chromium ms", "chromium ms/input", "native ms", "native ms/input"],
      [10, 100, 500].map((n) => {
        const c = r.chromium.signing.find((x) => x.inputs === n && x.script === "wpkh");
        const nat = r.native.find((x) => x.inputs === n && x.script === "wpkh");
        const natHost = nat.hwsignerNative.hostMs.median;
        return [n, f(c.hwsigner.hostMs.median), f(c.hwsigner.hostMs.median / n, 3), f(natHost, 3), f(natHost / n, 4)];
      }),
    ),
  );
  return out.join("\n");
}

function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model?.trim(),
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
  };
}

log("bundling Ledger's browser stack with esbuild");
const bundle = {
  hwsigner: sizes([join(root, "pkg/hwsigner_bg.wasm"), join(root, "pkg/hwsigner.js")]),
  full: sizes([join(root, "pkg/full/hwsigner_full_bg.wasm"), join(root, "pkg/full/hwsigner_full.js")]),
  simulator: sizes([
    join(root, "pkg/simulator/hwsigner_sim_bg.wasm"),
    join(root, "pkg/simulator/hwsigner_sim.js"),
    join(root, "pkg/simulator.js"),
  ]),
  official: await bundleOfficial(),
};
const chromium = await browser();
log("native Ledger");
const nativeLedger = native(["ledger", String(RUNS)]).ledgerNative;
log("Trezor in memory");
const trezorMemory = native(["trezor-memory", String(RUNS)]).trezorMemory;
log("Trezor on UDP: hwsigner, then trezorlib");
const trezor = native(["trezor", String(RUNS), join(root, ".tools/venv/bin/python"), join(here, "trezorlib_bench.py")]).trezor;
log("hwi vs HWI 3.2.0 (bench/hwi.mjs)");
const hwi = await hwiBench(root, RUNS);
const results = {
  date: new Date().toISOString(),
  machine: machine(),
  runs: RUNS,
  chromium,
  native: nativeLedger,
  trezorMemory,
  trezor,
  bundle,
  hwi,
  seconds: Math.round((Date.now() - started) / 1000),
};
writeFileSync(join(here, "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`hwsigner bench, ${results.date.slice(0, 10)}, ${results.machine.cpu} x${results.machine.cores}, Chromium ${chromium.chromium}, ${RUNS} runs per case`);
console.log(report(results));
console.log(hwiTable(hwi));
console.log(`\nbench: done in ${results.seconds} s; bench/results.json written`);
