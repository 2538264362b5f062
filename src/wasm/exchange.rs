//! `ledgerFromExchange()` and `trezorFromLink()`: a device reached through functions the
//! page supplies (another library's transport, a relay, the simulator entry).

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::device::Device;
use crate::transport::web::exchange::ExchangeTransport;
use crate::transport::web::link::MessageLink;

use super::device_class::JsDevice;

/// The `productId` option (the USB product id the device would have: it names the
/// model), if given.
fn product_id(options: &Option<JsValue>) -> Option<u16> {
    let options = options.as_ref().filter(|o| o.is_object())?;
    let id = Reflect::get(options, &JsValue::from_str("productId"))
        .ok()?
        .as_f64()?;
    (0.0..=65535.0).contains(&id).then_some(id as u16)
}

/// A Ledger whose APDUs go through `exchange`, which answers each with the reply data
/// and status word.
#[wasm_bindgen(js_name = ledgerFromExchange)]
pub fn ledger_from_exchange(
    #[wasm_bindgen(
        unchecked_param_type = "(apdu: Uint8Array) => Promise<Uint8Array> | Uint8Array"
    )]
    exchange: Function,
    #[wasm_bindgen(unchecked_optional_param_type = "LinkOptions")] options: Option<JsValue>,
) -> JsDevice {
    let mut t = ExchangeTransport::new(exchange);
    if let Some(id) = product_id(&options) {
        t = t.with_product_id(id);
    }
    JsDevice::new(Device::ledger(Box::new(t)))
}

/// A Trezor whose messages (`type u16 BE | length u32 BE | protobuf`, as Trezor's
/// bridge and emulator carry them) go out through `link.write` and come back, one per
/// call, from `link.read`.
#[wasm_bindgen(js_name = trezorFromLink)]
pub fn trezor_from_link(
    #[wasm_bindgen(unchecked_param_type = "TrezorLink")] link: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "LinkOptions")] options: Option<JsValue>,
) -> JsDevice {
    let mut t = MessageLink::new(link);
    if let Some(id) = product_id(&options) {
        t = t.with_product_id(id);
    }
    JsDevice::new(Device::trezor(Box::new(t)))
}
