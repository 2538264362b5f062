// The demo's PSBT panel: summary before signing, signing with progress, results.
import { samplePsbt } from "../pkg/simulator.js";
import { hw } from "./entry.js";

const $ = (id) => document.getElementById(id);

// Shows what the PSBT does; returns false when it does not parse. Nothing the PSBT
// merely claims is shown as fact: unverified amounts, false change labels and
// sighash types other than ALL / DEFAULT are flagged, and the warnings listed.
export function showSummary(fingerprint, showError) {
  const body = $("summary").querySelector("tbody");
  body.textContent = "";
  $("summary-warnings").textContent = "";
  const text = $("psbt").value.trim();
  if (!text) {
    $("summary").hidden = true;
    return false;
  }
  let s;
  try {
    s = hw.psbtSummary(text, fingerprint || undefined);
  } catch (err) {
    $("summary").hidden = true;
    showError(err);
    return false;
  }
  const row = (kind, what, sat, check, flagged) => {
    const tr = document.createElement("tr");
    if (flagged) tr.className = "flagged";
    for (const [v, cls] of [[kind, ""], [what, ""], [sat, "num"], [check, "check"]]) {
      const td = document.createElement("td");
      td.textContent = v;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  };
  for (const i of s.inputs) {
    const defaultSighash = i.sighash === "ALL" || i.sighash === "DEFAULT";
    const checks = [i.amount === null ? "no utxo" : i.verified ? "verified" : "unverified"];
    if (!defaultSighash) checks.push(`sighash ${i.sighash}`);
    row(i.ours ? "input (ours)" : "input", i.outpoint, i.amount ?? "?", checks.join(", "), !i.verified || !defaultSighash);
  }
  for (const o of s.outputs) {
    const falseLabel = o.claimsChange && !o.change;
    const kind = o.change ? "change" : falseLabel ? "output (false change label)" : "output";
    row(kind, o.address ?? "(no address)", o.amount, o.change ? "script is the device's" : falseLabel ? "not the device's script" : "", falseLabel);
  }
  row("fee", "", s.fee ?? "?", s.feeVerified ? "verified" : "unverified", !s.feeVerified);
  for (const w of s.warnings) {
    const li = document.createElement("li");
    li.textContent = w;
    $("summary-warnings").append(li);
  }
  $("summary").hidden = false;
  return true;
}

export function loadSample(vendor) {
  $("psbt").value = samplePsbt(vendor, 3);
}

// Signs the PSBT in the box on `device`, showing progress; fills the results.
export async function sign(device, log) {
  $("signed").value = "";
  $("tx").value = "";
  $("progress").hidden = false;
  $("progress").value = 0;
  const before = device.onStatus;
  device.onStatus = (s) => {
    if (s.type === "signing") {
      $("progress").max = s.total;
      $("progress").value = s.index;
    }
    $("confirm").hidden = s.type !== "confirm-on-device";
    if (before) before(s);
  };
  try {
    const signed = await device.signPsbt($("psbt").value.trim(), { finalize: false });
    $("signed").value = signed;
    $("progress").value = $("progress").max;
    log(`signed PSBT: ${signed.length} base64 characters`);
    if ($("finalize").checked) {
      const { tx } = hw.finalizePsbt(signed);
      $("tx").value = tx;
      log(`final transaction: ${tx.length / 2} bytes`);
    }
  } finally {
    $("confirm").hidden = true;
    device.onStatus = before;
  }
}

for (const b of document.querySelectorAll("button.copy")) {
  b.addEventListener("click", () => navigator.clipboard?.writeText($(b.dataset.from).value));
}
