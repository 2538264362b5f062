// Bundlers: the npm package (pkg/, built by `make build`) used the way an app uses it.
// `npm pack`s pkg/, installs the tarball into a Vite app and a webpack 5 app with DEFAULT
// configuration (Vite: index.html + main.js, `vite build`; webpack: `webpack --mode
// production`, no config file, no plugins, no experiments), builds both, serves each
// dist/ on 127.0.0.1 and opens it in headless Debian Chromium. Each app calls `init()`,
// reads the simulated Ledger's master fingerprint and signs the test PSBT it is given
// (tests/js/fixtures/wpkh_psbt.b64, from `cargo run --example test_psbt`); the test
// checks the fingerprint, that every input got a partial signature from its own key,
// and that finalizePsbt() gives a transaction. Then the app imports `hwsigner/full` on
// demand (its own wasm, a chunk of its own): the default entry refuses to derive a
// miniscript policy's address (`unsupported`, naming hwsigner/full), the full entry
// derives it. Prints "bundlers: N passed, N failed".
//
// Vite and webpack come pinned from tests/js/package.json (installed by
// scripts/setup.sh with npm ci); the apps live under target/bundlers/ and install only
// the local tarball, so re-runs need no network.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, serveDir, tally, watchPage } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const PKG = join(ROOT, "pkg");
const WORK = join(ROOT, "target", "bundlers");
const BIN = join(HERE, "node_modules", ".bin");
const TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 300_000;
const LEDGER_FINGERPRINT = "f5acc2fd"; // Speculos' test seed
const PSBT = readFileSync(join(HERE, "fixtures", "wpkh_psbt.b64"), "utf8").trim();

const { check, counts } = tally();

// The app's code, the same for both bundlers: bare imports of the package's entries
// (the default one and hwsigner/simulator, each with its own wasm; hwsigner/full on
// demand).
const MAIN_JS = `import init, { finalizePsbt, version } from "hwsigner";
import initSimulator, { simulatedDevice } from "hwsigner/simulator";

const out = document.getElementById("out");
const report = (r) => {
  window.__app = r;
  out.textContent = JSON.stringify(r, null, 2);
};

// Signs a PSBT (base64) with the simulated Ledger; resolves to the signed PSBT and the
// finalized transaction (hex).
async function sign(psbt) {
  const dev = simulatedDevice({ vendor: "ledger" });
  const signed = await dev.signPsbt(psbt, {});
  const { tx } = finalizePsbt(signed);
  return { signed, tx };
}

async function start() {
  await init();
  await initSimulator();
  const dev = simulatedDevice({ vendor: "ledger" });
  const fingerprint = await dev.masterFingerprint();
  return { ok: true, version: version(), fingerprint };
}

// A miniscript policy's address, registered on the simulated Ledger and checked by the
// host: only an entry with the miniscript add-on derives it.
async function policyAddress() {
  const dev = simulatedDevice({ vendor: "ledger" });
  const fpr = await dev.masterFingerprint();
  const xpub = await dev.xpub("m/48'/1'/0'/2'");
  const policy = { name: "Timelocked", template: "wsh(and_v(v:pk(@0/**),older(144)))", keys: [\`[\${fpr}/48'/1'/0'/2']\${xpub}\`] };
  const { hmac } = await dev.registerPolicy(policy);
  return dev.address({ ...policy, hmac, index: 0 });
}

window.full = async () => {
  let refused;
  try {
    refused = \`derived \${await policyAddress()}\`;
  } catch (e) {
    refused = \`\${e?.code}: \${e?.message}\`;
  }
  try {
    const full = await import("hwsigner/full");
    await initSimulator({ entry: full });
    return { ok: true, refused, address: await policyAddress(), version: full.version() };
  } catch (e) {
    return { ok: false, refused, error: \`\${e?.code ?? "error"}: \${e?.message ?? e}\` };
  }
};

window.sign = (psbt) =>
  sign(psbt).then(
    (r) => ({ ok: true, ...r }),
    (e) => ({ ok: false, error: \`\${e?.code ?? "error"}: \${e?.message ?? e}\` }),
  );
start().then(report, (e) => report({ ok: false, error: \`\${e?.code ?? "error"}: \${e?.message ?? e}\` }));
`;

const indexHtml = (script) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>hwsigner bundler app</title></head>
<body><pre id="out">loading…</pre>
<script type="module" src="${script}"></script>
</body>
</html>
`;

// The apps: where their files go, the build command, what to serve.
const APPS = [
  {
    name: "vite",
    files: { "index.html": indexHtml("/main.js"), "main.js": MAIN_JS },
    build: [join(BIN, "vite"), ["build", "--logLevel", "warn"]],
    afterBuild: () => {},
  },
  {
    name: "webpack",
    // webpack's defaults: entry ./src/index.js, output ./dist/main.js. No
    // html-webpack-plugin (no plugins): the page is written next to the bundle.
    files: { "src/index.js": MAIN_JS },
    build: [join(BIN, "webpack"), ["--mode", "production"]],
    afterBuild: (dir) => writeFileSync(join(dir, "dist", "index.html"), indexHtml("./main.js")),
  },
];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: BUILD_TIMEOUT_MS,
    env: {
      ...process.env,
      npm_config_fund: "false",
      npm_config_audit: "false",
      npm_config_update_notifier: "false",
      NO_COLOR: "1",
    },
  });
  const output = `${r.stdout || ""}${r.stderr || ""}`.trim();
  if (r.error || r.status !== 0) {
    throw new Error(`${[cmd, ...args].join(" ")} (in ${cwd}) failed: ${r.error?.message || `exit ${r.status}`}\n${output}`);
  }
  return output;
}

// Minimal PSBT (v0) reader: the input maps, as lists of {type, key, value}.
function readVarint(buf, o) {
  const b = buf[o];
  if (b < 0xfd) return [b, o + 1];
  if (b === 0xfd) return [buf.readUInt16LE(o + 1), o + 3];
  if (b === 0xfe) return [buf.readUInt32LE(o + 1), o + 5];
  return [Number(buf.readBigUInt64LE(o + 1)), o + 9];
}
function readMap(buf, o) {
  const entries = [];
  for (;;) {
    let klen, vlen;
    [klen, o] = readVarint(buf, o);
    if (klen === 0) return [entries, o];
    const key = buf.subarray(o, o + klen);
    o += klen;
    [vlen, o] = readVarint(buf, o);
    const value = buf.subarray(o, o + vlen);
    o += vlen;
    if (o > buf.length) throw new Error("truncated PSBT");
    entries.push({ type: key[0], key, value });
  }
}
function psbtInputs(b64) {
  const buf = Buffer.from(b64, "base64");
  if (buf.subarray(0, 5).toString("hex") !== "70736274ff") throw new Error("not a PSBT (bad magic)");
  let [global, o] = readMap(buf, 5);
  const tx = global.find((e) => e.type === 0x00 && e.key.length === 1)?.value;
  if (!tx) throw new Error("PSBT without an unsigned transaction");
  const [n] = readVarint(tx, 4); // after the version; an unsigned tx has no segwit marker
  const inputs = [];
  for (let i = 0; i < n; i++) {
    let m;
    [m, o] = readMap(buf, o);
    inputs.push(m);
  }
  return inputs;
}

// Every input has a partial signature (DER, SIGHASH_ALL) by a key of its own BIP-32
// derivations. Returns a problem description, or "".
function partialSignatureProblem(signedB64) {
  const inputs = psbtInputs(signedB64);
  if (inputs.length === 0) return "no inputs";
  for (const [i, input] of inputs.entries()) {
    const sigs = input.filter((e) => e.type === 0x02);
    const ours = new Set(input.filter((e) => e.type === 0x06).map((e) => e.key.subarray(1).toString("hex")));
    if (sigs.length === 0) return `input ${i}: no partial signature`;
    for (const s of sigs) {
      const pk = s.key.subarray(1).toString("hex");
      if (!ours.has(pk)) return `input ${i}: signature by ${pk}, not a key of the input`;
      if (s.value[0] !== 0x30 || s.value[s.value.length - 1] !== 0x01) {
        return `input ${i}: signature ${s.value.toString("hex")} is not DER + SIGHASH_ALL`;
      }
    }
  }
  return "";
}

function packTarball() {
  for (const f of ["hwsigner.js", "hwsigner_bg.wasm", "full/hwsigner_full.js", "full/hwsigner_full_bg.wasm", "simulator.js", "simulator/hwsigner_sim_bg.wasm", "package.json"]) {
    if (!existsSync(join(PKG, f))) throw new Error(`pkg/${f} missing: run \`make build\` first`);
  }
  mkdirSync(WORK, { recursive: true });
  for (const f of readdirSync(WORK)) if (f.endsWith(".tgz")) rmSync(join(WORK, f));
  const json = run("npm", ["pack", PKG, "--pack-destination", WORK, "--json", "--silent"], WORK);
  const [{ filename, files }] = JSON.parse(json.slice(json.indexOf("[")));
  console.log(`packed ${filename}: ${files.map((f) => f.path).join(", ")}`);
  return join(WORK, filename);
}

// Writes the app, installs the tarball (a fresh node_modules each run: only the local
// tarball, no network), builds it. Returns the dist directory.
function buildApp(app, tarball) {
  const dir = join(WORK, `${app.name}-app`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify(
      { name: `hwsigner-${app.name}-app`, private: true, type: "module", dependencies: { hwsigner: `file:${tarball}` } },
      null,
      2,
    ) + "\n",
  );
  for (const [f, text] of Object.entries(app.files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel", "error"], dir);
  const out = run(app.build[0], app.build[1], dir);
  // The bundler's summary and warnings (webpack warns that the .wasm is over 244 KiB).
  for (const l of out.split("\n")) {
    if (/warn|error|compiled|built in/i.test(l)) console.log(`  ${app.name}: ${l.trim()}`);
  }
  app.afterBuild(dir);
  return join(dir, "dist");
}

async function checkApp(app, dist, browser) {
  const problems = [];
  const { server, base } = await serveDir(dist);
  const context = await browser.newContext();
  try {
    const wasm = [];
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    watchPage(page, problems, app.name);
    page.on("response", (r) => {
      if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${r.headers()["content-type"]}`);
    });
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction(() => window.__app !== undefined, null, { timeout: TIMEOUT_MS });
    const started = await page.evaluate(() => window.__app);
    check(`${app.name}: init() and the module load`, started.ok, started.ok ? `hwsigner ${started.version}` : started.error);
    check(
      `${app.name}: both .wasm (default entry, simulator) fetched as application/wasm`,
      wasm.length === 2 && wasm.every((w) => w === "200 application/wasm"),
      JSON.stringify(wasm),
    );
    check(`${app.name}: masterFingerprint()`, started.fingerprint === LEDGER_FINGERPRINT, `got ${started.fingerprint}, want ${LEDGER_FINGERPRINT}`);

    const r = await page.evaluate((psbt) => window.sign(psbt), PSBT);
    if (!check(`${app.name}: signPsbt() + finalizePsbt()`, r.ok, r.ok ? `tx ${r.tx.length / 2} bytes` : r.error)) return problems;
    check(`${app.name}: the signed PSBT differs from the input`, r.signed !== PSBT && r.signed.length > PSBT.length);
    let problem;
    try {
      problem = partialSignatureProblem(r.signed);
    } catch (e) {
      problem = `unreadable signed PSBT: ${e.message}`;
    }
    check(`${app.name}: every input has a partial signature by its own key`, !problem, problem);
    // A segwit transaction: version 2, marker 00 flag 01.
    check(`${app.name}: finalized transaction is segwit v2`, /^020000000001/.test(r.tx), r.tx.slice(0, 16));

    const f = await page.evaluate(() => window.full());
    check(
      `${app.name}: the default entry refuses a miniscript address (unsupported, names hwsigner/full)`,
      /^unsupported: /.test(f.refused) && f.refused.includes("hwsigner/full"),
      f.refused,
    );
    check(`${app.name}: hwsigner/full loads on demand and derives it`, f.ok && /^tb1q[0-9a-z]{58}$/.test(f.address), f.ok ? f.address : f.error);
    check(
      `${app.name}: the full entry's .wasm fetched as application/wasm, once`,
      wasm.length === 3 && wasm.every((w) => w === "200 application/wasm"),
      JSON.stringify(wasm),
    );
  } finally {
    await context.close().catch(() => {});
    server.close();
  }
  return problems;
}

async function main() {
  const problems = [];
  const tarball = packTarball();
  const built = [];
  for (const app of APPS) {
    try {
      const dist = buildApp(app, tarball);
      check(`${app.name}: default-config build`, existsSync(join(dist, "index.html")));
      built.push([app, dist]);
    } catch (e) {
      check(`${app.name}: default-config build`, false, e.message);
    }
  }
  if (built.length > 0) {
    const browser = await launchChromium(TIMEOUT_MS);
    try {
      for (const [app, dist] of built) {
        try {
          problems.push(...(await checkApp(app, dist, browser)));
        } catch (e) {
          check(`${app.name}: in Chromium`, false, e.message);
        }
      }
    } finally {
      await browser.close().catch(() => {});
    }
  }
  for (const p of problems) console.log(`FAIL ${p}`);
  const { passed, failed } = counts();
  const total = failed + problems.length;
  console.log(`bundlers: ${passed} passed, ${total} failed`);
  return total === 0 && passed > 0 ? 0 : 1;
}

setTimeout(() => {
  console.log("FAIL watchdog: no result after 10 min");
  console.log("bundlers: 0 passed, 1 failed");
  process.exit(1);
}, 600_000).unref();

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log("bundlers: 0 passed, 1 failed");
    process.exit(1);
  },
);
