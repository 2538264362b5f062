// hwsigner demo: plain ES module, no build step. Serve the repo root (`make demo`) and
// open /www/ so that ../pkg/ (built by `make build`) resolves. The device API comes from
// the entry entry.js picks (`hwsigner/full`, or `?entry=default`); the simulated devices
// from `hwsigner/simulator`, on that entry's Device.
import initSimulator, { simulatedDevice } from "../pkg/simulator.js";
import { hw, entryName } from "./entry.js";
import { showSummary, loadSample, sign } from "./psbt.js";
import { setupMusig } from "./musig.js";

const $ = (id) => document.getElementById(id);
let device = null;
let fingerprint = null;
let simulated = null; // the vendor of a simulated device, else null

function log(msg) {
  const line = `${new Date().toLocaleTimeString()}  ${msg}\n`;
  $("log").textContent += line;
  $("log").scrollTop = $("log").scrollHeight;
}

function showError(err) {
  const code = err && typeof err.code === "string" && err.code ? err.code : "error";
  const message = err && err.message ? err.message : String(err);
  // The code goes in front, once: a message that starts with it in words ("wrong pin:
  // …", "unsupported: …", "protocol error: …") loses that start.
  const words = code.replace(/-/g, " ").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const text = `${code}: ${message.replace(new RegExp(`^${words}( error)?:\\s*`, "i"), "")}`;
  $("error").textContent = text;
  log(`error ${text}`);
}

// Runs one device call with the buttons disabled, errors shown.
async function run(label, fn) {
  $("error").textContent = "";
  for (const b of document.querySelectorAll("button:not(#sim-buttons button):not(.dialog button)")) b.disabled = true;
  log(`${label}…`);
  try {
    await fn();
  } catch (err) {
    showError(err);
  } finally {
    $("connect").disabled = !("hid" in navigator);
    $("connect-trezor").disabled = !("usb" in navigator);
    $("simulate").disabled = false;
    $("simulate-trezor").disabled = false;
    for (const id of ["get-xpub", "get-fpr", "show-address", "sign-psbt", "register", "musig-run"]) $(id).disabled = device === null;
    $("sample-psbt").disabled = device === null || simulated === null;
    for (const b of document.querySelectorAll("button.copy, #sim-buttons button")) b.disabled = false;
  }
}

// Everything the page shows that came from a device, or was made for one: cleared
// when another device takes its place, so that nothing of one device is ever shown
// under another's name (even when reading the new one fails half way).
const DEVICE_TEXT = ["info", "fpr", "xpub", "address", "policy-id", "policy-hmac"];
const DEVICE_VALUES = ["descriptor", "policy-keys", "psbt", "signed", "tx"];
function forgetDevice() {
  device = null;
  fingerprint = null;
  for (const id of DEVICE_TEXT) $(id).textContent = "–";
  for (const id of DEVICE_VALUES) $(id).value = "";
  $("sim-buttons").hidden = true;
  $("progress").hidden = true;
  $("confirm").hidden = true;
  showSummary(null, showError);
}

// The PIN pad (Trezor One): the device shows its digits scrambled; the user clicks the
// places of the PIN's digits (7 8 9 top row), and the positions go to the device.
function askPin(request) {
  return new Promise((resolve, reject) => {
    const pad = $("pin-pad");
    $("pin-field").value = "";
    pad.querySelector("strong").textContent = {
      current: "Enter the PIN",
      "new-first": "Enter a new PIN",
      "new-second": "Enter the new PIN again",
    }[request.kind] ?? "Enter the PIN";
    // A simulated Trezor's screen is shown beside the pad (a real one is on the device).
    const matrix = device.simulator ? device.simulator.pinMatrix : null;
    $("sim-screen").hidden = !matrix;
    $("sim-matrix").replaceChildren(...(matrix ?? []).map((d) => Object.assign(document.createElement("span"), { textContent: d })));
    pad.hidden = false;
    log(`the device asks for its PIN (${request.kind})`);
    const done = (fn) => { pad.hidden = true; pinAnswer = null; fn(); };
    pinAnswer = {
      ok: () => done(() => resolve($("pin-field").value)),
      cancel: () => done(() => reject(new Error("cancelled"))),
    };
  });
}
let pinAnswer = null;
for (const b of document.querySelectorAll("#pin-buttons button")) {
  b.addEventListener("click", () => { $("pin-field").value += b.dataset.pos; });
}
$("pin-back").addEventListener("click", () => { $("pin-field").value = $("pin-field").value.slice(0, -1); });
$("pin-ok").addEventListener("click", () => pinAnswer && pinAnswer.ok());
$("pin-cancel").addEventListener("click", () => pinAnswer && pinAnswer.cancel());

// The passphrase dialog: a passphrase, the standard wallet, or (Trezor T / Safe)
// typing it on the device.
let passphraseAnswer = null;
function askPassphrase(request) {
  return new Promise((resolve, reject) => {
    $("passphrase-field").value = "";
    $("passphrase-on-device").disabled = !request.onDevice;
    $("passphrase-dialog").hidden = false;
    log("the device asks for the passphrase");
    const done = (fn) => { $("passphrase-dialog").hidden = true; passphraseAnswer = null; fn(); };
    passphraseAnswer = {
      ok: () => done(() => resolve($("passphrase-field").value)),
      standard: () => done(() => resolve("")),
      onDevice: () => done(() => resolve({ onDevice: true })),
      cancel: () => done(() => reject(new Error("cancelled"))),
    };
  });
}
for (const [id, key] of [["passphrase-ok", "ok"], ["passphrase-standard", "standard"], ["passphrase-on-device", "onDevice"], ["passphrase-cancel", "cancel"]]) {
  $(id).addEventListener("click", () => passphraseAnswer && passphraseAnswer[key]());
}

// The pairing-code dialog (Trezor Safe 7, first connection of this page): the 6
// digits the device shows. A simulated Safe 7's screen is shown in the dialog.
let codeAnswer = null;
function askPairingCode() {
  return new Promise((resolve, reject) => {
    $("code-field").value = "";
    const code = device && device.simulator ? device.simulator.pairingCode : null;
    $("code-screen").hidden = !code;
    $("sim-code").textContent = code || "";
    $("code-dialog").hidden = false;
    $("code-field").focus();
    const done = (fn) => { $("code-dialog").hidden = true; codeAnswer = null; fn(); };
    codeAnswer = {
      ok: () => done(() => resolve($("code-field").value.trim())),
      cancel: () => done(() => reject(new Error("cancelled"))),
    };
  });
}
$("code-ok").addEventListener("click", () => codeAnswer && codeAnswer.ok());
$("code-cancel").addEventListener("click", () => codeAnswer && codeAnswer.cancel());
$("code-field").addEventListener("keydown", (e) => { if (e.key === "Enter" && codeAnswer) codeAnswer.ok(); });

async function readFingerprint(label) {
  $("fpr").textContent = "…";
  const fpr = await device.masterFingerprint();
  fingerprint = fpr;
  $("fpr").textContent = fpr;
  log(`${label}: master fingerprint ${fpr}`);
}

// Shows a device's info, fingerprint and the xpub of the path in the box.
async function show(dev, label) {
  forgetDevice();
  device = dev;
  device.onStatus = (s) => {
    log(`status: ${s.type}${s.type === "signing" ? ` ${s.index}/${s.total}` : ""}${s.app ? ` ${s.app}` : ""}`);
    if (s.type === "enter-pin-on-device") log("enter the PIN on the device");
    if (s.type === "enter-passphrase-on-device") log("enter the passphrase on the device");
    if (s.type === "enter-pairing-code") log("type the pairing code the device shows");
  };
  device.onPin = askPin;
  device.onPassphrase = askPassphrase;
  device.onPairingCode = askPairingCode;
  const info = await device.info();
  const what = `${info.vendor} ${info.model}${info.app ? ` (${info.app})` : ""} ${info.version}`;
  $("info").textContent = `${label}: ${what}`;
  await readFingerprint(label);
  const fpr = fingerprint;
  await getXpub();
  const account = $("path").value.trim();
  $("descriptor").value = `wpkh([${fpr}${account.slice(1)}]${$("xpub").textContent}/0/*)`;
  await fillPolicyKeys(fpr);
  showSummary(fingerprint, showError);
}

for (const vendor of ["ledger", "trezor"]) {
  $(vendor === "ledger" ? "simulate" : "simulate-trezor").addEventListener("click", () =>
    run(`simulated ${vendor}`, async () => {
      $("path").value = "m/84'/1'/0'";
      // The simulated device's own Approve / Reject buttons, shown on the page; a
      // simulated Trezor with the model, PIN and passphrase protection chosen above.
      const options = { vendor, approve: "manual" };
      if (vendor === "trezor") {
        options.model = $("sim-model").value;
        // A simulated Safe 7 pairs once per page load (its credential in memory).
        if (options.model === "safe7") {
          const kept = new Map();
          options.credentialStorage = { getItem: (k) => kept.get(k) ?? null, setItem: (k, v) => kept.set(k, v) };
        }
        if ($("sim-pin").value.trim()) options.pin = $("sim-pin").value.trim();
        options.passphrase = $("sim-passphrase").checked;
      }
      const dev = simulatedDevice(options);
      dev.simulator.onPrompt = (prompt) => {
        $("sim-vendor").textContent = vendor;
        $("sim-prompt").textContent = prompt;
        $("sim-buttons").hidden = false;
        log(`simulated ${vendor} asks: ${prompt}`);
      };
      simulated = vendor;
      await show(dev, `simulated ${vendor}`);
    }),
  );
}

for (const [id, press] of [["sim-approve", "approve"], ["sim-reject", "reject"]]) {
  $(id).addEventListener("click", () => {
    $("sim-buttons").hidden = true;
    log(`simulated device: ${press}`);
    try {
      device.simulator[press]();
    } catch (err) {
      showError(err);
    }
  });
}

$("connect-trezor").addEventListener("click", () =>
  run("connect trezor", async () => {
    const dev = await requestDevice({ vendor: "trezor" });
    simulated = null;
    await show(dev, "Trezor");
  }),
);

$("connect").addEventListener("click", () =>
  run("connect ledger", async () => {
    const dev = await requestDevice({ vendor: "ledger" });
    simulated = null;
    const info = await dev.info();
    if (info.app === "BOLOS") {
      log("dashboard open: opening the Bitcoin app (confirm on the device)");
      await dev.openApp("Bitcoin");
    }
    await show(dev, "Ledger");
  }),
);

async function getXpub() {
  const path = $("path").value.trim();
  $("xpub").textContent = "…";
  try {
    const xpub = await device.xpub(path);
    $("xpub").textContent = xpub;
    log(`xpub ${path}: ${xpub}`);
  } catch (err) {
    $("xpub").textContent = "–";
    throw err;
  }
}

// A 2-of-2 between this device's BIP-48 key and a fixed co-signer (another test seed).
const COSIGNER = "[5c9e228d/48'/1'/0'/2']tpubDEGquuorgFNbDrg8vepq1HnaV2mgQu9TcSBgBYfXw4AX8VMgkWqvkxHNuJmiah8iVnA3Hgj4cSvaGAXEnq814yC6hMEreckLsd7zyLL3o76";
async function fillPolicyKeys(fpr) {
  $("register-panel").hidden = device.vendor !== "ledger";
  $("musig-panel").hidden = device.vendor !== "ledger";
  if (device.vendor !== "ledger") return;
  const key = await device.xpub("m/48'/1'/0'/2'");
  $("policy-keys").value = `[${fpr}/48'/1'/0'/2']${key}\n${COSIGNER}`;
}

setupMusig({ $, run, log, device: () => device });
$("get-xpub").addEventListener("click", () => run("xpub", getXpub));
$("get-fpr").addEventListener("click", () => run("fingerprint", () => readFingerprint(simulated ? `simulated ${simulated}` : device.vendor)));
$("register").addEventListener("click", () =>
  run("register policy", async () => {
    const keys = $("policy-keys").value.split("\n").map((k) => k.trim()).filter(Boolean);
    const reg = await device.registerPolicy({ name: $("policy-name").value, template: $("policy-template").value.trim(), keys });
    $("policy-id").textContent = reg.id;
    $("policy-hmac").textContent = reg.hmac;
    log(`policy registered: id ${reg.id}, hmac ${reg.hmac}`);
  }),
);
$("show-address").addEventListener("click", () =>
  run("address", async () => {
    $("address").textContent = "…";
    const address = await device.address({ descriptor: $("descriptor").value.trim(), index: Number($("index").value), display: true });
    $("address").textContent = address;
    log(`address ${$("index").value}: ${address} (the host derived the same)`);
  }),
);
$("sample-psbt").addEventListener("click", () =>
  run("sample psbt", async () => {
    loadSample(simulated ?? "ledger");
    showSummary(fingerprint, showError);
  }),
);
$("psbt").addEventListener("input", () => {
  $("error").textContent = "";
  showSummary(fingerprint, showError);
});
$("sign-psbt").addEventListener("click", () =>
  run("sign psbt", async () => {
    if (!showSummary(fingerprint, showError)) throw { code: "invalid-input", message: "paste a PSBT (base64) first" };
    await sign(device, log);
  }),
);
$("path").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && device) run("xpub", getXpub);
});

const { requestDevice, listDevices, onDeviceChange } = hw;

try {
  await initSimulator({ entry: hw });
  log(`package entry: ${entryName} ${hw.version()}`);
  $("simulate").disabled = false;
  $("simulate-trezor").disabled = false;
  $("connect-trezor").disabled = !("usb" in navigator);
  onDeviceChange((e) => log(`${e.vendor} ${e.type}ed${e.product ? ` (${e.product})` : ""}`));
  const granted = await listDevices();
  if (!("hid" in navigator)) {
    log("this browser has no WebHID (navigator.hid): only the simulated Ledger is available");
  } else {
    $("connect").disabled = false;
  }
  if (granted.length > 0) {
    await run("granted device", () => show(granted[0], granted[0].vendor));
  } else {
    log("no granted device: starting with the simulated Ledger (Connect Ledger to use a real one)");
    $("simulate").click();
  }
} catch (err) {
  showError(err);
}
