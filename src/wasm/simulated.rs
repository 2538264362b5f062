//! `simulatedDevice()`: a simulated Ledger in the page, reached through the same HID
//! framing as a real one, for trying things out and for tests without hardware.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::device::Device;
use crate::error::Error;
use crate::sim::confirm::{Confirm, Prompt};
use crate::sim::fault::Faults;
use crate::sim::ledger::serve::hid_transport;
use crate::sim::ledger::{SimLedger, SimLedgerOptions};
use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use crate::sim::trezor::{Model, Safe7Sim, TrezorSim};
use crate::transport::Transport;

use super::device_class::JsDevice;
use super::errors::to_js_error;
use super::sim_gate::{gated, Simulator};
use crate::transport::Identity;

/// How a device is made from a link.
type DeviceOf = fn(Box<dyn Transport>) -> Device;

fn prompt_text(p: &Prompt) -> String {
    match p {
        Prompt::Show(s) => format!("show {s}"),
        Prompt::RegisterPolicy(s) => format!("register {s}"),
        Prompt::SignTransaction(s) => format!("sign transaction: {s}"),
        Prompt::SignMessage(s) => format!("sign message: {s}"),
        Prompt::OpenApp(s) => format!("open {s}"),
        Prompt::EnterPin => "enter the pin on the device".into(),
        Prompt::EnterPassphrase => "type the passphrase on the device".into(),
    }
}

/// A simulated device. Options: `{vendor: "ledger" | "trezor", mnemonic?, testnet? = true (ledger),
/// approve? = true | false | (prompt: string) => boolean}`.
#[wasm_bindgen(js_name = simulatedDevice)]
pub fn simulated_device(
    #[wasm_bindgen(unchecked_param_type = "SimulatedDeviceOptions")] options: Option<JsValue>,
) -> Result<JsDevice, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let get = |key: &str| {
        if options.is_object() {
            Reflect::get(&options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    };
    let vendor = get("vendor").as_string().unwrap_or_else(|| "ledger".into());
    if !matches!(vendor.as_str(), "ledger" | "trezor") {
        return Err(to_js_error(Error::invalid(
            "vendor",
            format!("{vendor:?} is neither \"ledger\" nor \"trezor\""),
        )));
    }
    let mut o = SimLedgerOptions::default();
    if let Some(m) = mnemonic_of(&get) {
        o.mnemonic = m;
    }
    if let Some(t) = get("testnet").as_bool() {
        o.testnet = t;
    }
    let approve = get("approve");
    let manual = approve.as_string().as_deref() == Some("manual");
    let prompts: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
    o.confirm = if manual {
        let record = prompts.clone();
        Confirm::Ask(Rc::new(move |p: &Prompt| {
            record.borrow_mut().push(prompt_text(p));
            true
        }))
    } else if let Some(b) = approve.as_bool() {
        if b {
            Confirm::Approve
        } else {
            Confirm::Refuse
        }
    } else if let Some(f) = approve.dyn_ref::<Function>() {
        let f = f.clone();
        Confirm::Ask(Rc::new(move |p: &Prompt| {
            f.call1(&JsValue::NULL, &JsValue::from_str(&prompt_text(p)))
                .map(|v| v.is_truthy())
                .unwrap_or(false)
        }))
    } else {
        Confirm::Approve
    };
    // A simulated Trezor is always behind the gate, so the page can read its screen
    // (the pin matrix) through `device.simulator`.
    if manual || vendor == "trezor" {
        let (sim, identity, device_of): (Simulator, Identity, DeviceOf) = if vendor == "trezor" {
            let mnemonic = mnemonic_of(&get).unwrap_or_else(|| TREZOR_TEST_MNEMONIC.into());
            let seed = Seed::from_mnemonic(&mnemonic, "").map_err(to_js_error)?;
            let identity = Identity {
                vendor_id: 0x1209,
                product_id: 0x53c1,
                usage_page: None,
                product_name: "TREZOR (simulated)".into(),
            };
            let safe7 = get("model").as_string().as_deref() == Some("safe7");
            let sim = protected_trezor(
                TrezorSim::new(seed, o.confirm, Faults::none()),
                &get,
                &mnemonic,
            )
            .map_err(to_js_error)?;
            if safe7 {
                // A new random seed: each page's simulated Safe 7 shows other codes.
                let sim =
                    Safe7Sim::new(sim).with_random_seed((js_sys::Math::random() * 9.0e15) as u64);
                (Simulator::Safe7(Box::new(sim)), identity, Device::trezor)
            } else {
                (Simulator::Trezor(Box::new(sim)), identity, Device::trezor)
            }
        } else {
            let identity = Identity {
                vendor_id: 0x2c97,
                product_id: 0x5011,
                usage_page: Some(0xffa0),
                product_name: "Simulated Ledger".into(),
            };
            (
                Simulator::Ledger(SimLedger::new(o)),
                identity,
                Device::ledger,
            )
        };
        let (link, control) = gated(sim, prompts, identity);
        let device = JsDevice::with_simulator(device_of(Box::new(link)), control);
        let storage = get("credentialStorage");
        if !storage.is_undefined() && !storage.is_null() {
            device.set_credential_storage(storage)?;
        }
        return Ok(device);
    }
    let sim = Rc::new(RefCell::new(SimLedger::new(o)));
    let transport: Box<dyn Transport> = Box::new(hid_transport(sim));
    Ok(JsDevice::new(Device::ledger(transport)))
}

/// A simulated Trezor with the options `model` ("one" | "t"), `pin`, `passphrase`
/// (protection on) and `devicePassphrase` (what its user types on a T).
fn protected_trezor(
    mut sim: TrezorSim,
    get: &impl Fn(&str) -> JsValue,
    mnemonic: &str,
) -> crate::Result<TrezorSim> {
    match get("model").as_string().as_deref() {
        None | Some("t") | Some("T") | Some("safe7") => {}
        Some("one") | Some("1") => sim = sim.with_model(Model::One),
        Some(other) => {
            return Err(Error::invalid(
                "model",
                format!("{other:?} is not \"one\", \"t\" or \"safe7\""),
            ))
        }
    }
    // The firmware scrambles the matrix with its RNG.
    sim = sim.with_matrix_seed((js_sys::Math::random() * 9.0e15) as u64);
    if let Some(pin) = get("pin").as_string() {
        if pin.is_empty() || !pin.chars().all(|c| ('1'..='9').contains(&c)) {
            return Err(Error::invalid("pin", "digits 1 to 9"));
        }
        sim = sim.with_pin(&pin);
    }
    if get("passphrase").is_truthy() {
        sim = sim.with_passphrase(mnemonic);
    }
    if let Some(p) = get("devicePassphrase").as_string() {
        sim = sim.with_device_passphrase(&p);
    }
    Ok(sim)
}

/// The mnemonic option (`mnemonic`, or `seed` as design.md names it).
fn mnemonic_of(get: &impl Fn(&str) -> JsValue) -> Option<String> {
    get("mnemonic")
        .as_string()
        .or_else(|| get("seed").as_string())
}

/// A sample PSBT (base64) for a simulated device: it spends `inputs` (default 2) coins
/// of the device's standard `script` account on testnet (default wpkh, m/84'/1'/0'; tr
/// is m/86'/1'/0'), with change.
#[wasm_bindgen(js_name = samplePsbt)]
pub fn sample_psbt(
    #[wasm_bindgen(unchecked_param_type = "Vendor")] vendor: String,
    inputs: Option<u32>,
    #[wasm_bindgen(unchecked_param_type = "\"wpkh\" | \"tr\"")] script: Option<String>,
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
#[wasm_bindgen(js_name = samplePolicyPsbt)]
pub fn sample_policy_psbt(
    #[wasm_bindgen(unchecked_param_type = "WalletPolicy")] policy: JsValue,
    inputs: Option<u32>,
) -> Result<String, JsValue> {
    let make = || -> crate::Result<String> {
        let get = |key: &str| Reflect::get(&policy, &JsValue::from_str(key)).ok();
        let name = get("name").and_then(|v| v.as_string()).unwrap_or_default();
        let template = get("template")
            .and_then(|v| v.as_string())
            .ok_or_else(|| Error::invalid("policy", "no template"))?;
        let keys = get("keys")
            .filter(js_sys::Array::is_array)
            .ok_or_else(|| Error::invalid("policy", "no keys array"))?;
        let keys = js_sys::Array::from(&keys)
            .iter()
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| Error::invalid("policy keys", "every key is a string"))
            })
            .collect::<crate::Result<Vec<String>>>()?;
        let policy = crate::protocol::policy::WalletPolicy::new(&name, &template, keys)?;
        let psbt = crate::sim::sample::funded_psbt(&policy, inputs.unwrap_or(2) as usize)?;
        Ok(crate::protocol::psbt::raw::encode_base64(&psbt.serialize()))
    };
    make().map_err(to_js_error)
}
