// hwsigner/simulator: simulated devices (a Ledger Bitcoin app, a Trezor One, T or Safe 7)
// that really sign, from a seed, in their own wasm module
// (simulator/hwsigner_sim_bg.wasm). A simulated device is a `Device` of the default
// entry (or of the entry passed to `init`, e.g. `hwsigner/full`), reached through
// `ledgerFromExchange` (APDUs) or `trezorFromLink` (a One or T's messages, a Safe 7's
// 64-byte THP packets), with the simulator's buttons and screen as `device.simulator`.
import * as defaultEntry from "./hwsigner.js";
import initSimulator, {
  Simulator,
  SimulatedLedgerLink,
  samplePsbt,
  samplePolicyPsbt,
} from "./simulator/hwsigner_sim.js";

export { Simulator, SimulatedLedgerLink, samplePsbt, samplePolicyPsbt };

let core = defaultEntry;

/** Loads both wasm modules: the simulators' and the device entry's (the default one, or
 *  `options.entry`, e.g. `import * as full from "hwsigner/full"`; loading an entry
 *  again is a no-op). */
export default async function init(options) {
  if (options?.entry) core = options.entry;
  await Promise.all([core.default(options?.core), initSimulator(options?.simulator)]);
}

/** A simulated device; see `SimulatedDeviceOptions`. */
export function simulatedDevice(options) {
  const simulator = new Simulator(options);
  const device =
    simulator.vendor === "trezor"
      ? core.trezorFromLink(simulator, {
          framing: simulator.framing,
          ...(options?.credentialStorage ? { credentialStorage: options.credentialStorage } : {}),
        })
      : core.ledgerFromExchange((apdu) => simulator.exchange(apdu), { productId: 0x5011 });
  Object.defineProperty(device, "simulator", { value: simulator, enumerable: true });
  return device;
}
