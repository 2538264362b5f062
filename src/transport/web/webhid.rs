//! WebHID (browser): Ledger devices and the legacy Trezor One through `navigator.hid`.
//!
//! Both move 64-byte reports with report id 0: they go out with
//! `sendReport(0, <64 bytes>)` and come back as `inputreport` events, queued until
//! read. Which device the transport serves is a [`DeviceKind`] (`Ledger` or
//! `TrezorOneHid`): it picks the picker's filter, which granted devices qualify, and
//! what `reconnect` looks for. A `disconnect` event for the device ends a pending read
//! with `disconnected`. After a Ledger opens or quits an app it re-enumerates; the
//! transport then finds it again among the granted devices.
//!
//! Current Trezors are not HID devices (their only HID interface is FIDO, which Chrome
//! blocks): they go through [`crate::transport::web::webusb`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::mpsc;
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Hid, HidDevice};

use crate::error::{Error, Result};
use crate::protocol::identify::{classify_hid, DeviceKind};
pub use crate::protocol::identify::{
    LEDGER_USAGE_PAGE, LEDGER_VENDOR_ID, TREZOR_ONE_HID_PRODUCT_ID, TREZOR_ONE_HID_VENDOR_ID,
    TREZOR_ONE_USAGE_PAGE,
};
pub use crate::transport::web::browser::sleep_ms;
use crate::transport::web::browser::{self, Listener};
use crate::transport::{Identity, Packets, Transport};

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
    browser::js_error(&e)
}

fn usage_pages(device: &HidDevice) -> Vec<u16> {
    let collections =
        Reflect::get(device, &JsValue::from_str("collections")).unwrap_or(JsValue::UNDEFINED);
    Array::from(&collections)
        .iter()
        .filter_map(|c| {
            Reflect::get(&c, &JsValue::from_str("usagePage"))
                .ok()?
                .as_f64()
        })
        .map(|p| p as u16)
        .collect()
}

/// What a HID device is, looking at all its collections (`None`: not a wallet, or only
/// its FIDO interface).
pub fn kind_of(device: &HidDevice) -> Option<DeviceKind> {
    let (vendor, product) = (device.vendor_id(), device.product_id());
    let pages = usage_pages(device);
    if pages.is_empty() {
        return classify_hid(vendor, product, None, None);
    }
    pages
        .into_iter()
        .find_map(|p| classify_hid(vendor, product, Some(p), None))
}

fn identity_of(device: &HidDevice) -> Identity {
    let (vendor_id, product_id) = (device.vendor_id(), device.product_id());
    let pages = usage_pages(device);
    let usage_page = pages
        .iter()
        .copied()
        .find(|p| classify_hid(vendor_id, product_id, Some(*p), None).is_some())
        .or_else(|| pages.first().copied());
    Identity {
        vendor_id,
        product_id,
        usage_page,
        product_name: device.product_name(),
    }
}

/// True for a Ledger's APDU interface.
pub fn is_ledger(device: &HidDevice) -> bool {
    kind_of(device) == Some(DeviceKind::Ledger)
}

fn hid_kind(kind: DeviceKind) -> Result<DeviceKind> {
    match kind {
        DeviceKind::Ledger | DeviceKind::TrezorOneHid => Ok(kind),
        DeviceKind::Trezor | DeviceKind::TrezorBootloader => Err(Error::Unsupported(
            "current trezors are not hid devices: use webusb".into(),
        )),
    }
}

/// Devices of `kind` this page may already use (granted earlier).
///
/// # Errors
/// `unsupported` without WebHID or for a kind that is not HID, `transport` when the
/// browser refuses.
pub async fn granted(kind: DeviceKind) -> Result<Vec<HidDevice>> {
    let kind = hid_kind(kind)?;
    let hid = navigator_hid()?;
    let list = JsFuture::from(hid.get_devices())
        .await
        .map_err(|e| Error::Transport(js_error(e)))?;
    Ok(Array::from(&list)
        .iter()
        .map(|d| d.unchecked_into::<HidDevice>())
        .filter(|d| kind_of(d) == Some(kind))
        .collect())
}

/// Ledger devices this page may already use (granted earlier).
///
/// # Errors
/// `unsupported` without WebHID, `transport` when the browser refuses.
pub async fn granted_ledgers() -> Result<Vec<HidDevice>> {
    granted(DeviceKind::Ledger).await
}

/// Legacy Trezor One devices (firmware before 1.7) this page may already use.
///
/// # Errors
/// `unsupported` without WebHID, `transport` when the browser refuses.
pub async fn granted_trezor_ones() -> Result<Vec<HidDevice>> {
    granted(DeviceKind::TrezorOneHid).await
}

fn filter_for(kind: DeviceKind) -> Object {
    let filter = Object::new();
    let set = |key: &str, value: u16| {
        let _ = Reflect::set(&filter, &JsValue::from_str(key), &JsValue::from(value));
    };
    match kind {
        DeviceKind::TrezorOneHid => {
            set("vendorId", TREZOR_ONE_HID_VENDOR_ID);
            set("productId", TREZOR_ONE_HID_PRODUCT_ID);
            set("usagePage", TREZOR_ONE_USAGE_PAGE);
        }
        _ => set("vendorId", LEDGER_VENDOR_ID),
    }
    filter
}

/// Shows the browser's device picker for devices of `kind`.
///
/// # Errors
/// `cancelled` when the user picks nothing, `unsupported` without WebHID or for a kind
/// that is not HID.
pub async fn request(kind: DeviceKind) -> Result<HidDevice> {
    let kind = hid_kind(kind)?;
    let hid = navigator_hid()?;
    let options = Object::new();
    let _ = Reflect::set(
        &options,
        &JsValue::from_str("filters"),
        &Array::of1(&filter_for(kind)),
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
        .find(|d| kind_of(d) == Some(kind))
        .ok_or(Error::Cancelled)
}

/// Shows the browser's device picker for Ledger devices.
///
/// # Errors
/// `cancelled` when the user picks nothing, `unsupported` without WebHID.
pub async fn request_ledger() -> Result<HidDevice> {
    request(DeviceKind::Ledger).await
}

/// Shows the browser's device picker for a legacy Trezor One (firmware before 1.7).
///
/// # Errors
/// `cancelled` when the user picks nothing, `unsupported` without WebHID.
pub async fn request_trezor_one() -> Result<HidDevice> {
    request(DeviceKind::TrezorOneHid).await
}

/// An open Ledger or legacy Trezor One over WebHID.
pub struct WebHidTransport {
    device: HidDevice,
    kind: DeviceKind,
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
    /// Opens `device` (if not open yet) and starts listening to it. The kind of device
    /// (Ledger or legacy Trezor One) is recognised from its ids and usage pages.
    ///
    /// # Errors
    /// `busy` when another tab or app holds it, `unsupported` without WebHID.
    pub async fn open(device: HidDevice) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded();
        let mut t = WebHidTransport {
            kind: kind_of(&device).unwrap_or(DeviceKind::Ledger),
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
                    "cannot open the {} (held by another tab or app?): {}",
                    self.kind.name(),
                    js_error(e)
                ))
            })?;
        }
        *self.gone.borrow_mut() = false;
        let tx = self.tx.clone();
        let on_report = Listener::new(&self.device, "inputreport", move |event: JsValue| {
            let bytes = browser::view_bytes(&browser::get(&event, "data"));
            let _ = tx.unbounded_send(Incoming::Report(bytes));
        })
        .map_err(|e| Error::Transport(js_error(e)))?;
        let tx = self.tx.clone();
        let me: JsValue = self.device.clone().into();
        let gone = self.gone.clone();
        let on_disconnect = Listener::new(&navigator_hid()?, "disconnect", move |event| {
            if browser::get(&event, "device") == me {
                *gone.borrow_mut() = true;
                let _ = tx.unbounded_send(Incoming::Disconnected);
            }
        })
        .map_err(|e| Error::Transport(js_error(e)))?;
        self.on_report = Some(on_report);
        self.on_disconnect = Some(on_disconnect);
        Ok(())
    }

    fn detach(&mut self) {
        self.on_report = None;
        self.on_disconnect = None;
    }

    /// The browser's device object.
    pub fn device(&self) -> &HidDevice {
        &self.device
    }

    /// Which kind of device this transport serves (a Ledger unless the device was
    /// recognised as a legacy Trezor One).
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }
}

impl WebHidTransport {
    /// The granted device that is this one after a re-enumeration: the same object if
    /// it is still there, else the only granted device of this kind and model that no
    /// transport of the page holds open. WebHID gives no serial number (and a Ledger's
    /// is the same on every device), so with two candidates the transport cannot tell
    /// which is its own and takes neither; the driver then checks the master
    /// fingerprint of the one it gets.
    async fn came_back(&self, model: u16) -> Result<Option<HidDevice>> {
        let devices = granted(self.kind).await?;
        let own: &JsValue = self.device.as_ref();
        if let Some(same) = devices
            .iter()
            .find(|d| <HidDevice as AsRef<JsValue>>::as_ref(d) == own)
        {
            return Ok(Some(same.clone()));
        }
        let mut candidates = devices
            .into_iter()
            .filter(|d| !d.opened() && d.product_id() >> 8 == model);
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => Ok(Some(only)),
            _ => Ok(None),
        }
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
            let model = self.device.product_id() >> 8;
            let mut waited = 0;
            // Let the device drop off the bus first.
            sleep_ms(500).await;
            loop {
                if let Some(device) = self.came_back(model).await? {
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
