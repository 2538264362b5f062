//! `ledgerFromExchange()`: a Ledger reached through a function the page supplies, which
//! carries whole APDUs (another library's transport, a relay, a simulator).

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::device::Device;
use crate::transport::web::exchange::ExchangeTransport;

use super::device_class::JsDevice;

/// A Ledger whose APDUs go through `exchange`, which answers each with the reply data
/// and status word.
#[wasm_bindgen(js_name = ledgerFromExchange)]
pub fn ledger_from_exchange(
    #[wasm_bindgen(
        unchecked_param_type = "(apdu: Uint8Array) => Promise<Uint8Array> | Uint8Array"
    )]
    exchange: Function,
) -> JsDevice {
    JsDevice::new(Device::ledger(Box::new(ExchangeTransport::new(exchange))))
}
