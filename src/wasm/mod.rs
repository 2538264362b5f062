//! The JavaScript API of the npm package: device classes, status events, and errors as
//! `Error` objects with a stable `code`.

mod connect;
mod credentials;
mod device_class;
mod errors;
mod events;
mod exchange;
mod prompts;
mod psbt;
pub mod queue;
#[cfg(feature = "simulator")]
mod sim_gate;
#[cfg(feature = "simulator")]
mod simulated;
#[cfg(feature = "simulator")]
mod simulated_link;
mod types;

use wasm_bindgen::prelude::*;

pub use connect::{list_devices, request_device};
pub use device_class::JsDevice;
pub use errors::to_js_error;
pub use events::on_device_change;
pub use exchange::ledger_from_exchange;
pub use psbt::psbt_summary;
#[cfg(feature = "simulator")]
pub use simulated::{sample_policy_psbt, sample_psbt, simulated_device};
#[cfg(feature = "simulator")]
pub use simulated_link::SimulatedLedgerLink;

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

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
