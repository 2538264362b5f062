//! WebUSB (browser): current Trezors (One >= 1.7, T, Safe) through `navigator.usb`.
//!
//! A Trezor's messages travel on interface 0 (vendor class), endpoint 1 in both
//! directions, as 64-byte interrupt transfers. Opening the device selects
//! configuration 1 if none is active and claims interface 0, retrying a few times
//! because a tab that just let go may not have released it yet; if it stays claimed the
//! device is held elsewhere (`busy`).
//!
//! A read that times out is not lost: its `transferIn` stays in flight and the next
//! `recv` waits on the same transfer, so a report that arrives late is still delivered
//! in order. A `disconnect` event for the device ends a pending transfer at once with
//! `disconnected` (the browser may never settle it), and every later call fails the same
//! way. A Trezor in bootloader mode (product 0x53c0) is refused with a clear message.
//!
//! Device objects are driven by method name (see [`crate::transport::web::browser`]), so a
//! stand-in `navigator.usb` (a test fake, a bridge to the simulator) works unchanged.
//! What such a stand-in must provide:
//!
//! - `navigator.usb`: `requestDevice({filters})` resolving to a device (rejecting with
//!   a `NotFoundError` when nothing is picked), `getDevices()` resolving to an array,
//!   and `disconnect` events (an `EventTarget`) whose `device` is the device object;
//! - the device: `vendorId`, `productId`, `productName`, `opened`, `configuration`
//!   (`null` until selected), `open()`, `selectConfiguration(1)`, `claimInterface(0)`,
//!   `releaseInterface(0)`, `close()`, `transferOut(1, Uint8Array(64))` resolving to
//!   `{status: "ok", bytesWritten}`, `transferIn(1, 64)` resolving to
//!   `{status: "ok", data: DataView}` (and optionally `clearHalt("in", 1)`).
//!
//! `tests/js/fake_usb.js` is one such stand-in.

use std::cell::Cell;
use std::rc::Rc;

use futures::channel::mpsc;
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::UsbDevice;

use crate::error::{Error, Result};
use crate::protocol::identify::{
    bootloader_error, classify_usb, DeviceKind, TREZOR_BOOTLOADER_PRODUCT_ID, TREZOR_INTERFACE,
    TREZOR_PRODUCT_ID, TREZOR_VENDOR_ID,
};
use crate::transport::web::browser::{self, get, js_error, js_error_name, sleep_ms, Listener};
use crate::transport::{Identity, Packets, Transport};

/// The endpoint number (both directions) of a Trezor's message interface.
pub const TREZOR_ENDPOINT: u8 = 1;
/// The configuration selected when the device has none active.
pub const TREZOR_CONFIGURATION: u8 = 1;
/// How many times `claimInterface` is tried before the device is called busy.
pub const CLAIM_TRIES: u32 = 3;
/// The pause between two tries, in milliseconds.
pub const CLAIM_RETRY_MS: u32 = 200;
/// How long one `transferOut` may take before it is a time-out, in milliseconds.
pub const WRITE_TIMEOUT_MS: u32 = 10_000;
/// The size of one transfer.
pub const PACKET_SIZE: u32 = 64;

/// `navigator.usb`, or `unsupported` where the browser has none.
///
/// # Errors
/// `unsupported` outside a secure context or in a browser without WebUSB.
pub fn navigator_usb() -> Result<JsValue> {
    browser::navigator_property("usb").ok_or_else(|| {
        Error::Unsupported(
            "this browser has no webusb (use chrome or edge, on https or localhost)".into(),
        )
    })
}

fn ids(device: &JsValue) -> (u16, u16) {
    let id = |key| get(device, key).as_f64().map_or(0, |v| v as u16);
    (id("vendorId"), id("productId"))
}

fn identity_of(device: &JsValue) -> Identity {
    let (vendor_id, product_id) = ids(device);
    Identity {
        vendor_id,
        product_id,
        usage_page: None,
        product_name: get(device, "productName")
            .as_string()
            .unwrap_or_else(|| "Trezor".into()),
    }
}

/// What a USB device is: a Trezor, a Trezor in bootloader mode, or `None`.
pub fn kind_of(device: &UsbDevice) -> Option<DeviceKind> {
    let (vendor, product) = ids(device);
    classify_usb(vendor, product, None)
}

fn is_disconnect_error(e: &JsValue) -> bool {
    js_error_name(e).as_deref() == Some("NotFoundError")
        || js_error(e).to_ascii_lowercase().contains("disconnected")
}

/// Trezors this page may already use (granted earlier), including any in bootloader
/// mode, which [`WebUsbTransport::open`] then refuses with a clear message.
///
/// # Errors
/// `unsupported` without WebUSB, `transport` when the browser refuses.
pub async fn granted_trezors() -> Result<Vec<UsbDevice>> {
    let usb = navigator_usb()?;
    let list = browser::call(&usb, "getDevices", &[])
        .await
        .map_err(|e| Error::Transport(format!("getdevices failed: {}", js_error(&e))))?;
    Ok(Array::from(&list)
        .iter()
        .map(|d| d.unchecked_into::<UsbDevice>())
        .filter(|d| kind_of(d).is_some())
        .collect())
}

fn filter(vendor_id: u16, product_id: u16) -> JsValue {
    let f = Object::new();
    let _ = Reflect::set(&f, &"vendorId".into(), &JsValue::from(vendor_id));
    let _ = Reflect::set(&f, &"productId".into(), &JsValue::from(product_id));
    f.into()
}

/// Shows the browser's device picker for Trezors.
///
/// # Errors
/// `cancelled` when the user picks nothing, `unsupported` without WebUSB or when the
/// chosen Trezor is in bootloader mode, `transport` when the browser refuses (no user
/// gesture, for one).
pub async fn request_trezor() -> Result<UsbDevice> {
    let usb = navigator_usb()?;
    let filters: Array = [
        filter(TREZOR_VENDOR_ID, TREZOR_PRODUCT_ID),
        filter(TREZOR_VENDOR_ID, TREZOR_BOOTLOADER_PRODUCT_ID),
    ]
    .iter()
    .collect();
    let options = Object::new();
    let _ = Reflect::set(&options, &"filters".into(), &filters);
    let device = browser::call(&usb, "requestDevice", &[options.into()])
        .await
        .map_err(|e| match js_error_name(&e).as_deref() {
            Some("NotFoundError") | Some("AbortError") => Error::Cancelled,
            _ => Error::Transport(format!("requestdevice failed: {}", js_error(&e))),
        })?;
    if device.is_undefined() || device.is_null() {
        return Err(Error::Cancelled);
    }
    let device: UsbDevice = device.unchecked_into();
    match kind_of(&device) {
        Some(DeviceKind::TrezorBootloader) => Err(bootloader_error()),
        _ => Ok(device),
    }
}

/// How long a resync waits for the late packet of a transfer given up on.
const LATE_DATA_WAIT_MS: u32 = 50;

/// An open Trezor over WebUSB.
pub struct WebUsbTransport {
    device: UsbDevice,
    identity: Identity,
    gone: Rc<Cell<bool>>,
    gone_rx: mpsc::UnboundedReceiver<()>,
    /// The transferIn under way, kept until it completes: a wait for it may time out
    /// or be dropped (an aborted call), and its packet must still be read in order.
    reading: Option<Promise>,
    closed: bool,
    _on_disconnect: Listener,
}

impl core::fmt::Debug for WebUsbTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebUsbTransport")
            .field("identity", &self.identity)
            .field("gone", &self.gone.get())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl WebUsbTransport {
    /// Opens `device`, selects configuration 1 if none is active and claims interface 0
    /// (up to [`CLAIM_TRIES`] times, [`CLAIM_RETRY_MS`] apart).
    ///
    /// # Errors
    /// `unsupported` for a Trezor in bootloader mode or without WebUSB, `busy` when
    /// the device cannot be opened or its interface stays claimed by another tab or
    /// app, `disconnected` when it goes away meanwhile, `transport` when the
    /// configuration cannot be selected.
    pub async fn open(device: UsbDevice) -> Result<Self> {
        if kind_of(&device) == Some(DeviceKind::TrezorBootloader) {
            return Err(bootloader_error());
        }
        let usb = navigator_usb()?;
        let gone = Rc::new(Cell::new(false));
        let (tx, gone_rx) = mpsc::unbounded();
        let on_disconnect = {
            let me: JsValue = device.clone().into();
            let gone = gone.clone();
            Listener::new(&usb, "disconnect", move |event: JsValue| {
                if get(&event, "device") == me {
                    gone.set(true);
                    let _ = tx.unbounded_send(());
                }
            })
            .map_err(|e| Error::Transport(js_error(&e)))?
        };
        let t = WebUsbTransport {
            identity: identity_of(&device),
            device,
            gone,
            gone_rx,
            reading: None,
            closed: false,
            _on_disconnect: on_disconnect,
        };
        t.claim().await?;
        Ok(t)
    }

    async fn claim(&self) -> Result<()> {
        let device: &JsValue = &self.device;
        if get(device, "opened").as_bool() != Some(true) {
            browser::call(device, "open", &[]).await.map_err(|e| {
                if self.gone.get() || is_disconnect_error(&e) {
                    Error::Disconnected
                } else {
                    Error::Busy(format!(
                        "cannot open the trezor (held by another app, or no access?): {}",
                        js_error(&e)
                    ))
                }
            })?;
        }
        let configuration = get(device, "configuration");
        if configuration.is_null() || configuration.is_undefined() {
            browser::call(
                device,
                "selectConfiguration",
                &[TREZOR_CONFIGURATION.into()],
            )
            .await
            .map_err(|e| {
                Error::Transport(format!(
                    "cannot select configuration {TREZOR_CONFIGURATION}: {}",
                    js_error(&e)
                ))
            })?;
        }
        let mut last = String::new();
        for attempt in 0..CLAIM_TRIES {
            if attempt > 0 {
                sleep_ms(CLAIM_RETRY_MS).await;
            }
            if self.gone.get() {
                return Err(Error::Disconnected);
            }
            match browser::call(device, "claimInterface", &[TREZOR_INTERFACE.into()]).await {
                Ok(_) => return Ok(()),
                Err(e) if self.gone.get() || is_disconnect_error(&e) => {
                    return Err(Error::Disconnected)
                }
                Err(e) => last = js_error(&e),
            }
        }
        let _ = browser::call(device, "close", &[]).await;
        Err(Error::Busy(format!(
            "the trezor is held by another tab or app ({CLAIM_TRIES} tries to claim it: {last})"
        )))
    }

    /// The browser's device object.
    pub fn device(&self) -> &UsbDevice {
        &self.device
    }

    fn check_alive(&self) -> Result<()> {
        if self.gone.get() || self.closed {
            Err(Error::Disconnected)
        } else {
            Ok(())
        }
    }

    fn failed(&self, what: &str, e: &JsValue) -> Error {
        if self.gone.get() || is_disconnect_error(e) {
            self.gone.set(true);
            Error::Disconnected
        } else {
            Error::Transport(format!("{what} failed: {}", js_error(e)))
        }
    }

    /// Waits for `work`, the disconnect event or `timeout_ms`, whichever comes first.
    /// On a time-out the unfinished `work` is handed back.
    async fn race(
        &mut self,
        work: JsFuture,
        timeout_ms: u32,
    ) -> Result<core::result::Result<JsValue, JsValue>, (Error, Option<JsFuture>)> {
        let timer = Box::pin(sleep_ms(timeout_ms));
        let stop = select(self.gone_rx.next(), timer);
        match select(work, stop).await {
            Either::Left((done, _)) => Ok(done),
            Either::Right((Either::Left(_), _)) => {
                self.gone.set(true);
                Err((Error::Disconnected, None))
            }
            Either::Right((Either::Right(_), work)) => Err((
                Error::Timeout {
                    after_ms: timeout_ms,
                },
                Some(work),
            )),
        }
    }
}

fn transfer_status(result: &JsValue) -> String {
    get(result, "status")
        .as_string()
        .unwrap_or_else(|| "missing".into())
}

impl Transport for WebUsbTransport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.check_alive()?;
            let bytes: JsValue = Uint8Array::from(data).into();
            let write = browser::start(
                &self.device,
                "transferOut",
                &[TREZOR_ENDPOINT.into(), bytes],
            )
            .map_err(|e| self.failed("transferout", &e))?;
            let result = match self.race(write, WRITE_TIMEOUT_MS).await {
                Ok(done) => done.map_err(|e| self.failed("transferout", &e))?,
                Err((e, _)) => return Err(e),
            };
            let status = transfer_status(&result);
            if status != "ok" {
                return Err(Error::Transport(format!(
                    "transferout ended with status {status}"
                )));
            }
            // As a whole number: formatting an f64 would bring in 14 KB of float code.
            let written = get(&result, "bytesWritten").as_f64().map(|n| n as usize);
            if let Some(n) = written.filter(|n| *n != data.len()) {
                return Err(Error::Transport(format!(
                    "transferout wrote {n} of {} bytes",
                    data.len()
                )));
            }
            Ok(())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            self.check_alive()?;
            let promise = match self.reading.clone() {
                Some(p) => p,
                None => {
                    let p = browser::start_promise(
                        &self.device,
                        "transferIn",
                        &[TREZOR_ENDPOINT.into(), PACKET_SIZE.into()],
                    )
                    .map_err(|e| self.failed("transferin", &e))?;
                    self.reading = Some(p.clone());
                    p
                }
            };
            let result = match self.race(JsFuture::from(promise), timeout_ms).await {
                Ok(done) => {
                    self.reading = None;
                    done.map_err(|e| self.failed("transferin", &e))?
                }
                Err((e, unfinished)) => {
                    if unfinished.is_none() {
                        self.reading = None;
                    }
                    return Err(e);
                }
            };
            match transfer_status(&result).as_str() {
                "ok" => Ok(browser::view_bytes(&get(&result, "data"))),
                "stall" => {
                    let _ = browser::call(
                        &self.device,
                        "clearHalt",
                        &["in".into(), TREZOR_ENDPOINT.into()],
                    )
                    .await;
                    Err(Error::Transport(
                        "the trezor stalled its in endpoint".into(),
                    ))
                }
                other => Err(Error::Transport(format!(
                    "transferin ended with status {other}"
                ))),
            }
        })
    }

    fn resync(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            // A transferIn given up on is still queued: the packet it brings is late.
            // Wait a moment for it and drop it; one still not done stays queued (the
            // protocol's own resync drops what it brings).
            if let Some(pending) = self.reading.take() {
                match self
                    .race(JsFuture::from(pending.clone()), LATE_DATA_WAIT_MS)
                    .await
                {
                    Ok(_) => {}
                    Err((Error::Disconnected, _)) => return Err(Error::Disconnected),
                    Err((_, _)) => self.reading = Some(pending),
                }
            }
            Ok(())
        })
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if self.closed {
                return Ok(());
            }
            self.closed = true;
            self.reading = None;
            if self.gone.get() {
                return Ok(());
            }
            let device: &JsValue = &self.device;
            let released =
                browser::call(device, "releaseInterface", &[TREZOR_INTERFACE.into()]).await;
            browser::call(device, "close", &[])
                .await
                .map_err(|e| Error::Transport(format!("close failed: {}", js_error(&e))))?;
            released
                .map(|_| ())
                .map_err(|e| Error::Transport(format!("releaseinterface failed: {}", js_error(&e))))
        })
    }
}
