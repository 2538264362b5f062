//! The JS bindings of the `hwsigner/simulator` npm entry (its own wasm): simulated
//! devices that the default entry reaches as it reaches any other link, through
//! `ledgerFromExchange` (a Ledger's APDUs) and `trezorFromLink` (a Trezor One or T's
//! messages, a Safe 7's THP packets).
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
  /** Trezor: "t" (default; PIN and passphrase on its screen), "one" (PIN on the
   *  host's scrambled matrix, read with `device.simulator.pinMatrix`) or "safe7" (the
   *  Trezor Host Protocol: pairing with the code `device.simulator.pairingCode`). */
  model?: "one" | "t" | "safe7";
  /** Trezor Safe 7: where the pairing credential is kept (default localStorage). */
  credentialStorage?: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
  };
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

/// A sample PSBT (base64) spending `inputs` (default 2) made-up coins that the wallet
/// policy `{name?, template, keys}` received at receive indexes 0.., with change back to
/// it, and every field a signer needs (for `musig()`, the aggregate's BIP-328
/// derivations and the BIP-373 participant lists).
///
/// # Errors
/// `invalid-input` for a malformed policy.
#[wasm_bindgen(js_name = samplePolicyPsbt)]
pub fn sample_policy_psbt(
    #[wasm_bindgen(unchecked_param_type = "{ name?: string; template: string; keys: string[] }")]
    policy: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "number")] inputs: Option<u32>,
) -> Result<String, JsValue> {
    let make = || -> crate::Result<String> {
        let get = |key: &str| {
            js_sys::Reflect::get(&policy, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        if !policy.is_object() {
            return Err(Error::invalid("policy", "must be an object"));
        }
        let name = match get("name") {
            None => String::new(),
            Some(v) => v
                .as_string()
                .ok_or_else(|| Error::invalid("policy", "name must be a string"))?,
        };
        let template = get("template")
            .and_then(|v| v.as_string())
            .ok_or_else(|| Error::invalid("policy", "template must be a string"))?;
        let keys = get("keys")
            .filter(js_sys::Array::is_array)
            .ok_or_else(|| Error::invalid("policy", "keys must be an array of strings"))?;
        let keys = js_sys::Array::from(&keys)
            .iter()
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| Error::invalid("policy", "keys must be an array of strings"))
            })
            .collect::<crate::Result<Vec<String>>>()?;
        let policy = crate::protocol::policy::WalletPolicy::new(&name, &template, keys)?;
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
    let storage = options
        .as_ref()
        .filter(|o| o.is_object())
        .and_then(|o| js_sys::Reflect::get(o, &JsValue::from_str("credentialStorage")).ok());
    let simulator = Simulator::new(options)?;
    let link = JsValue::from(simulator.clone());
    let device = if simulator.vendor() == "trezor" {
        let options = js_sys::Object::new();
        super::device_class::set(&options, "framing", simulator.framing());
        if let Some(storage) = storage {
            super::device_class::set(&options, "credentialStorage", storage);
        }
        super::exchange::trezor_from_link(link, Some(options.into()))?
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
