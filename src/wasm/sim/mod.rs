//! The JS bindings of the `hwsigner/simulator` npm entry (its own wasm): simulated
//! devices that the default entry reaches as it reaches any other link, through
//! `ledgerFromExchange` (a Ledger's APDUs) and `trezorFromLink` (a Trezor's messages).
//! `pkg-template/simulator.js` puts the two together as `simulatedDevice()`.

mod gate;
mod link;

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};

use super::errors::to_js_error;

pub use gate::{Simulator, LEDGER_PRODUCT_ID};
pub use link::SimulatedLedgerLink;

#[wasm_bindgen(typescript_custom_section)]
const SIMULATOR_TYPES: &'static str = r#"
export interface SimulatedDeviceOptions {
  vendor?: "ledger" | "trezor";
  /** BIP-39 mnemonic (default: Speculos' seed for Ledger, "all" x12 for Trezor). */
  mnemonic?: string;
  /** The same as `mnemonic`. */
  seed?: string;
  /** Ledger: "Bitcoin Test" (default) or "Bitcoin". */
  testnet?: boolean;
  /** The simulated user: approve all (default), refuse all, ask a function, or
   *  "manual": the page presses the device's buttons with `device.simulator`. */
  approve?: boolean | ((prompt: string) => boolean) | "manual";
  /** Trezor: "t" (default; PIN and passphrase on its screen) or "one" (PIN on the
   *  host's scrambled matrix, read with `device.simulator.pinMatrix`). */
  model?: "one" | "t";
  /** Trezor: protect it with this PIN (digits 1-9). */
  pin?: string;
  /** Trezor: passphrase protection (a new session asks for one). */
  passphrase?: boolean;
  /** Trezor T: what its user types when the passphrase is entered on the device. */
  devicePassphrase?: string;
}
"#;

/// A sample PSBT (base64) for a simulated device: it spends `inputs` (default 2) coins
/// of the device's standard `script` account on testnet (default wpkh, m/84'/1'/0'; tr
/// is m/86'/1'/0'), with change.
///
/// # Errors
/// `invalid-input` for an unknown vendor or script.
#[wasm_bindgen(js_name = samplePsbt)]
pub fn sample_psbt(
    #[wasm_bindgen(unchecked_param_type = "\"ledger\" | \"trezor\"")] vendor: String,
    #[wasm_bindgen(unchecked_optional_param_type = "number")] inputs: Option<u32>,
    #[wasm_bindgen(unchecked_optional_param_type = "\"wpkh\" | \"tr\"")] script: Option<String>,
) -> Result<String, JsValue> {
    let mnemonic = match vendor.as_str() {
        "ledger" => crate::sim::seed::SPECULOS_MNEMONIC,
        "trezor" => TREZOR_TEST_MNEMONIC,
        other => {
            return Err(to_js_error(Error::invalid(
                "vendor",
                format!("{other:?} is neither \"ledger\" nor \"trezor\""),
            )))
        }
    };
    let make = || -> crate::Result<String> {
        let seed = Seed::from_mnemonic(mnemonic, "")?;
        let policy =
            crate::sim::sample::standard_policy(&seed, script.as_deref().unwrap_or("wpkh"), true)?;
        let psbt = crate::sim::sample::funded_psbt(&policy, inputs.unwrap_or(2) as usize)?;
        Ok(crate::protocol::psbt::raw::encode_base64(&psbt.serialize()))
    };
    make().map_err(to_js_error)
}

/// A simulated device on the device API, for the browser tests (the same composition
/// as `simulatedDevice()` in `pkg-template/simulator.js`, with both halves in one wasm).
#[cfg(not(feature = "sim-entry"))]
pub struct SimulatedDevice {
    device: super::JsDevice,
    simulator: Simulator,
}

#[cfg(not(feature = "sim-entry"))]
impl core::ops::Deref for SimulatedDevice {
    type Target = super::JsDevice;
    fn deref(&self) -> &super::JsDevice {
        &self.device
    }
}

#[cfg(not(feature = "sim-entry"))]
impl SimulatedDevice {
    /// The simulator's buttons and screen.
    pub fn simulator(&self) -> Option<Simulator> {
        Some(self.simulator.clone())
    }

    /// The device alone.
    pub fn into_device(self) -> super::JsDevice {
        self.device
    }
}

/// `simulatedDevice(options)` as the simulator entry's JS does it: the simulator, and
/// the device reached through it.
///
/// # Errors
/// `invalid-input` for bad options.
#[cfg(not(feature = "sim-entry"))]
pub fn simulated_device(options: Option<JsValue>) -> Result<SimulatedDevice, JsValue> {
    let simulator = Simulator::new(options)?;
    let link = JsValue::from(simulator.clone());
    let device = if simulator.vendor() == "trezor" {
        super::exchange::trezor_from_link(link, None)
    } else {
        let sim = simulator.clone();
        let exchange = Closure::<dyn FnMut(js_sys::Uint8Array) -> js_sys::Promise>::new(
            move |apdu: js_sys::Uint8Array| sim.exchange(&apdu.to_vec()),
        )
        .into_js_value()
        .unchecked_into::<js_sys::Function>();
        let options = js_sys::Object::new();
        super::device_class::set(&options, "productId", LEDGER_PRODUCT_ID);
        super::exchange::ledger_from_exchange(exchange, Some(options.into()))
    };
    Ok(SimulatedDevice { device, simulator })
}
