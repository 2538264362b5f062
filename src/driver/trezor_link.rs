//! The link to a Trezor: codec v1 over any transport, or the Trezor Host Protocol
//! (Safe 7); and how codec v1 gets back in step after a time-out.

use futures::future::LocalBoxFuture;

use crate::driver::abort::AbortHandle;
use crate::driver::link::{Exchange, Link};
use crate::driver::thp::ThpLink;
use crate::error::{Error, Result};
use crate::protocol::trezor::call::Message;
use crate::protocol::trezor::framing::TrezorCodec;
use crate::protocol::trezor::messages::{self as msg, Cancel, Ping, Success};
use crate::transport::Transport;

/// At most this many messages are dropped while getting back in step.
pub const RESYNC_MESSAGES: usize = 64;

/// The link to a Trezor: codec v1, or THP.
pub(crate) enum TrezorLink<T: Transport> {
    V1(Link<T, TrezorCodec>),
    Thp(Box<ThpLink<T>>),
    /// Only while switching from one to the other.
    Gone,
}

impl<T: Transport> TrezorLink<T> {
    /// Whether a reply was given up on since the last call (codec v1; THP's channel
    /// drops a late message by its sequence bit and nonce, and a failed exchange
    /// closes the channel), clearing the mark.
    pub(crate) fn take_dirty(&mut self) -> bool {
        match self {
            TrezorLink::V1(l) => l.take_dirty(),
            _ => false,
        }
    }

    /// Gets codec v1 back in step after a reply was given up on: it has no request
    /// ids, so a late reply would be read as the answer to the next call. Whatever
    /// arrived is dropped, `Cancel` takes the device off any screen, and a `Ping`
    /// with `token` must come back: every message before its `Success` is dropped (at
    /// most [`RESYNC_MESSAGES`]).
    ///
    /// # Errors
    /// Transport errors; `timeout` when the device does not answer (the link stays
    /// marked, so the next call tries again); `protocol` when it never comes back in
    /// step.
    pub(crate) async fn resync(&mut self, token: &str, timeout_ms: u32) -> Result<()> {
        let TrezorLink::V1(link) = self else {
            return Ok(());
        };
        let result = resync_v1(link, token, timeout_ms).await;
        if result.is_err() {
            link.mark_dirty();
        }
        result
    }

    pub(crate) fn transport(&mut self) -> Option<&mut T> {
        match self {
            TrezorLink::V1(l) => Some(l.transport()),
            TrezorLink::Thp(l) => Some(l.transport()),
            TrezorLink::Gone => None,
        }
    }

    pub(crate) fn transport_ref(&self) -> Option<&T> {
        match self {
            TrezorLink::V1(l) => Some(l.transport_ref()),
            TrezorLink::Thp(l) => Some(l.transport_ref()),
            TrezorLink::Gone => None,
        }
    }
}

impl<T: Transport> Exchange for TrezorLink<T> {
    type Message = Message;

    fn exchange<'a>(
        &'a mut self,
        message: &'a Message,
        timeout_ms: u32,
        abort: Option<&'a AbortHandle>,
    ) -> LocalBoxFuture<'a, Result<Message>> {
        match self {
            TrezorLink::V1(l) => Exchange::exchange(l, message, timeout_ms, abort),
            TrezorLink::Thp(l) => l.exchange(message, timeout_ms, abort),
            TrezorLink::Gone => Box::pin(async { Err(Error::Disconnected) }),
        }
    }

    fn cancel_message(&self) -> Option<Message> {
        match self {
            TrezorLink::V1(l) => l.cancel_message(),
            TrezorLink::Thp(l) => l.cancel_message(),
            TrezorLink::Gone => None,
        }
    }
}

async fn resync_v1<T: Transport>(
    link: &mut Link<T, TrezorCodec>,
    token: &str,
    timeout_ms: u32,
) -> Result<()> {
    link.transport().resync().await?;
    link.send(&msg::encode(&Cancel {})).await?;
    link.send(&msg::encode(&Ping {
        message: Some(token.to_string()),
        button_protection: None,
    }))
    .await?;
    for _ in 0..RESYNC_MESSAGES {
        match link.recv_message(timeout_ms).await {
            Ok((ty, payload)) if ty == msg::types::SUCCESS => {
                let echo = msg::decode::<Success>(&payload)
                    .ok()
                    .and_then(|s| s.message);
                if echo.as_deref() == Some(token) {
                    return Ok(());
                }
            }
            Ok(_) | Err(Error::Protocol(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::protocol(format!(
        "the trezor sent {RESYNC_MESSAGES} messages after a time-out without coming back in \
         step"
    )))
}
