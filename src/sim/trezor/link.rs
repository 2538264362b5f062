//! The simulated Trezor's link layer: 64-byte packets in and out (with the
//! link-level faults), and in-memory transports around it.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::protocol::trezor::framing;
use crate::protocol::trezor::messages::{self as msg, failure, Failure};
use crate::sim::fault::{Fault, Faults};
use crate::sim::trezor::TrezorSim;
use crate::transport::memory::MemoryTransport;
use crate::transport::{Identity, Packets};

impl TrezorSim {
    /// Handles one 64-byte packet from the host; returns the reply packets, with the
    /// link-level faults applied.
    ///
    /// # Errors
    /// `disconnected` once `DisconnectAfter(k)` exchanges are done.
    pub fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        if let Some(k) = self.faults.disconnect_after() {
            if self.exchanges.saturating_sub(self.faults_at) >= k {
                return Err(Error::Disconnected);
            }
        }
        let message = match self.decoder.push(packet) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(Vec::new()),
            Err(_) => {
                let (ty, p) = msg::encode(&Failure {
                    code: Some(failure::UNEXPECTED_MESSAGE),
                    message: Some("Invalid packet".into()),
                });
                return self.frame(vec![(ty, p)]);
            }
        };
        self.exchanges += 1;
        if self.faults.has(Fault::NoAnswer) {
            return Ok(Vec::new());
        }
        let late =
            self.faults.has(Fault::LateReply) && self.exchanges.saturating_sub(self.faults_at) == 1;
        let replies = self.handle_message(message.0, &message.1);
        let mut packets = self.frame(replies)?;
        if late {
            self.late = packets;
            return Ok(Vec::new());
        }
        self.late.append(&mut packets);
        Ok(core::mem::take(&mut self.late))
    }

    fn frame(&mut self, replies: Vec<(u16, Vec<u8>)>) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for (ty, payload) in replies {
            let mut packets = framing::encode(ty, &payload)?;
            if let Some(first) = packets.first_mut() {
                if self.faults.has(Fault::WrongChannel) {
                    first[..3].copy_from_slice(b"\0\0\0");
                }
                let len = payload.len() as u32;
                if self.faults.has(Fault::TruncatedLength) && len > 0 {
                    first[5..9].copy_from_slice(&(len - 1).to_be_bytes());
                }
                if self.faults.has(Fault::OverlongLength) {
                    first[5..9].copy_from_slice(&(len + 200).to_be_bytes());
                }
            }
            if self.faults.has(Fault::WrongTag) {
                // Continuation packets without their '?' marker.
                for p in packets.iter_mut().skip(1) {
                    p[0] = 0;
                }
            }
            if self.faults.has(Fault::WrongSequence) && packets.len() > 1 {
                // Codec v1 has no sequence numbers: the last two packets come swapped.
                let n = packets.len();
                packets.swap(n - 2, n - 1);
            }
            for (n, p) in packets.into_iter().enumerate() {
                self.packets_out += 1;
                if self.faults.has(Fault::DropPacket(n)) {
                    continue;
                }
                if self.faults.has(Fault::DuplicatePacket(n)) {
                    out.push(p.to_vec());
                }
                out.push(p.to_vec());
            }
        }
        Ok(out)
    }

    /// Switches misbehaviours on or off, as a device that was unplugged and plugged
    /// back: a half-read message and a call in progress are forgotten (the session
    /// stays). `DisconnectAfter(k)` counts from here.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
        self.faults_at = self.exchanges;
        self.decoder = framing::Decoder::new();
        self.state = super::firmware::State::Idle;
    }

    /// How many messages were answered since the faults were last set.
    pub fn exchanges_since_faults(&self) -> usize {
        self.exchanges.saturating_sub(self.faults_at)
    }

    /// Puts a shared simulator behind an in-memory link of 64-byte packets, so a test
    /// can switch faults on and off while a host holds the link.
    pub fn shared_transport(sim: Rc<RefCell<TrezorSim>>) -> MemoryTransport {
        MemoryTransport::new(Packets::Reports64, identity(), move |packet| {
            sim.borrow_mut().handle_packet(packet)
        })
    }

    /// Puts the simulator behind an in-memory link of 64-byte packets (the WebUSB /
    /// HID path).
    pub fn into_transport(mut self) -> MemoryTransport {
        MemoryTransport::new(Packets::Reports64, identity(), move |packet| {
            self.handle_packet(packet)
        })
    }

    /// Puts the simulator behind an in-memory link of whole messages.
    pub fn into_message_transport(mut self) -> MemoryTransport {
        MemoryTransport::new(Packets::Messages, Identity::default(), move |data| {
            let (ty, payload) = framing::decode_message(data)?;
            if self.faults.has(Fault::NoAnswer) {
                return Ok(Vec::new());
            }
            self.handle_message(ty, &payload)
                .into_iter()
                .map(|(t, p)| framing::encode_message(t, &p))
                .collect()
        })
    }
}

/// The USB identity of the simulated Trezor (a model T).
fn identity() -> Identity {
    Identity {
        vendor_id: 0x1209,
        product_id: 0x53c1,
        usage_page: None,
        product_name: "TREZOR (simulated)".into(),
    }
}
