// hwsigner/simulator: simulated devices (a Ledger Bitcoin app, a Trezor One or T) that
// really sign, from a seed, in their own wasm module (simulator/hwsigner_sim_bg.wasm).
// A simulated device is a `Device` of the default entry, reached through
// `ledgerFromExchange` (APDUs) or `trezorFromLink` (messages), with the simulator's
// buttons and screen as `device.simulator`.
import initCore, { ledgerFromExchange, trezorFromLink } from "./hwsigner.js";
import initSimulator, { Simulator, SimulatedLedgerLink, samplePsbt } from "./simulator/hwsigner_sim.js";

export { Simulator, SimulatedLedgerLink, samplePsbt };

/** Loads both wasm modules (the default entry's too; loading it again is a no-op). */
export default async function init(options) {
  await Promise.all([initCore(options?.core), initSimulator(options?.simulator)]);
}

/** A simulated device; see `SimulatedDeviceOptions`. */
export function simulatedDevice(options) {
  const simulator = new Simulator(options);
  const device =
    simulator.vendor === "trezor"
      ? trezorFromLink(simulator)
      : ledgerFromExchange((apdu) => simulator.exchange(apdu), { productId: 0x5011 });
  Object.defineProperty(device, "simulator", { value: simulator, enumerable: true });
  return device;
}
