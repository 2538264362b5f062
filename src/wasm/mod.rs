//! The JavaScript API of the npm package: device classes, status events, and errors as
//! `Error` objects with a stable `code`.
//!
//! Two wasm modules are built from here. The default entry (`hwsigner`) is everything
//! but [`sim`]; the simulator entry (`hwsigner/simulator`, cargo feature `sim-entry`)
//! is [`sim`] alone, and reaches the default entry's devices through
//! `ledgerFromExchange` and `trezorFromLink`. A build with `simulator` but without
//! `sim-entry` (the browser tests) has both.

#[cfg(not(feature = "sim-entry"))]
mod args;
#[cfg(not(feature = "sim-entry"))]
mod connect;
#[cfg(not(feature = "sim-entry"))]
mod credentials;
#[cfg(not(feature = "sim-entry"))]
mod device_class;
mod errors;
#[cfg(not(feature = "sim-entry"))]
mod events;
#[cfg(not(feature = "sim-entry"))]
mod exchange;
#[cfg(not(feature = "simulator"))]
mod gen_table;
#[cfg(not(feature = "sim-entry"))]
mod prompts;
#[cfg(not(feature = "sim-entry"))]
mod psbt;
#[cfg(not(feature = "sim-entry"))]
pub mod queue;
#[cfg(feature = "simulator")]
pub mod sim;
#[cfg(not(feature = "sim-entry"))]
mod types;

use wasm_bindgen::prelude::*;

#[cfg(not(feature = "sim-entry"))]
pub use connect::{list_devices, request_device};
#[cfg(not(feature = "sim-entry"))]
pub use device_class::JsDevice;
pub use errors::to_js_error;
#[cfg(not(feature = "sim-entry"))]
pub use events::on_device_change;
#[cfg(not(feature = "sim-entry"))]
pub use exchange::{ledger_from_exchange, trezor_from_link};
#[cfg(not(feature = "sim-entry"))]
pub use psbt::psbt_summary;
#[cfg(all(feature = "simulator", not(feature = "sim-entry")))]
pub use sim::simulated_device;
#[cfg(feature = "simulator")]
pub use sim::{sample_policy_psbt, sample_psbt, SimulatedLedgerLink, Simulator};

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

#[cfg(not(feature = "sim-entry"))]
/// The 64-byte HID reports (as hex, concatenated) that carry `apdu_hex` to a Ledger.
///
/// # Errors
/// Rejects with `invalid-input` for bad hex or an over-long APDU.
#[wasm_bindgen(js_name = ledgerFrame)]
pub fn ledger_frame(apdu_hex: &str) -> Result<String, JsValue> {
    let apdu = errors::parse_hex(apdu_hex, "apdu").map_err(to_js_error)?;
    let packets = crate::protocol::ledger::framing::encode(
        crate::protocol::ledger::framing::DEFAULT_CHANNEL,
        &apdu,
    )
    .map_err(to_js_error)?;
    Ok(packets
        .iter()
        .map(|p| crate::protocol::bytes::to_hex(p))
        .collect())
}

#[cfg(not(feature = "sim-entry"))]
/// Finalizes a signed PSBT (base64): resolves to `{psbt, tx}` (base64, hex).
///
/// # Errors
/// Rejects with `invalid-input` when a signature is missing or the PSBT is malformed.
#[wasm_bindgen(js_name = finalizePsbt, unchecked_return_type = "FinalizedPsbt")]
pub fn finalize_psbt(psbt_base64: &str) -> Result<JsValue, JsValue> {
    let psbt = crate::protocol::psbt::raw::decode(psbt_base64.as_bytes()).map_err(to_js_error)?;
    let (final_psbt, tx) = crate::device::finalize(&psbt).map_err(to_js_error)?;
    let o = js_sys::Object::new();
    device_class::set(
        &o,
        "psbt",
        crate::protocol::psbt::raw::encode_base64(&final_psbt.serialize()),
    );
    device_class::set(
        &o,
        "tx",
        crate::protocol::bytes::to_hex(&bitcoin::consensus::serialize(&tx)),
    );
    Ok(o.into())
}
