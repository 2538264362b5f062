//! A link whose far end is a JavaScript object that carries a Trezor's traffic:
//! `write(bytes)` sends one unit, `read()` resolves to the next one. A unit is a whole
//! codec v1 message (`type u16 BE | length u32 BE | protobuf`, as Trezor's bridge and
//! emulator carry them), or a 64-byte USB report (codec v1 reports, or the Trezor Host
//! Protocol's packets: a Safe 7). The `hwsigner/simulator` entry's simulated Trezors
//! are reached through it: a One or T by messages, a Safe 7 by reports.

use futures::future::{select, Either, LocalBoxFuture};
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::browser::{js_error, sleep_ms, start, view_bytes};
use crate::error::{Error, Result};
use crate::protocol::codec::REPORT_SIZE;
use crate::transport::{Identity, Packets, Transport};

/// Trezor messages (or reports) through a JS `{write, read}` object.
pub struct MessageLink {
    link: JsValue,
    /// A `read()` still under way after a time-out: the next `recv` waits for it rather
    /// than asking again, so no message is read twice or lost.
    pending: Option<JsFuture>,
    product_id: u16,
    packets: Packets,
}

impl core::fmt::Debug for MessageLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MessageLink")
            .field("pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl MessageLink {
    /// A link over `link` (an object with `write` and `read` methods).
    pub fn new(link: JsValue) -> Self {
        MessageLink {
            link,
            pending: None,
            product_id: 0x53c1,
            packets: Packets::Messages,
        }
    }

    /// The link carries 64-byte reports rather than whole messages.
    pub fn with_reports(mut self) -> Self {
        self.packets = Packets::Reports64;
        self
    }

    /// The USB product id the device behind the link has.
    pub fn with_product_id(mut self, product_id: u16) -> Self {
        self.product_id = product_id;
        self
    }
}

impl Transport for MessageLink {
    fn packets(&self) -> Packets {
        self.packets
    }

    fn identity(&self) -> Identity {
        Identity {
            vendor_id: 0x1209,
            product_id: self.product_id,
            usage_page: None,
            product_name: "Trezor (message link)".into(),
        }
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let message: JsValue = Uint8Array::from(data).into();
            start(&self.link, "write", &[message])
                .map_err(|e| Error::Transport(format!("write threw: {}", js_error(&e))))?
                .await
                .map_err(|e| Error::Transport(format!("write rejected: {}", js_error(&e))))?;
            Ok(())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            let read = match self.pending.take() {
                Some(read) => read,
                None => start(&self.link, "read", &[])
                    .map_err(|e| Error::Transport(format!("read threw: {}", js_error(&e))))?,
            };
            let timer = Box::pin(sleep_ms(timeout_ms));
            match select(read, timer).await {
                Either::Left((Ok(value), _)) => {
                    let bytes = view_bytes(&value);
                    match self.packets {
                        Packets::Reports64 if bytes.len() != REPORT_SIZE => {
                            Err(Error::protocol("the link's read gave no 64-byte report"))
                        }
                        Packets::Messages if bytes.len() < 6 => Err(Error::protocol(
                            "the link's read gave less than a message header",
                        )),
                        _ => Ok(bytes),
                    }
                }
                Either::Left((Err(e), _)) => {
                    Err(Error::Transport(format!("read rejected: {}", js_error(&e))))
                }
                Either::Right((_, read)) => {
                    self.pending = Some(read);
                    Err(Error::Timeout {
                        after_ms: timeout_ms,
                    })
                }
            }
        })
    }
}
