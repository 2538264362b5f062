// The demo's PSBT panel: summary before signing, signing with progress, results.
import { psbtSummary, samplePsbt } from "../pkg/hwsigner.js";

const $ = (id) => document.getElementById(id);

// Shows what the PSBT does; returns false when it does not parse.
export function showSummary(fingerprint, showError) {
  const body = $("summary").querySelector("tbody");
  body.textContent = "";
  const text = $("psbt").value.trim();
  if (!text) {
    $("summary").hidden = true;
    return false;
  }
  let s;
  try {
    s = psbtSummary(text, fingerprint || undefined);
  } catch (err) {
    $("summary").hidden = true;
    showError(err);
    return false;
  }
  const row = (kind, what, sat) => {
    const tr = document.createElement("tr");
    for (const [v, cls] of [[kind, ""], [what, ""], [sat, "num"]]) {
      const td = document.createElement("td");
      td.textContent = v;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  };
  for (const i of s.inputs) row(i.ours ? "input (ours)" : "input", i.outpoint, i.amount ?? "?");
  for (const o of s.outputs) row(o.change ? "change" : "output", o.address ?? "(no address)", o.amount);
  row("fee", "", s.fee ?? "?");
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
      const { finalizePsbt } = await import("../pkg/hwsigner.js");
      const { tx } = finalizePsbt(signed);
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
