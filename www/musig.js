// The MuSig2 panel: a 2-of-2 `tr(musig(@0,@1)/**)` between the device on the page and a
// second simulated Ledger (the "all" x12 test seed), through both rounds of signPsbt to
// a final transaction (Ledger Bitcoin app 2.4+, testnet).
// The page's entry must carry the MuSig2 add-on (hwsigner/full, the demo's default).
import { simulatedDevice, samplePolicyPsbt } from "../pkg/simulator.js";
import { hw } from "./entry.js";

const COSIGNER_SEED = "all all all all all all all all all all all all";
const PATH = "87'/1'/0'";

async function keyOf(dev) {
  return `[${await dev.masterFingerprint()}/${PATH}]${await dev.xpub(`m/${PATH}`)}`;
}

// `ui`: { $, run, log, device: () => the page's device }.
export function setupMusig(ui) {
  const { $, run, log } = ui;
  $("musig-run").addEventListener("click", () =>
    run("musig2 2-of-2", async () => {
      for (const id of ["musig-id", "musig-address"]) $(id).textContent = "–";
      for (const id of ["musig-psbt", "musig-tx"]) $(id).value = "";
      const device = ui.device();
      const info = await device.info();
      if (device.vendor !== "ledger" || info.app !== "Bitcoin Test") {
        throw { code: "unsupported", message: "the MuSig2 demo needs a Ledger in the Bitcoin Test app (2.4+): its co-signer is a simulated testnet Ledger" };
      }
      const cosigner = simulatedDevice({
        mnemonic: COSIGNER_SEED,
        approve: (prompt) => { log(`second simulated ledger asks: ${prompt} (approved)`); return true; },
      });
      const keys = [await keyOf(device), await keyOf(cosigner)];
      const policy = { name: "MuSig2 demo", template: "tr(musig(@0,@1)/**)", keys };
      log("register the musig() policy on this device, then on the co-signer");
      const mine = await device.registerPolicy(policy);
      const theirs = await cosigner.registerPolicy(policy);
      $("musig-id").textContent = mine.id;
      const address = await device.address({ ...policy, hmac: mine.hmac, index: 0, display: true });
      const again = await cosigner.address({ ...policy, hmac: theirs.hmac, index: 0 });
      if (address !== again) throw { code: "protocol", message: `the devices show ${address} and ${again}` };
      $("musig-address").textContent = address;
      log(`musig2 address 0: ${address} (both devices and the host agree)`);
      const signers = [[device, mine.hmac, "this device"], [cosigner, theirs.hmac, "the co-signer"]];
      let psbt = samplePolicyPsbt(policy, 1);
      for (const round of [1, 2]) {
        for (const [dev, hmac, who] of signers) {
          psbt = await dev.signPsbt(psbt, { policy: { ...policy, hmac } });
          log(`round ${round}: ${who} added its ${round === 1 ? "public nonce" : "partial signature (verified)"}`);
        }
      }
      $("musig-psbt").value = psbt;
      const final = hw.finalizePsbt(psbt);
      $("musig-tx").value = final.tx;
      log("finalized: the partial signatures aggregate to one schnorr signature");
    }),
  );
}
