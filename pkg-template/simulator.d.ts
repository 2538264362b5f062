// hwsigner/simulator: simulated devices in their own wasm module, on the default
// entry's `Device` (or the one of the entry passed to `init`).
import type { Device, LinkOptions, TrezorLink } from "./hwsigner.js";
import type { InitInput } from "./simulator/hwsigner_sim.js";
import {
  Simulator,
  SimulatedLedgerLink,
  samplePsbt,
  samplePolicyPsbt,
} from "./simulator/hwsigner_sim.js";
export type { SimulatedDeviceOptions } from "./simulator/hwsigner_sim.js";
export { Simulator, SimulatedLedgerLink, samplePsbt, samplePolicyPsbt };

/** An entry of the package whose `Device` the simulated devices are (`hwsigner`, the
 *  default, or `hwsigner/full`): what `import * as entry from "hwsigner/full"` gives. */
export interface DeviceEntry {
  default(options?: { module_or_path: InitInput | Promise<InitInput> }): Promise<unknown>;
  ledgerFromExchange(
    exchange: (apdu: Uint8Array) => Promise<Uint8Array> | Uint8Array,
    options?: LinkOptions,
  ): unknown;
  trezorFromLink(link: TrezorLink, options?: LinkOptions): unknown;
}

/** Where each wasm module comes from (default: beside its JS file), and which entry's
 *  `Device` the simulated devices are (default: `hwsigner`). */
export interface InitOptions {
  entry?: DeviceEntry;
  core?: { module_or_path: InitInput | Promise<InitInput> };
  simulator?: { module_or_path: InitInput | Promise<InitInput> };
}

/** Loads both wasm modules (the device entry's too; loading it again is a no-op). */
export default function init(options?: InitOptions): Promise<void>;

/** A `Device` with the simulator's buttons and screen. (With `init({ entry })`, a
 *  `Device` of that entry: the same methods.) */
export type SimulatedDevice = Device & { readonly simulator: Simulator };

/** A simulated device (default: the Ledger with Speculos' seed, approving every prompt). */
export function simulatedDevice(
  options?: import("./simulator/hwsigner_sim.js").SimulatedDeviceOptions,
): SimulatedDevice;
