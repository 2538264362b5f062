//! The simulated Safe 7 behind in-memory links: [`Safe7Transport`] (64-byte packets,
//! like WebUSB) lets the device's retransmission timer fire whenever the host waits
//! for a packet that is not there, so that lost and corrupted messages are sent again
//! without any clock.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::future::LocalBoxFuture;

use crate::error::{Error, Result};
use crate::sim::trezor::thp::Safe7Sim;
use crate::transport::{Identity, Packets, Transport};

/// An in-memory link of 64-byte packets to a (shared) simulated Safe 7.
#[derive(Debug)]
pub struct Safe7Transport {
    sim: Rc<RefCell<Safe7Sim>>,
    inbox: VecDeque<Vec<u8>>,
}

impl Safe7Transport {
    /// A link to `sim`, which the caller may keep to look at the screen or switch
    /// faults while a host holds the link.
    pub fn new(sim: Rc<RefCell<Safe7Sim>>) -> Self {
        Safe7Transport {
            sim,
            inbox: VecDeque::new(),
        }
    }
}

impl Safe7Sim {
    /// Puts the simulator behind an in-memory link of 64-byte packets.
    pub fn into_transport(self) -> Safe7Transport {
        Safe7Transport::new(Rc::new(RefCell::new(self)))
    }

    /// A link to a shared simulator.
    pub fn shared_transport(sim: Rc<RefCell<Safe7Sim>>) -> Safe7Transport {
        Safe7Transport::new(sim)
    }
}

/// The USB identity of the simulated Safe 7 (the same as every current Trezor).
pub fn identity() -> Identity {
    Identity {
        vendor_id: 0x1209,
        product_id: 0x53c1,
        usage_page: None,
        product_name: "Trezor Safe 7 (simulated)".into(),
    }
}

impl Transport for Safe7Transport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        identity()
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let replies = self.sim.borrow_mut().handle_packet(data)?;
            self.inbox.extend(replies);
            Ok(())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            if self.inbox.is_empty() {
                // The host waits: time passes on the device too.
                let resent = self.sim.borrow_mut().idle();
                self.inbox.extend(resent);
            }
            self.inbox.pop_front().ok_or(Error::Timeout {
                after_ms: timeout_ms,
            })
        })
    }

    fn discard_pending(&mut self) {
        self.inbox.clear();
    }
}
