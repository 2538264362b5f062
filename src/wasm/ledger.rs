//! `LedgerDevice`: a Ledger over WebHID, with every call queued in order.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::Error;
use crate::ledger::btc::policy::WalletPolicy;
use crate::ledger::device::Status;
use crate::ledger::{Ledger, SignOptions};
use crate::path::parse as parse_path;
use crate::psbt::raw;
use crate::queue::CallQueue;
use crate::transport::webhid::{self, WebHidTransport};
use crate::transport::Transport;

use super::errors::{parse_hex, to_js_error};

/// Any link: WebHID for a real device, memory for the simulated one.
pub type DynLedger = Ledger<Box<dyn Transport>>;

type Shared = Rc<RefCell<Option<DynLedger>>>;

/// A Ledger reached through WebHID. Calls run one at a time, in call order.
#[wasm_bindgen]
pub struct LedgerDevice {
    inner: Shared,
    queue: CallQueue,
    on_status: Rc<RefCell<Option<Function>>>,
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn status_to_js(status: &Status) -> JsValue {
    let obj = Object::new();
    match status {
        Status::OpenApp(name) => {
            set(&obj, "type", "open-app");
            set(&obj, "app", name.as_str());
        }
        Status::ConfirmOnDevice => set(&obj, "type", "confirm-on-device"),
        Status::Signing { index, total } => {
            set(&obj, "type", "signing");
            set(&obj, "index", *index as u32);
            set(&obj, "total", *total as u32);
        }
        Status::Done => set(&obj, "type", "done"),
    }
    obj.into()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyArg {
    #[serde(default)]
    name: String,
    template: String,
    keys: Vec<String>,
    #[serde(default)]
    hmac: Option<String>,
}

impl PolicyArg {
    fn parse(value: JsValue) -> Result<(WalletPolicy, Option<[u8; 32]>), Error> {
        let arg: PolicyArg = serde_wasm_bindgen::from_value(value)
            .map_err(|e| Error::invalid("policy", e.to_string()))?;
        let policy = WalletPolicy::new(&arg.name, &arg.template, arg.keys)?;
        Ok((policy, parse_hmac(arg.hmac)?))
    }
}

/// A registration hmac given as hex.
fn parse_hmac(hex: Option<String>) -> Result<Option<[u8; 32]>, Error> {
    hex.map(|h| {
        parse_hex(&h, "hmac")?
            .try_into()
            .map_err(|_| Error::invalid("hmac", "must be 32 bytes"))
    })
    .transpose()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FlagOptions {
    #[serde(default)]
    display: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressArg {
    #[serde(default)]
    name: String,
    template: String,
    keys: Vec<String>,
    #[serde(default)]
    hmac: Option<String>,
    #[serde(default)]
    change: bool,
    #[serde(default)]
    index: u32,
    #[serde(default)]
    display: bool,
}

fn options<T: for<'de> Deserialize<'de> + Default>(
    value: JsValue,
    field: &str,
) -> Result<T, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid(field, e.to_string()))
}

impl LedgerDevice {
    /// Wraps a driver; every call through JS is queued in order.
    pub fn new(ledger: DynLedger) -> Self {
        let on_status: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
        let mut ledger = ledger;
        let cb = on_status.clone();
        ledger.on_status(move |s| {
            if let Some(f) = cb.borrow().as_ref() {
                let _ = f.call1(&JsValue::NULL, &status_to_js(&s));
            }
        });
        LedgerDevice {
            inner: Rc::new(RefCell::new(Some(ledger))),
            queue: CallQueue::new(),
            on_status,
        }
    }

    /// Runs `f` on the device in its turn, as a promise.
    fn call<F, Fut, T>(&self, f: F) -> Promise
    where
        F: FnOnce(DynLedger) -> Fut + 'static,
        Fut: core::future::Future<Output = (DynLedger, Result<T, Error>)> + 'static,
        T: Into<JsValue>,
    {
        let inner = self.inner.clone();
        let queue = self.queue.clone();
        future_to_promise(async move {
            let _turn = queue.turn().await;
            let ledger = inner
                .borrow_mut()
                .take()
                .ok_or_else(|| to_js_error(Error::Disconnected))?;
            let (ledger, result) = f(ledger).await;
            *inner.borrow_mut() = Some(ledger);
            result.map(Into::into).map_err(to_js_error)
        })
    }
}

#[wasm_bindgen]
impl LedgerDevice {
    /// Receives status events: `{type: "confirm-on-device" | "open-app" | "signing" | "done", ...}`.
    #[wasm_bindgen(setter = onStatus)]
    pub fn set_on_status(&self, callback: Option<Function>) {
        *self.on_status.borrow_mut() = callback;
    }

    /// `{name, version, flags}` of the app that runs (`BOLOS` for the dashboard).
    pub fn info(&self) -> Promise {
        self.call(|mut l| async move {
            let r = l.app_info().await.map(|i| {
                let o = Object::new();
                set(&o, "vendor", "ledger");
                set(&o, "product", l.transport().identity().product_name);
                set(&o, "name", i.name.as_str());
                set(&o, "version", i.version.as_str());
                set(&o, "flags", crate::bytes::to_hex(&i.flags));
                JsValue::from(o)
            });
            (l, r)
        })
    }

    /// Opens the app `name` ("Bitcoin" or "Bitcoin Test") and follows the device through
    /// its re-enumeration.
    #[wasm_bindgen(js_name = openApp)]
    pub fn open_app(&self, name: String) -> Promise {
        self.call(move |mut l| async move {
            let r = l
                .open_app(&name)
                .await
                .map(|i| JsValue::from_str(&i.version));
            (l, r)
        })
    }

    /// The master fingerprint, as 8 hex digits.
    #[wasm_bindgen(js_name = masterFingerprint)]
    pub fn master_fingerprint(&self) -> Promise {
        self.call(|mut l| async move {
            let r = l
                .master_fingerprint()
                .await
                .map(|f| JsValue::from_str(&f.to_string()));
            (l, r)
        })
    }

    /// The xpub at `path` (`m/84'/0'/0'`); `{display: true}` shows it on the device.
    pub fn xpub(&self, path: String, options_js: JsValue) -> Promise {
        self.call(move |mut l| async move {
            let r = async {
                let opts: FlagOptions = options(options_js, "options")?;
                let path = parse_path(&path)?;
                l.xpub(&path, opts.display)
                    .await
                    .map(|x| JsValue::from_str(&x.to_string()))
            }
            .await;
            (l, r)
        })
    }

    /// Registers `{name, template, keys}`; resolves to `{id, hmac}` (hex).
    #[wasm_bindgen(js_name = registerPolicy)]
    pub fn register_policy(&self, policy_js: JsValue) -> Promise {
        self.call(move |mut l| async move {
            let r = async {
                let (policy, _) = PolicyArg::parse(policy_js)?;
                let reg = l.register_policy(&policy).await?;
                let o = Object::new();
                set(&o, "id", crate::bytes::to_hex(&reg.id));
                set(&o, "hmac", crate::bytes::to_hex(&reg.hmac));
                Ok(JsValue::from(o))
            }
            .await;
            (l, r)
        })
    }

    /// The address of `{template, keys, name?, hmac?, change?, index?, display?}`,
    /// checked against the host's own derivation.
    pub fn address(&self, arg_js: JsValue) -> Promise {
        self.call(move |mut l| async move {
            let r = async {
                let arg: AddressArg = serde_wasm_bindgen::from_value(arg_js)
                    .map_err(|e| Error::invalid("address options", e.to_string()))?;
                let policy = WalletPolicy::new(&arg.name, &arg.template, arg.keys)?;
                let hmac = parse_hmac(arg.hmac)?;
                l.address(&policy, hmac.as_ref(), arg.change, arg.index, arg.display)
                    .await
                    .map(JsValue::from)
            }
            .await;
            (l, r)
        })
    }

    /// Signs a PSBT (base64); resolves to the signed PSBT (base64). `{policy}` gives the
    /// wallet policy; without it the standard policy is inferred.
    #[wasm_bindgen(js_name = signPsbt)]
    pub fn sign_psbt(&self, psbt_base64: String, options_js: JsValue) -> Promise {
        self.call(move |mut l| async move {
            let r = async {
                let psbt = raw::decode(psbt_base64.as_bytes())?;
                let policy_js = if options_js.is_object() {
                    Reflect::get(&options_js, &JsValue::from_str("policy"))
                        .unwrap_or(JsValue::UNDEFINED)
                } else {
                    JsValue::UNDEFINED
                };
                let policy = if policy_js.is_undefined() || policy_js.is_null() {
                    None
                } else {
                    Some(PolicyArg::parse(policy_js)?)
                };
                let signed = l.sign_psbt(&psbt, &SignOptions { policy }).await?;
                Ok(JsValue::from_str(&raw::encode_base64(
                    &signed.psbt.serialize(),
                )))
            }
            .await;
            (l, r)
        })
    }

    /// Signs `message` with the key at `path`; resolves to a base64 BIP-137 signature.
    #[wasm_bindgen(js_name = signMessage)]
    pub fn sign_message(&self, path: String, message: String) -> Promise {
        self.call(move |mut l| async move {
            let r = async {
                let path = parse_path(&path)?;
                l.sign_message(&path, message.as_bytes())
                    .await
                    .map(JsValue::from)
            }
            .await;
            (l, r)
        })
    }

    /// Releases the device.
    pub fn close(&self) -> Promise {
        self.call(|mut l| async move {
            let r = l.close().await.map(|_| JsValue::UNDEFINED);
            (l, r)
        })
    }
}

async fn open(device: web_sys::HidDevice) -> Result<LedgerDevice, Error> {
    let transport: Box<dyn Transport> = Box::new(WebHidTransport::open(device).await?);
    Ok(LedgerDevice::new(Ledger::new(transport)))
}

/// Connects a Ledger: reuses a granted one, else shows the browser's picker.
#[wasm_bindgen(js_name = requestDevice)]
pub async fn request_device() -> Result<LedgerDevice, JsValue> {
    let device = match webhid::granted_ledgers()
        .await
        .map_err(to_js_error)?
        .into_iter()
        .next()
    {
        Some(d) => d,
        None => webhid::request_ledger().await.map_err(to_js_error)?,
    };
    open(device).await.map_err(to_js_error)
}

/// The Ledger devices this page may already use, opened.
#[wasm_bindgen(js_name = listDevices)]
pub async fn list_devices() -> Result<Array, JsValue> {
    let out = Array::new();
    for d in webhid::granted_ledgers().await.map_err(to_js_error)? {
        out.push(&JsValue::from(open(d).await.map_err(to_js_error)?));
    }
    Ok(out)
}
