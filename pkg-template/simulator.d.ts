// hwsigner/simulator: simulated devices in their own wasm module, on the default
// entry's `Device`.
import type { Device } from "./hwsigner.js";
import type { InitInput } from "./simulator/hwsigner_sim.js";
import { Simulator, SimulatedLedgerLink, samplePsbt } from "./simulator/hwsigner_sim.js";
export type { SimulatedDeviceOptions } from "./simulator/hwsigner_sim.js";
export { Simulator, SimulatedLedgerLink, samplePsbt };

/** Where each wasm module comes from (default: beside its JS file). */
export interface InitOptions {
  core?: { module_or_path: InitInput | Promise<InitInput> };
  simulator?: { module_or_path: InitInput | Promise<InitInput> };
}

/** Loads both wasm modules (the default entry's too; loading it again is a no-op). */
export default function init(options?: InitOptions): Promise<void>;

/** A `Device` of the default entry, with the simulator's buttons and screen. */
export type SimulatedDevice = Device & { readonly simulator: Simulator };

/** A simulated device (default: the Ledger with Speculos' seed, approving every prompt). */
export function simulatedDevice(
  options?: import("./simulator/hwsigner_sim.js").SimulatedDeviceOptions,
): SimulatedDevice;
