// hwi (this crate's HWI command line) against HWI 3.2.0 itself (.tools/hwi-venv):
// whole-process wall time, median of RUNS runs each (the two alternate), for the
// calls wallets make most: enumerate, getxpub and a 3-input signtx, against the same
// simulators on the emulators' sockets (hwsigner simulate: Speculos 127.0.0.1:9999,
// Trezor UDP 127.0.0.1:21324). Every case's JSON is checked equal first.
//
// `make bench` runs it (from run.mjs); alone: `node bench/hwi.mjs` (builds what it
// needs with cargo, profile native-bench).

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function simulate(bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["--json", "simulate", ...args], { stdio: ["ignore", "pipe", "ignore"] });
    const lines = createInterface({ input: child.stdout });
    child.on("exit", (code) => reject(new Error(`hwsigner simulate ${args.join(" ")} exited (${code}): is the port taken?`)));
    lines.once("line", (line) => (line.includes("simulator") ? resolve(child) : reject(new Error(line))));
  });
}

function timed(bin, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, stdout: r.stdout, status: r.status };
}

/** Runs the comparison; returns `{ hwiVersion, cases: [{ name, hwiMs, oursMs, ratio }] }`. */
export async function hwiBench(root, runs) {
  const hwi = join(root, ".tools/hwi-venv/bin/hwi");
  if (!existsSync(hwi)) throw new Error(`${hwi} is missing: run make setup`);
  execFileSync("cargo", ["build", "--profile", "native-bench", "--features", "cli", "--bin", "hwi", "--bin", "hwsigner"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const ours = join(root, "target/native-bench/hwi");
  const hwsigner = join(root, "target/native-bench/hwsigner");
  const ledgerPsbt = execFileSync(hwsigner, ["sample-psbt", "--inputs", "3"], { encoding: "utf8" }).trim();
  const trezorPsbt = execFileSync(hwsigner, ["--device", "simulator:trezor", "sample-psbt", "--inputs", "3"], {
    encoding: "utf8",
  }).trim();
  const sims = [await simulate(hwsigner, ["ledger"]), await simulate(hwsigner, ["trezor"])];
  try {
    const L = ["-d", "tcp:127.0.0.1:9999", "-t", "ledger", "--chain", "test"];
    const T = ["-d", "udp:127.0.0.1:21324", "-t", "trezor", "--chain", "test"];
    const cases = [
      ["enumerate (both simulators)", ["--emulators", "enumerate"]],
      ["getxpub, Ledger", [...L, "getxpub", "m/84h/1h/0h"]],
      ["getxpub, Trezor", [...T, "getxpub", "m/84h/1h/0h"]],
      ["signtx 3 wpkh inputs, Ledger", [...L, "signtx", ledgerPsbt]],
      ["signtx 3 wpkh inputs, Trezor", [...T, "signtx", trezorPsbt]],
    ];
    const out = [];
    for (const [name, args] of cases) {
      const first = [timed(hwi, args), timed(ours, args)];
      if (first[0].stdout !== first[1].stdout || first[0].status !== first[1].status) {
        throw new Error(`${name}: hwi and HWI differ\n  HWI:  ${first[0].stdout}\n  ours: ${first[1].stdout}`);
      }
      if (first[0].stdout.includes('"error"')) throw new Error(`${name}: ${first[0].stdout}`);
      const h = [];
      const o = [];
      for (let i = 0; i < runs; i++) {
        h.push(timed(hwi, args).ms);
        o.push(timed(ours, args).ms);
      }
      const hwiMs = median(h);
      const oursMs = median(o);
      out.push({ name, hwiMs, oursMs, ratio: oursMs / hwiMs });
    }
    const hwiVersion = execFileSync(hwi, ["--version"], { encoding: "utf8" }).trim();
    return { hwiVersion, runs, cases: out };
  } finally {
    for (const s of sims) s.kill();
  }
}

/** The table `make bench` prints. */
export function hwiTable(r) {
  const head = ["hwi command, whole process (ms)", r.hwiVersion, "hwsigner hwi", "ratio"];
  const rows = r.cases.map((c) => [c.name, c.hwiMs.toFixed(1), c.oursMs.toFixed(1), c.ratio.toFixed(3)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  return [`\n${head[0]}, median of ${r.runs}`, line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const r = await hwiBench(root, Math.max(5, Number(process.env.RUNS || 5)));
  console.log(hwiTable(r));
}
