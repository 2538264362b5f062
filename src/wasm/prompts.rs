//! `device.onPin`, `device.onPassphrase` and `device.onPairingCode`: the page's
//! handlers, as the driver's [`Prompts`]. A handler may return its answer or a promise of it; one that throws or
//! rejects cancels the call (`cancelled`), and the device is taken off its prompt.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::driver::prompts::{
    no_pairing_code_handler, no_passphrase_handler, no_pin_handler, Prompts,
};
use crate::error::{Error, Result};
use crate::protocol::machine::{Passphrase, PinKind};

use super::device_class::set;

type Slot = Rc<RefCell<Option<Function>>>;

/// The handlers a page set on one device.
#[derive(Clone, Default)]
pub struct JsHandlers {
    /// `onPin(request) => positions`.
    pub pin: Slot,
    /// `onPassphrase(request) => passphrase | {onDevice: true}`.
    pub passphrase: Slot,
    /// `onPairingCode() => "123456"` (Trezor Safe 7).
    pub pairing_code: Slot,
}

/// Calls `f(arg)` and waits for its answer.
async fn call(f: Function, arg: JsValue) -> Result<JsValue> {
    let returned = f
        .call1(&JsValue::NULL, &arg)
        .map_err(|_| Error::Cancelled)?;
    JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|_| Error::Cancelled)
}

impl Prompts for JsHandlers {
    fn pin(&mut self, kind: PinKind) -> LocalBoxFuture<'_, Result<String>> {
        let f = self.pin.borrow().clone();
        Box::pin(async move {
            let f = f.ok_or_else(no_pin_handler)?;
            let request = Object::new();
            set(&request, "kind", kind.name());
            call(f, request.into()).await?.as_string().ok_or_else(|| {
                Error::invalid(
                    "pin",
                    "onPin must give the positions on the matrix as a string (\"7193\")",
                )
            })
        })
    }

    fn passphrase(&mut self, on_device: bool) -> LocalBoxFuture<'_, Result<Passphrase>> {
        let f = self.passphrase.borrow().clone();
        Box::pin(async move {
            let f = f.ok_or_else(no_passphrase_handler)?;
            let request = Object::new();
            set(&request, "onDevice", on_device);
            let answer = call(f, request.into()).await?;
            if let Some(text) = answer.as_string() {
                return Ok(Passphrase::Text(text));
            }
            let typed_on_device = answer.is_object()
                && Reflect::get(&answer, &JsValue::from_str("onDevice"))
                    .is_ok_and(|v| v.is_truthy());
            if typed_on_device {
                return Ok(Passphrase::OnDevice);
            }
            Err(Error::invalid(
                "passphrase",
                "onPassphrase must give a string (\"\" for the standard wallet) or {onDevice: true}",
            ))
        })
    }

    fn pairing_code(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        let f = self.pairing_code.borrow().clone();
        Box::pin(async move {
            let f = f.ok_or_else(no_pairing_code_handler)?;
            let answer = call(f, JsValue::UNDEFINED).await?;
            match answer
                .as_string()
                // A number is taken as the 6 digits (no float formatting: its code
                // would weigh 10 KB gzip in the package).
                .or_else(|| {
                    answer
                        .as_f64()
                        .filter(|n| n.fract() == 0.0 && (0.0..1e6).contains(n))
                        .map(|n| format!("{:06}", n as u32))
                }) {
                Some(code) => Ok(code),
                None => Err(Error::invalid(
                    "pairing code",
                    "onPairingCode must give the 6 digits the trezor shows, as a string",
                )),
            }
        })
    }
}
