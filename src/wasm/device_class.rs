//! The JS `Device` class: any wallet (Ledger over WebHID, Trezor over WebUSB or
//! WebHID, or a simulated one), with every call queued in order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::device::{AddressRequest, AddressSource, Device, SignOptions, Status};
use crate::driver::abort::AbortHandle;
use crate::error::Error;
use crate::protocol::path::parse as parse_path;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw;
use crate::transport::web::browser::Listener;
use crate::wasm::queue::CallQueue;

use super::args::{parse_hmac, Args};
use super::errors::to_js_error;
use super::prompts::JsHandlers;

type Shared = Rc<RefCell<Option<Device>>>;

/// One call's work on the device, boxed so that the queueing code exists once.
type Work = Box<
    dyn FnOnce(
        Device,
    ) -> futures::future::LocalBoxFuture<'static, (Device, Result<JsValue, Error>)>,
>;

/// A hardware wallet. Calls run one at a time, in call order, never interleaved.
#[wasm_bindgen(js_name = Device)]
pub struct JsDevice {
    inner: Shared,
    queue: CallQueue,
    /// Aborts the Trezor call under way (a Ledger call just stops being waited for).
    abort: AbortHandle,
    /// Which call talks to the device now (0: none), so an abort reaches only its own.
    running: Rc<Cell<u64>>,
    next_id: Rc<Cell<u64>>,
    vendor: &'static str,
    on_status: Rc<RefCell<Option<Function>>>,
    handlers: JsHandlers,
}

pub(super) fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn status_to_js(status: &Status) -> JsValue {
    let obj = Object::new();
    let kind = match status {
        Status::OpenApp(name) => {
            set(&obj, "app", name.as_str());
            "open-app"
        }
        Status::ConfirmOnDevice => "confirm-on-device",
        Status::EnterPin => "enter-pin",
        Status::EnterPassphrase => "enter-passphrase",
        Status::EnterPinOnDevice => "enter-pin-on-device",
        Status::EnterPassphraseOnDevice => "enter-passphrase-on-device",
        Status::EnterPairingCode => "enter-pairing-code",
        Status::Signing { index, total } => {
            set(&obj, "index", *index as u32);
            set(&obj, "total", *total as u32);
            "signing"
        }
        Status::Done => "done",
    };
    set(&obj, "type", kind);
    obj.into()
}

impl JsDevice {
    /// Wraps a device; status events go to `onStatus`.
    pub fn new(mut device: Device) -> Self {
        let on_status: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
        let cb = on_status.clone();
        device.on_status(move |s| {
            if let Some(f) = cb.borrow().as_ref() {
                let _ = f.call1(&JsValue::NULL, &status_to_js(&s));
            }
        });
        let vendor = device.vendor().name();
        let abort = AbortHandle::new();
        // A Trezor is sent Cancel on an abort; a Ledger call runs to its end.
        device.hooks().abort = Some(abort.clone());
        let handlers = JsHandlers::default();
        device.set_prompts(Box::new(handlers.clone()));
        if let Some(t) = device.as_trezor() {
            // THP (Safe 7): credentials in localStorage unless the page passes a
            // storage; the app named by the page's host.
            if let Some(store) = super::credentials::JsCredentialStore::local_storage() {
                t.set_credential_store(Box::new(store));
            }
            let host = Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
                .and_then(|l| Reflect::get(&l, &JsValue::from_str("host")))
                .ok()
                .and_then(|h| h.as_string())
                .filter(|h| !h.is_empty());
            t.set_host_identity(crate::driver::thp::HostIdentity {
                host_name: "browser".into(),
                app_name: host.unwrap_or_else(|| "hwsigner".into()),
            });
        }
        JsDevice {
            inner: Rc::new(RefCell::new(Some(device))),
            queue: CallQueue::new(),
            abort,
            running: Rc::new(Cell::new(0)),
            next_id: Rc::new(Cell::new(1)),
            vendor,
            on_status,
            handlers,
        }
    }

    /// Runs `f` on the device in its turn, as a promise.
    fn call<F, Fut>(&self, f: F) -> Promise
    where
        F: FnOnce(Device) -> Fut + 'static,
        Fut: core::future::Future<Output = (Device, Result<JsValue, Error>)> + 'static,
    {
        self.call_with(None, f)
    }

    /// Like `call`, cancellable with an `AbortSignal`: an abort rejects the promise with
    /// `cancelled` at once. A call still queued never reaches the device; one already
    /// talking to it runs to its end in the background, so the channel stays in step
    /// and the next call works.
    fn call_with<F, Fut>(&self, signal: Option<JsValue>, f: F) -> Promise
    where
        F: FnOnce(Device) -> Fut + 'static,
        Fut: core::future::Future<Output = (Device, Result<JsValue, Error>)> + 'static,
    {
        self.run(signal, Box::new(move |d| Box::pin(f(d))))
    }

    /// The body of every call, compiled once (not once per method).
    fn run(&self, signal: Option<JsValue>, work: Work) -> Promise {
        let inner = self.inner.clone();
        let queue = self.queue.clone();
        let signal = signal.filter(|s| s.is_object());
        let aborted = {
            let signal = signal.clone();
            move || {
                signal.as_ref().is_some_and(|s| {
                    Reflect::get(s, &JsValue::from_str("aborted"))
                        .ok()
                        .is_some_and(|a| a.is_truthy())
                })
            }
        };
        if aborted() {
            return Promise::reject(&to_js_error(Error::Cancelled));
        }
        let (tx, rx) = futures::channel::oneshot::channel::<Result<JsValue, JsValue>>();
        let still_wanted = aborted.clone();
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let (running, running_then) = (self.running.clone(), self.running.clone());
        let (abort, abort_then) = (self.abort.clone(), self.abort.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _turn = queue.turn().await;
            if still_wanted() {
                let _ = tx.send(Err(to_js_error(Error::Cancelled)));
                return;
            }
            abort.clear();
            running.set(id);
            let Some(device) = inner.borrow_mut().take() else {
                let _ = tx.send(Err(to_js_error(Error::Disconnected)));
                return;
            };
            let (device, result) = work(device).await;
            running.set(0);
            *inner.borrow_mut() = Some(device);
            let _ = tx.send(result.map_err(to_js_error));
        });
        future_to_promise(async move {
            let result = async {
                rx.await
                    .unwrap_or_else(|_| Err(to_js_error(Error::Cancelled)))
            };
            match signal {
                None => result.await,
                Some(signal) => {
                    // A listener removed when the call ends (dropped here), whichever
                    // way it ends: nothing of a finished call stays on the signal.
                    let (abort_tx, abort_rx) = futures::channel::oneshot::channel::<()>();
                    let mut abort_tx = Some(abort_tx);
                    let listener = Listener::new(&signal, "abort", move |_| {
                        if let Some(t) = abort_tx.take() {
                            let _ = t.send(());
                        }
                    });
                    let Ok(_listener) = listener else {
                        return result.await;
                    };
                    futures::pin_mut!(result);
                    match futures::future::select(result, abort_rx).await {
                        futures::future::Either::Left((r, _)) => r,
                        futures::future::Either::Right(_) => {
                            if running_then.get() == id {
                                abort_then.abort();
                            }
                            Err(to_js_error(Error::Cancelled))
                        }
                    }
                }
            }
        })
    }
}

/// The `signal` of an options object, if any.
fn signal_of(options: &Option<JsValue>) -> Option<JsValue> {
    options
        .as_ref()
        .filter(|o| o.is_object())
        .and_then(|o| Reflect::get(o, &JsValue::from_str("signal")).ok())
        .filter(|s| !s.is_undefined() && !s.is_null())
}

#[wasm_bindgen(js_class = Device)]
impl JsDevice {
    /// `"ledger"` or `"trezor"`.
    #[wasm_bindgen(getter, unchecked_return_type = "Vendor")]
    pub fn vendor(&self) -> String {
        self.vendor.to_string()
    }

    /// Receives `{type: "open-app" | "confirm-on-device" | "enter-pin" | "enter-passphrase" | "enter-pairing-code" | "signing" | "done", ...}`.
    #[wasm_bindgen(setter = onStatus)]
    pub fn set_on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "((status: Status) => void) | undefined")]
        callback: Option<Function>,
    ) {
        *self.on_status.borrow_mut() = callback;
    }

    /// Gives the PIN when a Trezor One asks: `(request: {kind}) => positions`, the
    /// positions (7 8 9 top row) of the PIN's digits on the scrambled matrix the device
    /// shows, or a promise of them. Throwing or rejecting cancels the call.
    #[wasm_bindgen(setter = onPin)]
    pub fn set_on_pin(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "((request: PinRequest) => string | Promise<string>) | undefined"
        )]
        handler: Option<Function>,
    ) {
        *self.handlers.pin.borrow_mut() = handler;
    }

    /// Gives the passphrase when the device asks: `(request: {onDevice}) => passphrase`
    /// ("" for the standard wallet), or `{onDevice: true}` to type it on a Trezor T or
    /// Safe (when `request.onDevice` says it can). Throwing or rejecting cancels.
    #[wasm_bindgen(setter = onPassphrase)]
    pub fn set_on_passphrase(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "((request: PassphraseRequest) => PassphraseAnswer | Promise<PassphraseAnswer>) | undefined"
        )]
        handler: Option<Function>,
    ) {
        *self.handlers.passphrase.borrow_mut() = handler;
    }

    /// Gives the pairing code when a Trezor Safe 7 meets this page for the first time:
    /// `() => "123456"`, the 6 digits it shows, or a promise of them. Throwing or
    /// rejecting cancels. Later connections use the stored credential instead.
    #[wasm_bindgen(setter = onPairingCode)]
    pub fn set_on_pairing_code(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(() => string | Promise<string>) | undefined")]
        handler: Option<Function>,
    ) {
        *self.handlers.pairing_code.borrow_mut() = handler;
    }

    /// Where a Trezor Safe 7's pairing credential is kept (default `localStorage`):
    /// any object with `getItem(key)` and `setItem(key, value)`.
    ///
    /// # Errors
    /// `invalid-input` for an object without them.
    #[wasm_bindgen(setter = credentialStorage)]
    pub fn set_credential_storage(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CredentialStorage")] storage: JsValue,
    ) -> Result<(), JsValue> {
        if !super::credentials::is_storage(&storage) {
            return Err(to_js_error(Error::invalid(
                "credentialStorage",
                "expected an object with getItem and setItem (like localStorage)",
            )));
        }
        if let Some(d) = self.inner.borrow_mut().as_mut() {
            if let Some(t) = d.as_trezor() {
                t.set_credential_store(Box::new(super::credentials::JsCredentialStore::new(
                    storage,
                )));
            }
        }
        Ok(())
    }

    /// Locks the device (Trezor): its PIN is asked again and the passphrase forgotten.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn lock(&self) -> Promise {
        self.call(|mut d| async move {
            let r = d.lock().await.map(|_| JsValue::UNDEFINED);
            (d, r)
        })
    }

    /// `{vendor, model, app, version}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeviceInfo>")]
    pub fn info(&self) -> Promise {
        self.call(|mut d| async move {
            let r = d.info().await.map(|i| {
                let o = Object::new();
                set(&o, "vendor", i.vendor.name());
                set(&o, "model", i.model);
                set(&o, "app", i.app.map_or(JsValue::NULL, JsValue::from));
                set(&o, "version", i.version);
                JsValue::from(o)
            });
            (d, r)
        })
    }

    /// Ledger: opens the app `name` ("Bitcoin" or "Bitcoin Test"), following the device
    /// through its re-enumeration.
    #[wasm_bindgen(js_name = openApp, unchecked_return_type = "Promise<string>")]
    pub fn open_app(&self, name: String) -> Promise {
        self.call(move |mut d| async move {
            let r = match d.as_ledger() {
                Some(l) => l
                    .open_app(&name)
                    .await
                    .map(|i| JsValue::from_str(&i.version)),
                None => Err(Error::Unsupported("only a ledger has apps to open".into())),
            };
            (d, r)
        })
    }

    /// The master fingerprint, as 8 hex digits.
    #[wasm_bindgen(js_name = masterFingerprint, unchecked_return_type = "Promise<string>")]
    pub fn master_fingerprint(&self) -> Promise {
        self.call(|mut d| async move {
            let r = d
                .master_fingerprint()
                .await
                .map(|f| JsValue::from_str(&f.to_string()));
            (d, r)
        })
    }

    /// The xpub at `path` (`m/84'/0'/0'`); `{display: true}` shows it on the device.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn xpub(
        &self,
        path: String,
        #[wasm_bindgen(unchecked_optional_param_type = "XpubOptions")] options: Option<JsValue>,
    ) -> Promise {
        let signal = signal_of(&options);
        self.call_with(signal, move |mut d| async move {
            let r = async {
                let display = Args::of(options.as_ref(), "options")?.flag("display")?;
                let path = parse_path(&path)?;
                d.xpub(&path, display)
                    .await
                    .map(|x| JsValue::from_str(&x.to_string()))
            }
            .await;
            (d, r)
        })
    }

    /// The address of `{descriptor}` or `{template, keys, name?, hmac?}` at
    /// `{index?, change?}`, checked against the host's derivation; `{display: true}`
    /// shows it on the device.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AddressOptions")] arg: JsValue,
    ) -> Promise {
        let signal = signal_of(&Some(arg.clone()));
        self.call_with(signal, move |mut d| async move {
            let r = async {
                let a = Args::of(Some(&arg), "address options")?;
                let source = match (a.string("descriptor")?, a.string("template")?) {
                    (Some(desc), None) => AddressSource::Descriptor(desc),
                    (None, Some(template)) => AddressSource::Policy(
                        WalletPolicy::new(
                            &a.string("name")?.unwrap_or_default(),
                            &template,
                            a.strings("keys")?.unwrap_or_default(),
                        )?,
                        parse_hmac(a.string("hmac")?)?,
                    ),
                    _ => {
                        return Err(Error::invalid(
                            "address options",
                            "give either a descriptor or a template with keys",
                        ))
                    }
                };
                let request = AddressRequest {
                    source,
                    change: a.flag("change")?,
                    index: a.index("index")?,
                    display: a.flag("display")?,
                    allow_unverified: a.flag("allowUnverified")?,
                };
                d.address(&request).await.map(JsValue::from)
            }
            .await;
            (d, r)
        })
    }

    /// Registers `{name, template, keys}` (Ledger); resolves to `{id, hmac}` (hex).
    #[wasm_bindgen(js_name = registerPolicy, unchecked_return_type = "Promise<Registration>")]
    pub fn register_policy(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WalletPolicy")] policy: JsValue,
    ) -> Promise {
        self.call(move |mut d| async move {
            let r = async {
                let (policy, _) = super::args::policy(&policy)?;
                let reg = d.register_policy(&policy).await?;
                let o = Object::new();
                set(&o, "id", crate::protocol::bytes::to_hex(&reg.id));
                set(&o, "hmac", crate::protocol::bytes::to_hex(&reg.hmac));
                Ok(JsValue::from(o))
            }
            .await;
            (d, r)
        })
    }

    /// Signs a PSBT (base64) and resolves to the signed PSBT (base64); the input is
    /// never changed. Options: `{policy?: {name, template, keys, hmac?}, finalize?,
    /// allowNonDefaultSighash?, replaces?}`; without a policy the standard one is
    /// inferred from the PSBT. With a `musig()` policy each call is one MuSig2 round
    /// (nonces, then partial signatures); a `finalize` waits until every participant's
    /// partial signature is in.
    #[wasm_bindgen(js_name = signPsbt, unchecked_return_type = "Promise<string>")]
    pub fn sign_psbt(
        &self,
        psbt_base64: String,
        #[wasm_bindgen(unchecked_optional_param_type = "SignPsbtOptions")] options: Option<JsValue>,
    ) -> Promise {
        let signal = signal_of(&options);
        self.call_with(signal, move |mut d| async move {
            let r = async {
                let psbt = raw::decode(psbt_base64.as_bytes())?;
                let opts = Args::of(options.as_ref(), "options")?;
                let policy = opts
                    .object("policy")
                    .map(|p| super::args::policy(&p))
                    .transpose()?;
                let replaces = opts
                    .strings("replaces")?
                    .unwrap_or_default()
                    .iter()
                    .map(|hex| crate::protocol::psbt::signing::Replaced::from_hex(hex))
                    .collect::<Result<Vec<_>, Error>>()?;
                let signed = d
                    .sign_psbt(
                        &psbt,
                        &SignOptions {
                            policy,
                            finalize: opts.flag("finalize")?,
                            allow_non_default_sighash: opts.flag("allowNonDefaultSighash")?,
                            replaces,
                            ..Default::default()
                        },
                    )
                    .await?;
                Ok(JsValue::from_str(&raw::encode_base64(
                    &signed.psbt.serialize(),
                )))
            }
            .await;
            (d, r)
        })
    }

    /// Signs `message` with the key at `path`; resolves to a base64 BIP-137 signature.
    #[wasm_bindgen(js_name = signMessage, unchecked_return_type = "Promise<string>")]
    pub fn sign_message(
        &self,
        path: String,
        message: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let signal = signal_of(&options);
        self.call_with(signal, move |mut d| async move {
            let r = async {
                let path = parse_path(&path)?;
                d.sign_message(&path, message.as_bytes())
                    .await
                    .map(JsValue::from)
            }
            .await;
            (d, r)
        })
    }

    /// Releases the device.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        self.call(|mut d| async move {
            let r = d.close().await.map(|_| JsValue::UNDEFINED);
            (d, r)
        })
    }
}
