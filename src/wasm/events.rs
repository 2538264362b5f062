//! Connect and disconnect events of wallets, from `navigator.hid` and `navigator.usb`.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::protocol::identify::{classify, DeviceKind};
use crate::transport::Identity;

use super::device_class::set;

/// An event listener kept alive until the caller stops listening.
type Listener = Closure<dyn FnMut(JsValue)>;

fn identity_of(device: &JsValue) -> Identity {
    let num = |k: &str| {
        Reflect::get(device, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u16
    };
    let collections =
        Reflect::get(device, &JsValue::from_str("collections")).unwrap_or(JsValue::UNDEFINED);
    let usage_page = js_sys::Array::from(&collections)
        .iter()
        .find_map(|c| {
            Reflect::get(&c, &JsValue::from_str("usagePage"))
                .ok()?
                .as_f64()
        })
        .map(|p| p as u16);
    Identity {
        vendor_id: num("vendorId"),
        product_id: num("productId"),
        usage_page,
        product_name: String::new(),
    }
}

/// Calls `callback({type: "connect" | "disconnect", vendor, product})` when a wallet
/// is plugged or unplugged (among those this page may use). Returns a function that
/// stops listening.
#[wasm_bindgen(js_name = onDeviceChange, unchecked_return_type = "() => void")]
pub fn on_device_change(
    #[wasm_bindgen(unchecked_param_type = "(event: DeviceChange) => void")] callback: Function,
) -> JsValue {
    let global = js_sys::global();
    let navigator =
        Reflect::get(&global, &JsValue::from_str("navigator")).unwrap_or(JsValue::UNDEFINED);
    let mut registered: Vec<(JsValue, &'static str, Listener)> = Vec::new();
    for api in ["hid", "usb"] {
        let target =
            Reflect::get(&navigator, &JsValue::from_str(api)).unwrap_or(JsValue::UNDEFINED);
        let Ok(add) = Reflect::get(&target, &JsValue::from_str("addEventListener"))
            .and_then(|f| f.dyn_into::<Function>())
        else {
            continue;
        };
        for kind in ["connect", "disconnect"] {
            let cb = callback.clone();
            let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let device = Reflect::get(&event, &JsValue::from_str("device"))
                    .unwrap_or(JsValue::UNDEFINED);
                let vendor = match classify(&identity_of(&device)) {
                    Some(DeviceKind::Ledger) => "ledger",
                    Some(_) => "trezor",
                    None => return,
                };
                let o = Object::new();
                set(&o, "type", kind);
                set(&o, "vendor", vendor);
                set(
                    &o,
                    "product",
                    Reflect::get(&device, &JsValue::from_str("productName"))
                        .unwrap_or(JsValue::NULL),
                );
                let _ = cb.call1(&JsValue::NULL, &o);
            });
            let _ = add.call2(&target, &JsValue::from_str(kind), listener.as_ref());
            registered.push((target.clone(), kind, listener));
        }
    }
    let stop = Closure::once_into_js(move || {
        for (target, kind, listener) in registered {
            if let Ok(remove) = Reflect::get(&target, &JsValue::from_str("removeEventListener"))
                .and_then(|f| f.dyn_into::<Function>())
            {
                let _ = remove.call2(&target, &JsValue::from_str(kind), listener.as_ref());
            }
        }
    });
    stop
}
