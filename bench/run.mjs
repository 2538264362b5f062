// `make bench`: hwsigner measured against the official clients in one run, so that
// a noisy machine still gives honest ratios. Prints one table and writes
// bench/results.json.
//
//   1. bundle size: pkg/ (wasm + JS glue) next to Ledger's browser stack
//      (@ledgerhq/hw-transport-webhid + ledger-bitcoin@0.3.0) bundled here by esbuild
//   2. Chromium (same page): start-up, then Ledger signing host cost, hwsigner (release
//      wasm) vs ledger-bitcoin, alternating runs against one simulated Ledger
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
    const version = chromium.version();
    if (problems.length) throw new Error(`the bench page failed:\n${problems.join("\n")}`);
    return { chromium: version, startup, signing };
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

function report(r) {
  const out = [];
  const ledgerRows = r.chromium.signing
    .filter((c) => c.official)
    .map((c) => {
      const nat = r.native.find((n) => n.inputs === c.inputs && n.script === c.script);
      return [
        `${c.inputs} ${c.script}`,
        f(c.hwsigner.hostMs),
        f(c.official.hostMs),
        f(c.hwsigner.hostMs / c.official.hostMs),
        f(nat?.hwsignerNative.hostMs),
        `${c.hwsigner.apdus} / ${c.official.apdus}`,
        `${c.hwsigner.bytesOut}+${c.hwsigner.bytesIn} / ${c.official.bytesOut}+${c.official.bytesIn}`,
        f(c.hwsigner.simMs, 1),
      ];
    });
  out.push(
    table(
      "Ledger signing, host ms (median; simulator time subtracted), Chromium, same page",
      ["inputs", "hwsigner", "ledger-bitcoin", "ratio", "native", "APDUs hw/official", "bytes out+in hw / official", "sim ms"],
      ledgerRows,
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
          f((100 * c.hwsigner.hostMs) / reports, 1),
          c.official ? f((100 * c.official.hostMs) / reports, 1) : "-",
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
  out.push(
    table("Bundle size", ["bundle", "raw", "gzip -9"], [
      ["hwsigner (pkg: wasm + JS glue)", `${b.hwsigner.raw} (${kb(b.hwsigner.raw)})`, `${b.hwsigner.gzip} (${kb(b.hwsigner.gzip)})`],
      ["Ledger: hw-transport-webhid + ledger-bitcoin (esbuild, minified, polyfills)", `${b.official.raw} (${kb(b.official.raw)})`, `${b.official.gzip} (${kb(b.official.gzip)})`],
      ["ratio hwsigner / Ledger", f(b.hwsigner.raw / b.official.raw), f(b.hwsigner.gzip / b.official.gzip)],
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
        return [n, f(c.hwsigner.hostMs), f(c.hwsigner.hostMs / n, 3), f(nat.hwsignerNative.hostMs), f(nat.hwsignerNative.hostMs / n, 4)];
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
