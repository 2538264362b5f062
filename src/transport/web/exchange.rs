//! A link whose far end is a JavaScript function that exchanges whole APDUs:
//! `(apdu: Uint8Array) => Promise<Uint8Array> | Uint8Array`.
//!
//! It lets a page reach a Ledger through a channel this crate has no transport for (a
//! relay, a Speculos HTTP proxy, another library's transport) or a simulator, while
//! the Ledger protocol still runs here.

use futures::future::{select, Either, LocalBoxFuture};
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::browser::{js_error, sleep_ms, view_bytes, Sleep};
use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Whole APDUs handed to a JS function; its answers (data and status word) come back.
pub struct ExchangeTransport {
    exchange: Function,
    pending: Option<Promise>,
    /// One timer shared by consecutive replies (a timer per APDU costs more than a fast
    /// link's whole exchange): it is re-armed only when it fires before the reply
    /// waited for has had its full time.
    watchdog: Option<(f64, Sleep)>,
    product_id: u16,
}

impl core::fmt::Debug for ExchangeTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExchangeTransport")
            .field("pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl ExchangeTransport {
    /// A link that calls `exchange` once per APDU.
    pub fn new(exchange: Function) -> Self {
        ExchangeTransport {
            exchange,
            pending: None,
            watchdog: None,
            product_id: 0,
        }
    }

    /// The USB product id the device behind the function has (it names the model).
    pub fn with_product_id(mut self, product_id: u16) -> Self {
        self.product_id = product_id;
        self
    }
}

impl Transport for ExchangeTransport {
    fn packets(&self) -> Packets {
        Packets::Messages
    }

    fn identity(&self) -> Identity {
        Identity {
            vendor_id: 0x2c97,
            product_id: self.product_id,
            usage_page: None,
            product_name: "Ledger (exchange function)".into(),
        }
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let apdu = Uint8Array::from(data);
            let value = self
                .exchange
                .call1(&JsValue::NULL, &apdu)
                .map_err(|e| Error::Transport(format!("exchange threw: {}", js_error(&e))))?;
            self.pending = Some(Promise::resolve(&value));
            Ok(())
        })
    }

    fn discard_pending(&mut self) {
        self.pending = None;
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            let Some(promise) = self.pending.take() else {
                return Err(Error::Timeout {
                    after_ms: timeout_ms,
                });
            };
            let mut answer = JsFuture::from(promise);
            let deadline = js_sys::Date::now() + f64::from(timeout_ms);
            let outcome = loop {
                let (fires_at, timer) = match self.watchdog.take() {
                    Some((at, timer)) if at <= deadline => (at, timer),
                    _ => (deadline, sleep_ms(timeout_ms)),
                };
                let mut timer = timer;
                match select(&mut answer, &mut timer).await {
                    Either::Left((result, _)) => {
                        self.watchdog = Some((fires_at, timer));
                        break Some(result);
                    }
                    Either::Right(((), _)) => {
                        let left = deadline - js_sys::Date::now();
                        if left <= 0.0 {
                            break None;
                        }
                        // Fired for an earlier reply's deadline: wait out the rest.
                        self.watchdog = Some((deadline, sleep_ms(left.ceil() as u32)));
                    }
                }
            };
            match outcome {
                Some(Ok(value)) => {
                    let bytes = view_bytes(&value);
                    if bytes.len() < 2 {
                        return Err(Error::protocol(
                            "the exchange function answered without a status word",
                        ));
                    }
                    Ok(bytes)
                }
                Some(Err(e)) => Err(Error::Transport(format!(
                    "exchange rejected: {}",
                    js_error(&e)
                ))),
                None => Err(Error::Timeout {
                    after_ms: timeout_ms,
                }),
            }
        })
    }
}
