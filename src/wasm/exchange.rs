//! `ledgerFromExchange()` and `trezorFromLink()`: a device reached through functions the
//! page supplies (another library's transport, a relay, the simulator entry).

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::device::Device;
use crate::transport::web::exchange::ExchangeTransport;
use crate::transport::web::link::MessageLink;

use super::args::Args;
use super::device_class::JsDevice;
use super::errors::to_js_error;
use crate::error::Error;

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

/// A Trezor whose traffic goes out through `link.write` and comes back, one unit per
/// call, from `link.read`: whole messages (`type u16 BE | length u32 BE | protobuf`, as
/// Trezor's bridge and emulator carry them), or with `framing: "reports"` the 64-byte
/// reports of its USB interface (codec v1, or THP for a Safe 7).
///
/// # Errors
/// `invalid-input` for an unknown `framing` or a `credentialStorage` without
/// `getItem` / `setItem`.
#[wasm_bindgen(js_name = trezorFromLink)]
pub fn trezor_from_link(
    #[wasm_bindgen(unchecked_param_type = "TrezorLink")] link: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "LinkOptions")] options: Option<JsValue>,
) -> Result<JsDevice, JsValue> {
    let args = Args::of(options.as_ref(), "options").map_err(to_js_error)?;
    let mut t = MessageLink::new(link);
    match args.string("framing").map_err(to_js_error)?.as_deref() {
        None | Some("messages") => {}
        Some("reports") => t = t.with_reports(),
        Some(other) => {
            return Err(to_js_error(Error::invalid(
                "options",
                format!("framing {other:?} is neither \"messages\" nor \"reports\""),
            )))
        }
    }
    if let Some(id) = product_id(&options) {
        t = t.with_product_id(id);
    }
    let device = JsDevice::new(Device::trezor(Box::new(t)));
    if let Some(storage) = args.object("credentialStorage") {
        device.set_credential_storage(storage)?;
    }
    Ok(device)
}
