//! The JavaScript API of the npm package: device classes, status events, and errors as
//! `Error` objects with a stable `code`.

mod errors;
mod ledger;
#[cfg(feature = "simulator")]
mod simulated;

use wasm_bindgen::prelude::*;

pub use errors::to_js_error;
pub use ledger::{list_devices, request_device, LedgerDevice};
#[cfg(feature = "simulator")]
pub use simulated::simulated_device;

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
    let packets = crate::ledger::framing::encode(crate::ledger::framing::DEFAULT_CHANNEL, &apdu)
        .map_err(to_js_error)?;
    Ok(packets.iter().map(|p| crate::bytes::to_hex(p)).collect())
}
