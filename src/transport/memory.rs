//! An in-memory link: every message sent is answered by a function, synchronously.
//!
//! Tests use it to replay recorded exchanges and to stand in for a device; the
//! simulated devices use it to run inside the same process (and the same page).

use std::collections::VecDeque;

use futures::future::LocalBoxFuture;

use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

type Responder = Box<dyn FnMut(&[u8]) -> Result<Vec<Vec<u8>>>>;

/// A link whose far end is a function: each sent packet or message yields zero or more
/// packets or messages to receive.
pub struct MemoryTransport {
    packets: Packets,
    identity: Identity,
    responder: Responder,
    inbox: VecDeque<Vec<u8>>,
}

impl core::fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryTransport")
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

impl MemoryTransport {
    /// A link carrying `packets`, answered by `responder`.
    pub fn new(
        packets: Packets,
        identity: Identity,
        responder: impl FnMut(&[u8]) -> Result<Vec<Vec<u8>>> + 'static,
    ) -> Self {
        MemoryTransport {
            packets,
            identity,
            responder: Box::new(responder),
            inbox: VecDeque::new(),
        }
    }
}

impl Transport for MemoryTransport {
    fn packets(&self) -> Packets {
        self.packets
    }

    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let replies = (self.responder)(data)?;
            self.inbox.extend(replies);
            Ok(())
        })
    }

    fn discard_pending(&mut self) {
        self.inbox.clear();
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            self.inbox.pop_front().ok_or(Error::Timeout {
                after_ms: timeout_ms,
            })
        })
    }
}
