// A strict TypeScript dapp that uses every export of the three entries
// (tests/js/typecheck.mjs compiles it against pkg/ with `tsc --strict`, lib ES2022, no
// skipLibCheck).
import init, {
  type AddressOptions,
  type Device,
  type DeviceChange,
  type DeviceInfo,
  type ErrorCode,
  type FinalizedPsbt,
  type HwSignerError,
  type PsbtSummary,
  type Registration,
  type Status,
  type TrezorLink,
  type WalletPolicy,
  finalizePsbt,
  ledgerFrame,
  ledgerFromExchange,
  listDevices,
  onDeviceChange,
  psbtSummary,
  requestDevice,
  trezorFromLink,
  version,
} from "hwsigner";
import * as full from "hwsigner/full";
import initSimulator, {
  type DeviceEntry,
  type SimulatedDevice,
  type SimulatedDeviceOptions,
  SimulatedLedgerLink,
  Simulator,
  samplePolicyPsbt,
  samplePsbt,
  simulatedDevice,
} from "hwsigner/simulator";

export async function dapp(): Promise<string[]> {
  await init();
  await initSimulator();
  const out: string[] = [version(), ledgerFrame("b001000000")];

  // Every optional argument may be left out.
  const options: SimulatedDeviceOptions = { vendor: "trezor", model: "one", pin: "1234" };
  const trezor: SimulatedDevice = simulatedDevice(options);
  const ledger: Device = simulatedDevice();
  const psbt: string = samplePsbt("ledger");
  samplePsbt("trezor", 3);
  samplePsbt("ledger", 1, "tr");

  ledger.onStatus = (s: Status) => {
    if (s.type === "signing") out.push(`${s.index}/${s.total}`);
  };
  ledger.onStatus = undefined;
  trezor.onPin = async ({ kind }) => (kind === "current" ? "7193" : "");
  trezor.onPassphrase = ({ onDevice }) => (onDevice ? { onDevice: true } : "");
  trezor.onPairingCode = () => "123456";
  trezor.onPairingCode = async () => "123456";
  trezor.credentialStorage = { getItem: (k: string) => k, setItem: (_k: string, _v: string) => {} };
  const info: DeviceInfo = await ledger.info();
  const fpr: string = await ledger.masterFingerprint();
  const xpub: string = await ledger.xpub("m/84'/1'/0'");
  await ledger.xpub("m/84'/1'/0'", { display: true, signal: new AbortController().signal });
  const byDescriptor: AddressOptions = { descriptor: `wpkh([${fpr}/84'/1'/0']${xpub}/0/*)` };
  const address: string = await ledger.address(byDescriptor);
  const policy: WalletPolicy = { name: "Cold", template: "wsh(sortedmulti(2,@0/**,@1/**))", keys: [] };
  await ledger.address({ ...policy, index: 3, change: true, display: false, allowUnverified: true });
  const reg: Registration = await ledger.registerPolicy(policy);
  const signed: string = await ledger.signPsbt(psbt);
  await ledger.signPsbt(psbt, { policy: { ...policy, hmac: reg.hmac }, finalize: true, allowNonDefaultSighash: false });
  await trezor.signPsbt(psbt, { replaces: ["0200000000"] });
  const musig: WalletPolicy = { name: "MuSig2", template: "tr(musig(@0,@1)/**)", keys: [] };
  samplePolicyPsbt(musig);
  samplePolicyPsbt({ template: "wpkh(@0/**)", keys: [] }, 3);
  const final: FinalizedPsbt = finalizePsbt(signed);
  const summary: PsbtSummary = psbtSummary(psbt);
  psbtSummary(psbt, fpr);
  psbtSummary(psbt, fpr, policy);
  const sig: string = await ledger.signMessage("m/84'/1'/0'/0/0", "hello");
  await ledger.signMessage("m/84'/1'/0'/0/0", "hello", {});
  const app: string = await ledger.openApp("Bitcoin Test");
  await trezor.lock();
  await ledger.close();
  out.push(info.model, address, final.tx, sig, app, String(summary.fee ?? 0), ledger.vendor);

  // The simulator's buttons and screen.
  const sim: Simulator = trezor.simulator;
  sim.onPrompt = (prompt: string) => out.push(prompt);
  if (sim.waiting) sim.approve();
  const matrix: number[] | null = sim.pinMatrix;
  const code: string | undefined = sim.pairingCode;
  sim.powerCycle();
  out.push(String(matrix?.length ?? 0), sim.vendor, sim.framing, code ?? "");
  const safe7: SimulatedDevice = simulatedDevice({ vendor: "trezor", model: "safe7", credentialStorage: localStorage });
  out.push(safe7.simulator.framing);

  // Links of one's own.
  const link = new SimulatedLedgerLink({ testnet: true });
  const viaExchange: Device = ledgerFromExchange((apdu) => link.exchange(apdu), { productId: 0x5011 });
  ledgerFromExchange(async (apdu: Uint8Array) => link.exchange(apdu));
  out.push(String(link.exchanges));
  const bare = new Simulator({ vendor: "trezor" });
  const trezorLink: TrezorLink = { write: (m) => bare.write(m), read: () => bare.read() };
  const viaLink: Device = trezorFromLink(trezorLink);
  trezorFromLink(bare, { productId: 0x53c1 });
  trezorFromLink(bare, { framing: "reports", credentialStorage: localStorage });
  await viaExchange.masterFingerprint();
  await viaLink.masterFingerprint();

  // Devices and events.
  const dev: Device = await requestDevice();
  await requestDevice({ vendor: "trezor", onStatus: (s) => out.push(s.type), credentialStorage: localStorage });
  const all: Device[] = await listDevices();
  const stop: () => void = onDeviceChange((e: DeviceChange) => out.push(`${e.vendor} ${e.type}`));
  stop();
  out.push(dev.vendor, String(all.length));

  try {
    await ledger.signPsbt("not a psbt");
  } catch (e) {
    const err = e as HwSignerError;
    const code: ErrorCode = err.code;
    out.push(code, String(err.statusWord ?? ""));
  }

  // The full entry: the same API, with the add-ons; simulated devices on its Device.
  const entry: DeviceEntry = full;
  await full.default();
  await initSimulator({ entry });
  const onFull: full.Device = full.ledgerFromExchange((apdu) => link.exchange(apdu));
  out.push(full.version(), full.finalizePsbt(signed).tx, await onFull.masterFingerprint());

  // Wrong calls are errors: the types are exact, not `any`.
  // @ts-expect-error a path is a string
  await ledger.xpub(84);
  // @ts-expect-error no such option
  await ledger.signPsbt(psbt, { finalise: true });
  // @ts-expect-error no such vendor
  simulatedDevice({ vendor: "keepkey" });
  // @ts-expect-error no such framing
  trezorFromLink(bare, { framing: "packets" });
  // @ts-expect-error an address needs a descriptor or a policy
  await ledger.address({ index: 0 });
  // @ts-expect-error no such status
  const bad: Status = { type: "busy" };
  out.push(String(bad));
  return out;
}
