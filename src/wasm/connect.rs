//! Finding devices in the browser: the pickers (WebHID for Ledger and the legacy
//! Trezor One, WebUSB for current Trezors) and the devices this page may already use.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use crate::device::Device;
use crate::error::Error;
use crate::protocol::identify::DeviceKind;
use crate::transport::web::webhid::{self, WebHidTransport};
use crate::transport::web::webusb::{self, WebUsbTransport};
use crate::transport::Transport;

use super::device_class::JsDevice;
use super::errors::to_js_error;

async fn open_hid(device: web_sys::HidDevice) -> Result<JsDevice, Error> {
    let t: Box<dyn Transport> = Box::new(WebHidTransport::open(device).await?);
    Ok(JsDevice::new(Device::open(t)?))
}

async fn open_usb(device: web_sys::UsbDevice) -> Result<JsDevice, Error> {
    let t: Box<dyn Transport> = Box::new(WebUsbTransport::open(device).await?);
    Ok(JsDevice::new(Device::trezor(t)))
}

/// Connects a wallet: reuses one this page may already use, else shows the browser's
/// picker. Options: `{vendor?: "ledger" | "trezor", credentialStorage?}` (default:
/// whichever is granted, else the Ledger picker; a browser shows one picker per call,
/// WebHID or WebUSB). A Trezor Safe 7 is found by the same WebUSB picker; its pairing
/// credential goes to `credentialStorage` (default `localStorage`).
#[wasm_bindgen(js_name = requestDevice)]
pub async fn request_device(
    #[wasm_bindgen(unchecked_optional_param_type = "RequestDeviceOptions")] options: Option<
        JsValue,
    >,
) -> Result<JsDevice, JsValue> {
    let options = options.filter(JsValue::is_object);
    let field = |k: &str| {
        options
            .as_ref()
            .and_then(|o| Reflect::get(o, &JsValue::from_str(k)).ok())
    };
    let vendor = field("vendor").and_then(|v| v.as_string());
    let on_status = field("onStatus").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(f) = &on_status {
        let connecting = js_sys::Object::new();
        super::device_class::set(&connecting, "type", "connecting");
        let _ = f.call1(&JsValue::NULL, &connecting);
    }
    let result = async {
        let want_ledger = vendor.as_deref() != Some("trezor");
        let want_trezor = vendor.as_deref() != Some("ledger");
        if let Some(v) = vendor
            .as_deref()
            .filter(|v| !matches!(*v, "ledger" | "trezor"))
        {
            return Err(Error::invalid(
                "vendor",
                format!("{v:?} is neither \"ledger\" nor \"trezor\""),
            ));
        }
        if want_ledger {
            if let Some(d) = webhid::granted_ledgers()
                .await
                .unwrap_or_default()
                .into_iter()
                .next()
            {
                return open_hid(d).await;
            }
        }
        if want_trezor {
            if let Some(d) = webusb::granted_trezors()
                .await
                .unwrap_or_default()
                .into_iter()
                .next()
            {
                return open_usb(d).await;
            }
            if let Some(d) = webhid::granted_trezor_ones()
                .await
                .unwrap_or_default()
                .into_iter()
                .next()
            {
                return open_hid(d).await;
            }
        }
        if want_ledger {
            open_hid(webhid::request(DeviceKind::Ledger).await?).await
        } else {
            open_usb(webusb::request_trezor().await?).await
        }
    }
    .await;
    let device = result.map_err(to_js_error)?;
    device.set_on_status(on_status);
    if let Some(storage) = field("credentialStorage").filter(|s| !s.is_undefined() && !s.is_null())
    {
        device.set_credential_storage(storage)?;
    }
    Ok(device)
}

/// The wallets this page may already use (granted earlier), opened.
#[wasm_bindgen(js_name = listDevices, unchecked_return_type = "Device[]")]
pub async fn list_devices() -> Result<Array, JsValue> {
    let out = Array::new();
    let hid = [
        webhid::granted_ledgers().await,
        webhid::granted_trezor_ones().await,
    ];
    for d in hid.into_iter().flat_map(Result::unwrap_or_default) {
        out.push(&JsValue::from(open_hid(d).await.map_err(to_js_error)?));
    }
    for d in webusb::granted_trezors().await.unwrap_or_default() {
        out.push(&JsValue::from(open_usb(d).await.map_err(to_js_error)?));
    }
    Ok(out)
}
