//! A link whose far end is a JavaScript object that carries whole Trezor messages
//! (`type u16 BE | length u32 BE | protobuf`): `write(message)` sends one, `read()`
//! resolves to the next one. Trezor's bridge and emulator carry messages this way, and
//! the `hwsigner/simulator` entry's simulated Trezor is reached through it.

use futures::future::{select, Either, LocalBoxFuture};
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::browser::{js_error, sleep_ms, start, view_bytes};
use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Whole Trezor messages through a JS `{write, read}` object.
pub struct MessageLink {
    link: JsValue,
    /// A `read()` still under way after a time-out: the next `recv` waits for it rather
    /// than asking again, so no message is read twice or lost.
    pending: Option<JsFuture>,
    product_id: u16,
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
        }
    }

    /// The USB product id the device behind the link has.
    pub fn with_product_id(mut self, product_id: u16) -> Self {
        self.product_id = product_id;
        self
    }
}

impl Transport for MessageLink {
    fn packets(&self) -> Packets {
        Packets::Messages
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
                    if bytes.len() < 6 {
                        return Err(Error::protocol(
                            "the link's read gave less than a message header",
                        ));
                    }
                    Ok(bytes)
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
