// The demo page end to end: serves the repo root (pkg/ from `make build` + www/), opens
// /www/ in headless Debian Chromium, waits for the simulated Ledger the page starts by
// itself (no granted device), reads its fingerprint and xpub from the page, then clicks
// "Simulated Trezor" and reads those; the MuSig2 panel runs a 2-of-2 with a second
// simulated seed to a final transaction checked outside hwsigner. Screenshots go to target/screenshots/. Prints
// "demo e2e: N passed, N failed".
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, serveDir, tally, watchPage } from "./harness.mjs";
// Outside hwsigner, to check the MuSig2 transaction: bitcoinjs-lib (via ledger-bitcoin)
// computes the BIP-341 sighash, @noble/curves checks the BIP-340 signature.
import { Psbt, Transaction } from "bitcoinjs-lib";
import { schnorr } from "@noble/curves/secp256k1";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SHOTS = join(ROOT, "target", "screenshots");
const TIMEOUT_MS = 60_000;
const PATH = "m/84'/1'/0'"; // the page's path for the simulated devices
// Master fingerprints and xpubs at m/84'/1'/0' (testnet) of the simulators' seeds:
// Speculos' test mnemonic (Ledger) and "all" x12 (Trezor). Computed independently of
// hwsigner (BIP-39 PBKDF2 + bitcoinjs bip32); the Ledger one is also in the Rust tests.
const EXPECT = {
  ledger: {
    button: "#simulate",
    fingerprint: "f5acc2fd",
    xpub: "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P",
  },
  trezor: {
    button: "#simulate-trezor",
    fingerprint: "5c9e228d",
    xpub: "tpubDCZB6sR48s4T5Cr8qHUYSZEFCQMMHRg8AoVKVmvcAP5bRw7ArDKeoNwKAJujV3xCPkBvXH5ejSgbgyN6kREmF7sMd41NdbuHa8n1DZNxSMg",
  },
};

const { check, counts } = tally();

// Waits until the page's call for `vendor`'s simulated device is over (the page
// disables the buttons during a call and shows the device, its fingerprint and xpub, or
// an error) and returns what the page shows.
async function shown(page, vendor) {
  await page
    .waitForFunction(
      (v) => {
        const t = (id) => document.getElementById(id).textContent.trim();
        const idle = !document.getElementById("simulate").disabled;
        return idle && (t("info").startsWith(`simulated ${v}:`) || t("error") !== "");
      },
      vendor,
      { timeout: TIMEOUT_MS },
    )
    .catch(() => {});
  return page.evaluate(() =>
    Object.fromEntries(["info", "fpr", "xpub", "path", "error", "address", "policy-hmac", "descriptor", "psbt", "signed", "tx"].map((id) => {
      const el = document.getElementById(id);
      return [id, ("value" in el && el.tagName !== "DD" ? el.value : el.textContent).trim()];
    })),
  );
}

function checkShown(vendor, s) {
  const want = EXPECT[vendor];
  check(`${vendor}: no error on the page`, s.error === "", s.error);
  check(`${vendor}: device line`, s.info.startsWith(`simulated ${vendor}:`), JSON.stringify(s.info));
  check(`${vendor}: fingerprint`, s.fpr === want.fingerprint, `got ${s.fpr}, want ${want.fingerprint}`);
  check(`${vendor}: xpub ${s.path}`, s.path === PATH && s.xpub === want.xpub, `got ${s.xpub}`);
  // Nothing of the device shown before stays under this one's name.
  check(`${vendor}: no address, registration or signature of another device`,
    s.address === "–" && s["policy-hmac"] === "–" && s.psbt === "" && s.signed === "" && s.tx === "",
    JSON.stringify(s));
  check(`${vendor}: the descriptor is this device's`, s.descriptor.startsWith(`wpkh([${want.fingerprint}/`) && s.descriptor.includes(want.xpub), s.descriptor);
}

// Waits for the page's current call to end (the Simulated Ledger button is re-enabled),
// pressing the simulated device's Approve (or Reject) button whenever it asks.
async function idle(page, dialogs) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const st = await page.evaluate(() => ({
      idle: !document.getElementById("simulate").disabled,
      asking: !document.getElementById("sim-buttons").hidden,
      prompt: document.getElementById("sim-prompt").textContent,
    }));
    if (st.asking && dialogs) {
      dialogs.seen.push(st.prompt);
      if (st.prompt.startsWith("sign transaction") && !dialogs.shot) {
        dialogs.shot = true;
        await page.screenshot({ path: join(SHOTS, "demo-confirm-on-device.png"), fullPage: true });
      }
      await page.locator(dialogs.approve ? "#sim-approve" : "#sim-reject").click();
    } else if (st.idle) {
      return;
    } else if (Date.now() > deadline) {
      throw new Error("the page's call did not end");
    } else {
      await page.waitForTimeout(25);
    }
  }
}

// Pastes hostile PSBTs (tests/js/fixtures, for the simulated Ledger's seed: written and
// checked by tests/psbt_summary.rs) and reads what the page makes of them: a false
// change label and an amount without its previous transaction are flagged, utxos that
// disagree are refused.
async function hostileFlows(page) {
  const fixture = (name) => readFileSync(join(ROOT, "tests", "js", "fixtures", `${name}.b64`), "utf8").trim();
  const paste = async (text) => {
    await page.locator("#psbt").fill(text);
    return page.evaluate(() => ({
      rows: [...document.querySelectorAll("#summary tbody tr")].map((r) => ({
        kind: r.cells[0].textContent,
        check: r.cells[3].textContent,
        flagged: r.classList.contains("flagged"),
      })),
      warnings: [...document.querySelectorAll("#summary-warnings li")].map((li) => li.textContent),
      hidden: document.getElementById("summary").hidden,
      error: document.getElementById("error").textContent.trim(),
    }));
  };
  const fake = await paste(fixture("fake_change"));
  const falseLabel = fake.rows.find((r) => r.kind === "output (false change label)");
  check("ledger: a false change label is flagged", falseLabel && falseLabel.flagged && fake.rows.filter((r) => r.kind === "change").length === 1 &&
    fake.warnings.some((w) => w.startsWith("output 0 claims to be change")), JSON.stringify(fake));
  const fee = fake.rows.find((r) => r.kind === "fee");
  check("ledger: an amount without its previous transaction is unverified", fee && fee.check === "unverified" && fee.flagged &&
    fake.rows.some((r) => r.kind === "input (ours)" && r.check === "unverified") && fake.warnings.some((w) => w.includes("psbt's word")), JSON.stringify(fake));
  await page.screenshot({ path: join(SHOTS, "demo-hostile-psbt.png"), fullPage: true });
  const mismatch = await paste(fixture("mismatched_utxos"));
  check("ledger: utxos that disagree are refused", mismatch.hidden && mismatch.error.startsWith("invalid-input:") && mismatch.error.includes("witness utxo"), JSON.stringify(mismatch));
  await page.locator("#psbt").fill("");
}

// Shows an address, then signs a sample PSBT: approved on the simulated device (its
// buttons on the page), then rejected.
async function signFlows(page, vendor, dialogs) {
  const text = (id) => page.evaluate((i) => document.getElementById(i).textContent.trim(), id);
  const value = (id) => page.evaluate((i) => document.getElementById(i).value.trim(), id);

  dialogs.approve = true;
  await page.locator("#show-address").click();
  await idle(page, dialogs);
  const address = await text("address");
  check(`${vendor}: address shown and host-checked`, address.startsWith("tb1q") && (await text("error")) === "", `${address} ${await text("error")}`);

  if (vendor === "ledger") {
    await page.locator("#register").click();
    await idle(page, dialogs);
    const hmac = await text("policy-hmac");
    check(`${vendor}: policy registered`, /^[0-9a-f]{64}$/.test(hmac) && (await text("error")) === "", `${hmac} ${await text("error")}`);
  } else {
    check(`${vendor}: no policy registration panel`, await page.evaluate(() => document.getElementById("register-panel").hidden), "shown");
  }

  await page.locator("#sample-psbt").click();
  await idle(page, dialogs);
  const rows = await page.evaluate(() => [...document.querySelectorAll("#summary tbody tr")].map((r) => r.cells[0].textContent));
  check(`${vendor}: summary before signing`, rows.filter((r) => r === "input (ours)").length === 3 && rows.includes("change") && rows.includes("fee"), JSON.stringify(rows));

  dialogs.seen = [];
  await page.locator("#sign-psbt").click();
  await idle(page, dialogs);
  const tx = await value("tx");
  check(`${vendor}: approved signing gives a final transaction`, (await value("signed")).length > 100 && /^[0-9a-f]{200,}$/.test(tx), `${await text("error")} tx=${tx.slice(0, 40)}`);
  check(`${vendor}: the device asked for confirmation`, dialogs.seen.some((m) => m.includes("sign transaction")), JSON.stringify(dialogs.seen));
  if (vendor === "ledger") {
    // As the Bitcoin app: the payment and the fee; the change the policy accounts for
    // (tb1qzr0v…, change index 3) is not shown.
    check("ledger: the device shows the payment and the fee, not the change",
      dialogs.seen.some((m) => m.includes("BTC to tb1q4280") && m.includes("fee ")) && !dialogs.seen.some((m) => m.includes("tb1qzr0v")),
      JSON.stringify(dialogs.seen));
  }
  await page.screenshot({ path: join(SHOTS, `demo-${vendor}-signed.png`), fullPage: true });

  dialogs.approve = false;
  await page.locator("#sign-psbt").click();
  await idle(page, dialogs);
  const error = await text("error");
  check(`${vendor}: rejected signing is a readable error`, error.startsWith("user-rejected:") && (await value("signed")) === "", error);
  await page.screenshot({ path: join(SHOTS, `demo-${vendor}-rejected.png`), fullPage: true });
}

// The MuSig2 panel: a 2-of-2 between the simulated Ledger (its buttons pressed here) and
// a second simulated seed; the final transaction's key-path signature must verify for
// the output key the coin pays to.
async function musigFlow(page, dialogs) {
  const text = (id) => page.evaluate((i) => document.getElementById(i).textContent.trim(), id);
  const value = (id) => page.evaluate((i) => document.getElementById(i).value.trim(), id);
  dialogs.approve = true;
  dialogs.seen = [];
  await page.locator("#musig-run").click();
  await idle(page, dialogs);
  const error = await text("error");
  const address = await text("musig-address");
  check("musig2: no error", error === "", error);
  check("musig2: a taproot address shown by both devices", address.startsWith("tb1p"), address);
  check("musig2: the device asked to register, show and sign",
    ["register MuSig2 demo", "show tb1p", "sign transaction"].every((p) => dialogs.seen.some((m) => m.startsWith(p))),
    JSON.stringify(dialogs.seen));
  const psbtText = await value("musig-psbt");
  const txHex = await value("musig-tx");
  let verified = 0;
  try {
    const psbt = Psbt.fromBase64(psbtText);
    const tx = Transaction.fromHex(txHex);
    const utxos = psbt.data.inputs.map((i) => i.witnessUtxo);
    for (let i = 0; i < tx.ins.length; i++) {
      const witness = tx.ins[i].witness;
      const hash = tx.hashForWitnessV1(i, utxos.map((u) => u.script), utxos.map((u) => Number(u.value)), Transaction.SIGHASH_DEFAULT);
      const outputKey = utxos[i].script.subarray(2);
      if (witness.length === 1 && witness[0].length === 64 && schnorr.verify(witness[0], hash, outputKey)) verified++;
    }
    check("musig2: every input's schnorr signature verifies (BIP-340, BIP-341 sighash)", verified === tx.ins.length && verified > 0, `${verified}/${tx.ins.length}`);
  } catch (e) {
    check("musig2: the psbt and transaction decode", false, String(e));
  }
  await page.screenshot({ path: join(SHOTS, "demo-musig2.png"), fullPage: true });
}

// Computed outside hwsigner (python `mnemonic` + `cryptography`): the "all" x 12 seed's
// master fingerprint with the passphrase "TREZOR".
const FPR_TREZOR_PASSPHRASE = "4b854ccf";

// Waits for the PIN pad, reads the simulated Trezor's screen beside it, and clicks the
// places of `pin`'s digits (7 8 9 is the top row), then "Enter PIN".
async function enterPin(page, pin) {
  await page.locator("#pin-pad").waitFor({ state: "visible" });
  const matrix = await page.evaluate(() => [...document.querySelectorAll("#sim-matrix span")].map((s) => Number(s.textContent)));
  check(`trezor one: the pad shows the simulated screen's 9 digits`, matrix.length === 9 && new Set(matrix).size === 9, JSON.stringify(matrix));
  const labels = await page.evaluate(() => [...document.querySelectorAll("#pin-buttons button")].map((b) => b.textContent));
  check("trezor one: the pad's buttons are blank", labels.every((l) => l === ""), JSON.stringify(labels));
  for (const digit of pin) {
    const cell = matrix.indexOf(Number(digit));
    const position = 7 - 3 * Math.floor(cell / 3) + (cell % 3);
    await page.locator(`#pin-buttons button[data-pos="${position}"]`).click();
  }
  await page.locator("#pin-back").click();
  const digit = pin[pin.length - 1];
  const cell = matrix.indexOf(Number(digit));
  await page.locator(`#pin-buttons button[data-pos="${7 - 3 * Math.floor(cell / 3) + (cell % 3)}"]`).click();
  const masked = await page.evaluate(() => ({ type: document.getElementById("pin-field").type, length: document.getElementById("pin-field").value.length }));
  check("trezor one: the pin field is masked", masked.type === "password" && masked.length === pin.length, JSON.stringify(masked));
  await page.screenshot({ path: join(SHOTS, "demo-trezor-pin.png"), fullPage: true });
  await page.locator("#pin-ok").click();
}

// A simulated Trezor One with PIN 1234 and passphrase protection: a wrong PIN is a
// typed error, the right one and a passphrase open the passphrase wallet; then a
// simulated Model T takes the passphrase on the device.
async function unlockFlows(page, dialogs) {
  const text = (id) => page.evaluate((i) => document.getElementById(i).textContent.trim(), id);
  await page.selectOption("#sim-model", "one");
  await page.fill("#sim-pin", "1234");
  await page.check("#sim-passphrase");
  await page.locator("#simulate-trezor").click();
  await enterPin(page, "4321");
  await idle(page, dialogs);
  const error = await text("error");
  check("trezor one: a wrong pin is the typed error", error.startsWith("wrong-pin:"), error);

  await page.locator("#get-fpr").click();
  await enterPin(page, "1234");
  await page.locator("#passphrase-dialog").waitFor({ state: "visible" });
  const onDevice = await page.evaluate(() => !document.getElementById("passphrase-on-device").disabled);
  check("trezor one: no on-device passphrase entry offered", !onDevice, "offered");
  await page.fill("#passphrase-field", "TREZOR");
  await page.screenshot({ path: join(SHOTS, "demo-trezor-passphrase.png"), fullPage: true });
  await page.locator("#passphrase-ok").click();
  await idle(page, dialogs);
  const fpr = await text("fpr");
  check("trezor one: the right pin and a passphrase open that wallet", fpr === FPR_TREZOR_PASSPHRASE && (await text("error")) === "", `${fpr} ${await text("error")}`);

  // A model T: the pin on its screen (its Approve button), the passphrase on it too.
  await page.selectOption("#sim-model", "t");
  await page.locator("#simulate-trezor").click();
  const seen = [];
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const st = await page.evaluate(() => ({
      passphrase: !document.getElementById("passphrase-dialog").hidden,
      onDevice: !document.getElementById("passphrase-on-device").disabled,
      asking: !document.getElementById("sim-buttons").hidden,
      prompt: document.getElementById("sim-prompt").textContent,
      idle: !document.getElementById("simulate").disabled,
    }));
    if (st.passphrase) {
      check("trezor t: on-device passphrase entry offered", st.onDevice, "not offered");
      await page.locator("#passphrase-on-device").click();
    } else if (st.asking) {
      seen.push(st.prompt);
      await page.locator("#sim-approve").click();
    } else if (st.idle || Date.now() > deadline) {
      break;
    } else {
      await page.waitForTimeout(25);
    }
  }
  check("trezor t: pin and passphrase entered on the device", seen.includes("enter the pin on the device") && seen.includes("type the passphrase on the device"), JSON.stringify(seen));
  check("trezor t: the standard wallet (empty passphrase typed)", (await text("fpr")) === EXPECT.trezor.fingerprint, `${await text("fpr")} ${await text("error")}`);
}

// A simulated Trezor Safe 7 (THP): the page's 6-digit code dialog shows the simulated
// screen's code, which is typed in; the pairing is allowed on the device (its Approve
// button), then the fingerprint is read inside the encrypted channel.
async function pairFlow(page) {
  const text = (id) => page.evaluate((i) => document.getElementById(i).textContent.trim(), id);
  await page.selectOption("#sim-model", "safe7");
  await page.fill("#sim-pin", "");
  await page.uncheck("#sim-passphrase");
  await page.locator("#simulate-trezor").click();
  const seen = [];
  let typed = null;
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const st = await page.evaluate(() => ({
      code: !document.getElementById("code-dialog").hidden,
      shown: document.getElementById("sim-code").textContent.trim(),
      asking: !document.getElementById("sim-buttons").hidden,
      prompt: document.getElementById("sim-prompt").textContent,
      idle: !document.getElementById("simulate").disabled,
    }));
    if (st.code && typed === null) {
      typed = st.shown;
      await page.fill("#code-field", st.shown);
      await page.screenshot({ path: join(SHOTS, "demo-safe7-pairing-code.png"), fullPage: true });
      await page.locator("#code-ok").click();
    } else if (st.asking) {
      seen.push(st.prompt);
      await page.locator("#sim-approve").click();
    } else if ((st.idle && typed !== null) || Date.now() > deadline) {
      break;
    } else {
      await page.waitForTimeout(25);
    }
  }
  check("safe 7: the code dialog shows the simulated screen's 6 digits", /^[0-9]{6}$/.test(typed || ""), String(typed));
  check("safe 7: pairing allowed on the device", seen.some((p) => p.includes("pair with")), JSON.stringify(seen));
  check("safe 7: fingerprint inside thp", (await text("fpr")) === EXPECT.trezor.fingerprint, `${await text("fpr")} ${await text("error")}`);
  check("safe 7: model shown", (await text("info")).includes("Safe 7"), await text("info"));
}

// The demo on the default entry (`?entry=default`, no add-ons): the simulated Ledger
// starts and signs its fingerprint, and the MuSig2 panel says which entry carries it.
async function defaultEntryFlow(browser, base, problems) {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  watchPage(page, problems, "demo (default entry)");
  const dialogs = { approve: true, seen: [] };
  try {
    await page.goto(base + "/www/?entry=default", { waitUntil: "load" });
    const ledger = await shown(page, "ledger");
    check("default entry: the simulated ledger's fingerprint", ledger.fpr === EXPECT.ledger.fingerprint, `${ledger.fpr} ${ledger.error}`);
    const log = await page.evaluate(() => document.getElementById("log").textContent);
    check("default entry: the page runs on hwsigner", /package entry: hwsigner \d/.test(log), log.split("\n")[0]);
    await page.locator("#musig-run").click();
    await idle(page, dialogs);
    const error = await page.evaluate(() => document.getElementById("error").textContent.trim());
    check("default entry: musig2 is unsupported, naming hwsigner/full", error.startsWith("unsupported:") && error.includes("hwsigner/full"), error);
  } finally {
    await page.close().catch(() => {});
  }
}

async function main() {
  const problems = [];
  mkdirSync(SHOTS, { recursive: true });
  const { server, base } = await serveDir(ROOT);
  const browser = await launchChromium(TIMEOUT_MS);
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    page.setDefaultTimeout(TIMEOUT_MS);
    watchPage(page, problems, "demo");
    // The simulated devices' Approve / Reject buttons are pressed by `idle`.
    const dialogs = { approve: true, seen: [] };
    await page.goto(base + "/www/", { waitUntil: "load" });

    // No granted device: the page starts the simulated Ledger by itself.
    const ledger = await shown(page, "ledger");
    await page.screenshot({ path: join(SHOTS, "demo-ledger.png"), fullPage: true });
    checkShown("ledger", ledger);
    await hostileFlows(page);
    await signFlows(page, "ledger", dialogs);
    await musigFlow(page, dialogs);

    // The buttons are re-enabled once the Ledger call is done.
    await page.locator(EXPECT.trezor.button).click({ timeout: TIMEOUT_MS });
    const trezor = await shown(page, "trezor");
    await page.screenshot({ path: join(SHOTS, "demo-trezor.png"), fullPage: true });
    checkShown("trezor", trezor);
    await signFlows(page, "trezor", dialogs);
    await unlockFlows(page, dialogs);
    await pairFlow(page);
    const log = await page.evaluate(() => document.getElementById("log").textContent);
    check("the demo runs on hwsigner/full", /package entry: hwsigner\/full \d/.test(log), log.split("\n")[0]);
    await defaultEntryFlow(browser, base, problems);
    console.log(`screenshots: ${join(SHOTS, "demo-ledger.png")}, ${join(SHOTS, "demo-trezor.png")}`);
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }

  for (const p of problems) console.log(`FAIL ${p}`);
  const { passed, failed } = counts();
  const total = failed + problems.length;
  console.log(`demo e2e: ${passed} passed, ${total} failed`);
  return total === 0 && passed > 0 ? 0 : 1;
}

setTimeout(() => {
  console.log(`FAIL watchdog: no result after ${(4 * TIMEOUT_MS) / 1000} s`);
  console.log("demo e2e: 0 passed, 1 failed");
  process.exit(1);
}, 4 * TIMEOUT_MS).unref();

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log("demo e2e: 0 passed, 1 failed");
    process.exit(1);
  },
);
