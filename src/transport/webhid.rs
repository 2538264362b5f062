//! WebHID (browser): Ledger devices through `navigator.hid`.
//!
//! Reports go out with `sendReport(0, <64 bytes>)` and come back as `inputreport`
//! events, queued until read. A `disconnect` event for the device ends a pending read
//! with `disconnected`. After a Ledger opens or quits an app it re-enumerates; the
//! transport then finds it again among the granted devices.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::mpsc;
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Hid, HidDevice, HidInputReportEvent};

use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Ledger's USB vendor id.
pub const LEDGER_VENDOR_ID: u16 = 0x2c97;
/// Ledger's HID usage page.
pub const LEDGER_USAGE_PAGE: u16 = 0xffa0;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
}

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: u32) {
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

enum Incoming {
    Report(Vec<u8>),
    Disconnected,
}

/// `navigator.hid`, or `unsupported` where the browser has none.
///
/// # Errors
/// `unsupported` outside a secure context or in a browser without WebHID.
pub fn navigator_hid() -> Result<Hid> {
    let global = js_sys::global();
    let navigator =
        Reflect::get(&global, &JsValue::from_str("navigator")).map_err(|_| no_webhid())?;
    let hid = Reflect::get(&navigator, &JsValue::from_str("hid")).map_err(|_| no_webhid())?;
    if hid.is_undefined() || hid.is_null() {
        return Err(no_webhid());
    }
    Ok(hid.unchecked_into())
}

fn no_webhid() -> Error {
    Error::Unsupported(
        "this browser has no webhid (use chrome or edge, on https or localhost)".into(),
    )
}

fn js_error(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

fn identity_of(device: &HidDevice) -> Identity {
    let collections =
        Reflect::get(device, &JsValue::from_str("collections")).unwrap_or(JsValue::UNDEFINED);
    let usage_page = Array::from(&collections)
        .iter()
        .filter_map(|c| {
            Reflect::get(&c, &JsValue::from_str("usagePage"))
                .ok()?
                .as_f64()
        })
        .map(|p| p as u16)
        .next();
    Identity {
        vendor_id: device.vendor_id(),
        product_id: device.product_id(),
        usage_page,
        product_name: device.product_name(),
    }
}

/// True for a Ledger's APDU interface.
pub fn is_ledger(device: &HidDevice) -> bool {
    let id = identity_of(device);
    id.vendor_id == LEDGER_VENDOR_ID && id.usage_page.is_none_or(|p| p == LEDGER_USAGE_PAGE)
}

/// Ledger devices this page may already use (granted earlier).
///
/// # Errors
/// `unsupported` without WebHID, `transport` when the browser refuses.
pub async fn granted_ledgers() -> Result<Vec<HidDevice>> {
    let hid = navigator_hid()?;
    let list = JsFuture::from(hid.get_devices())
        .await
        .map_err(|e| Error::Transport(js_error(e)))?;
    Ok(Array::from(&list)
        .iter()
        .map(|d| d.unchecked_into::<HidDevice>())
        .filter(is_ledger)
        .collect())
}

/// Shows the browser's device picker for Ledger devices.
///
/// # Errors
/// `cancelled` when the user picks nothing, `unsupported` without WebHID.
pub async fn request_ledger() -> Result<HidDevice> {
    let hid = navigator_hid()?;
    let filter = Object::new();
    let _ = Reflect::set(
        &filter,
        &JsValue::from_str("vendorId"),
        &JsValue::from(LEDGER_VENDOR_ID),
    );
    let options = Object::new();
    let _ = Reflect::set(
        &options,
        &JsValue::from_str("filters"),
        &Array::of1(&filter),
    );
    let request: js_sys::Function = Reflect::get(&hid, &JsValue::from_str("requestDevice"))
        .map_err(|_| no_webhid())?
        .dyn_into()
        .map_err(|_| no_webhid())?;
    let promise: Promise = request
        .call1(&hid, &options)
        .map_err(|e| Error::Transport(js_error(e)))?
        .unchecked_into();
    let list = JsFuture::from(promise)
        .await
        .map_err(|e| Error::Transport(js_error(e)))?;
    Array::from(&list)
        .iter()
        .map(|d| d.unchecked_into::<HidDevice>())
        .find(is_ledger)
        .ok_or(Error::Cancelled)
}

type Listener = Closure<dyn FnMut(JsValue)>;

/// An open Ledger over WebHID.
pub struct WebHidTransport {
    device: HidDevice,
    rx: mpsc::UnboundedReceiver<Incoming>,
    tx: mpsc::UnboundedSender<Incoming>,
    backlog: VecDeque<Vec<u8>>,
    gone: Rc<RefCell<bool>>,
    on_report: Option<Listener>,
    on_disconnect: Option<Listener>,
}

impl core::fmt::Debug for WebHidTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebHidTransport")
            .field("identity", &identity_of(&self.device))
            .finish_non_exhaustive()
    }
}

impl WebHidTransport {
    /// Opens `device` (if not open yet) and starts listening to it.
    ///
    /// # Errors
    /// `busy` when another tab or app holds it, `unsupported` without WebHID.
    pub async fn open(device: HidDevice) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded();
        let mut t = WebHidTransport {
            device,
            rx,
            tx,
            backlog: VecDeque::new(),
            gone: Rc::new(RefCell::new(false)),
            on_report: None,
            on_disconnect: None,
        };
        t.attach().await?;
        Ok(t)
    }

    async fn attach(&mut self) -> Result<()> {
        if !self.device.opened() {
            JsFuture::from(self.device.open()).await.map_err(|e| {
                Error::Busy(format!(
                    "cannot open the ledger (held by another tab or app?): {}",
                    js_error(e)
                ))
            })?;
        }
        *self.gone.borrow_mut() = false;
        let tx = self.tx.clone();
        let on_report: Listener = Closure::new(move |event: JsValue| {
            let event: HidInputReportEvent = event.unchecked_into();
            let view = event.data();
            let bytes = Uint8Array::new_with_byte_offset_and_length(
                &view.buffer(),
                view.byte_offset() as u32,
                view.byte_length() as u32,
            )
            .to_vec();
            let _ = tx.unbounded_send(Incoming::Report(bytes));
        });
        self.device
            .add_event_listener_with_callback("inputreport", on_report.as_ref().unchecked_ref())
            .map_err(|e| Error::Transport(js_error(e)))?;
        let tx = self.tx.clone();
        let me = self.device.clone();
        let gone = self.gone.clone();
        let on_disconnect: Listener = Closure::new(move |event: JsValue| {
            let device =
                Reflect::get(&event, &JsValue::from_str("device")).unwrap_or(JsValue::UNDEFINED);
            if JsValue::from(me.clone()) == device {
                *gone.borrow_mut() = true;
                let _ = tx.unbounded_send(Incoming::Disconnected);
            }
        });
        navigator_hid()?
            .add_event_listener_with_callback("disconnect", on_disconnect.as_ref().unchecked_ref())
            .map_err(|e| Error::Transport(js_error(e)))?;
        self.on_report = Some(on_report);
        self.on_disconnect = Some(on_disconnect);
        Ok(())
    }

    fn detach(&mut self) {
        if let Some(l) = self.on_report.take() {
            let _ = self
                .device
                .remove_event_listener_with_callback("inputreport", l.as_ref().unchecked_ref());
        }
        if let Some(l) = self.on_disconnect.take() {
            if let Ok(hid) = navigator_hid() {
                let _ = hid
                    .remove_event_listener_with_callback("disconnect", l.as_ref().unchecked_ref());
            }
        }
    }

    /// The browser's device object.
    pub fn device(&self) -> &HidDevice {
        &self.device
    }
}

impl Drop for WebHidTransport {
    fn drop(&mut self) {
        self.detach();
    }
}

impl Transport for WebHidTransport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        identity_of(&self.device)
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if *self.gone.borrow() || !self.device.opened() {
                return Err(Error::Disconnected);
            }
            let mut report = data.to_vec();
            let promise = self
                .device
                .send_report_with_u8_slice(0, &mut report)
                .map_err(|e| Error::Transport(js_error(e)))?;
            JsFuture::from(promise).await.map_err(|e| {
                if *self.gone.borrow() || !self.device.opened() {
                    Error::Disconnected
                } else {
                    Error::Transport(format!("sendReport failed: {}", js_error(e)))
                }
            })?;
            Ok(())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            if let Some(r) = self.backlog.pop_front() {
                return Ok(r);
            }
            let next = self.rx.next();
            let timer = Box::pin(sleep_ms(timeout_ms));
            match select(next, timer).await {
                Either::Left((Some(Incoming::Report(r)), _)) => Ok(r),
                Either::Left((Some(Incoming::Disconnected), _)) | Either::Left((None, _)) => {
                    Err(Error::Disconnected)
                }
                Either::Right(_) => Err(Error::Timeout {
                    after_ms: timeout_ms,
                }),
            }
        })
    }

    fn discard_pending(&mut self) {
        self.backlog.clear();
        while let Ok(incoming) = self.rx.try_recv() {
            if let Incoming::Disconnected = incoming {
                // Keep the news: the next call must fail with `disconnected`.
                let _ = self.tx.unbounded_send(Incoming::Disconnected);
                break;
            }
        }
    }

    fn reconnect(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.detach();
            let mut waited = 0;
            // Let the device drop off the bus first.
            sleep_ms(500).await;
            loop {
                if let Some(device) = granted_ledgers().await?.into_iter().next() {
                    self.device = device;
                    self.backlog.clear();
                    while self.rx.try_recv().is_ok() {}
                    return self.attach().await;
                }
                if waited >= timeout_ms {
                    return Err(Error::Disconnected);
                }
                sleep_ms(250).await;
                waited += 250;
            }
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.detach();
            if self.device.opened() {
                JsFuture::from(self.device.close())
                    .await
                    .map_err(|e| Error::Transport(js_error(e)))?;
            }
            Ok(())
        })
    }
}
