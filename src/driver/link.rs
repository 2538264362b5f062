//! What the drive loop talks through: [`Exchange`], one message out and its reply in.
//! [`Link`] is a [`Transport`] with a vendor's [`Codec`], over links that carry 64-byte
//! reports or whole frames alike: the one packet-exchange function of the crate.
//! Protocols with a channel of their own (acknowledgements, retransmission,
//! encryption: the Trezor Host Protocol) implement [`Exchange`] themselves.

use futures::future::LocalBoxFuture;

use crate::driver::abort::AbortHandle;
use crate::error::{Error, Result};
use crate::protocol::codec::{Codec, Reassemble};
use crate::transport::{Packets, Transport};

/// One message out and the device's reply in.
pub trait Exchange {
    /// What travels each way.
    type Message;

    /// Sends `message` and returns the reply, waiting at most `timeout_ms` for each
    /// packet; on an abort while waiting, the protocol's cancel message (if any) is sent
    /// once and the device's answer to it returned.
    ///
    /// # Errors
    /// Transport errors, and `protocol` for badly framed replies.
    fn exchange<'a>(
        &'a mut self,
        message: &'a Self::Message,
        timeout_ms: u32,
        abort: Option<&'a AbortHandle>,
    ) -> LocalBoxFuture<'a, Result<Self::Message>>;

    /// The message that takes the device off a prompt (Trezor's Cancel), if any.
    fn cancel_message(&self) -> Option<Self::Message>;
}

impl<T: Transport, C: Codec> Exchange for Link<T, C> {
    type Message = C::Message;

    fn exchange<'a>(
        &'a mut self,
        message: &'a C::Message,
        timeout_ms: u32,
        abort: Option<&'a AbortHandle>,
    ) -> LocalBoxFuture<'a, Result<C::Message>> {
        Box::pin(Link::exchange(self, message, timeout_ms, abort))
    }

    fn cancel_message(&self) -> Option<C::Message> {
        self.codec.cancel()
    }
}

/// A transport and the framing its device speaks.
#[derive(Debug)]
pub struct Link<T, C> {
    transport: T,
    codec: C,
    /// A reply was given up on (time-out): it may still arrive, and must not be read
    /// as the answer to a later message. The vendor's driver resyncs before the next
    /// call ([`Link::take_dirty`]).
    dirty: bool,
}

impl<T: Transport, C: Codec> Link<T, C> {
    /// `transport` framed with `codec`.
    pub fn new(transport: T, codec: C) -> Self {
        Link {
            transport,
            codec,
            dirty: false,
        }
    }

    /// The codec, to change its framing (a new Ledger channel after a time-out).
    pub fn codec_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// Whether a reply was given up on since the last call, clearing the mark.
    pub fn take_dirty(&mut self) -> bool {
        core::mem::take(&mut self.dirty)
    }

    /// Marks the link out of step (a resync that itself timed out).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// The transport underneath.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport underneath, read-only.
    pub fn transport_ref(&self) -> &T {
        &self.transport
    }

    /// Gives the transport back (to speak another protocol over it).
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends `message` and returns the device's reply, waiting at most `timeout_ms` for
    /// each packet. Whatever arrived before (late packets of a failed call) is dropped
    /// first. On an abort while waiting, the codec's cancel message (if it has one) is
    /// sent once and the device's answer to it is returned.
    ///
    /// # Errors
    /// Transport errors, and `protocol` for badly framed replies.
    pub async fn exchange(
        &mut self,
        message: &C::Message,
        timeout_ms: u32,
        abort: Option<&AbortHandle>,
    ) -> Result<C::Message> {
        self.transport.discard_pending();
        self.send(message).await?;
        let reply = self.receive(timeout_ms, abort).await;
        if matches!(reply, Err(Error::Timeout { .. })) {
            self.dirty = true;
        }
        reply
    }

    /// Reads one message, waiting at most `timeout_ms` for each packet (no abort).
    ///
    /// # Errors
    /// Transport errors, and `protocol` for a badly framed message.
    pub async fn recv_message(&mut self, timeout_ms: u32) -> Result<C::Message> {
        self.receive(timeout_ms, None).await
    }

    async fn receive(
        &mut self,
        timeout_ms: u32,
        abort: Option<&AbortHandle>,
    ) -> Result<C::Message> {
        let mut abort = abort.filter(|a| !a.requested() && self.codec.cancel().is_some());
        let mut decoder = self.codec.decoder();
        loop {
            let packet = match abort.take() {
                None => self.transport.recv(timeout_ms).await?,
                Some(a) => match self.recv_unless_aborted(timeout_ms, a).await {
                    Some(packet) => {
                        abort = Some(a);
                        packet?
                    }
                    None => {
                        if let Some(cancel) = self.codec.cancel() {
                            self.send(&cancel).await?;
                        }
                        self.transport.recv(timeout_ms).await?
                    }
                },
            };
            match self.transport.packets() {
                Packets::Messages => return self.codec.unframe(&packet),
                Packets::Reports64 => {
                    if let Some(reply) = decoder.push(&packet)? {
                        return Ok(reply);
                    }
                }
            }
        }
    }

    /// Sends one message.
    ///
    /// # Errors
    /// Transport errors; `invalid-input` for a message the framing cannot carry.
    pub async fn send(&mut self, message: &C::Message) -> Result<()> {
        match self.transport.packets() {
            Packets::Messages => {
                let frame = self.codec.frame(message)?;
                self.transport.send(&frame).await
            }
            Packets::Reports64 => {
                for report in self.codec.reports(message)? {
                    self.transport.send(&report).await?;
                }
                Ok(())
            }
        }
    }

    /// The next packet, or `None` once an abort is asked.
    async fn recv_unless_aborted(
        &mut self,
        timeout_ms: u32,
        abort: &AbortHandle,
    ) -> Option<Result<Vec<u8>>> {
        let recv = self.transport.recv(timeout_ms);
        futures::pin_mut!(recv);
        match futures::future::select(recv, abort.requested_future()).await {
            futures::future::Either::Left((r, _)) => Some(r),
            futures::future::Either::Right(_) => None,
        }
    }
}
