//! The simulated Trezor's link layer: 64-byte packets in and out (with the
//! link-level faults), and in-memory transports around it.

use crate::error::{Error, Result};
use crate::sim::fault::Fault;
use crate::sim::trezor::TrezorSim;
use crate::transport::memory::MemoryTransport;
use crate::transport::{Identity, Packets};
use crate::trezor::framing;
use crate::trezor::messages::{self as msg, failure, Failure};

impl TrezorSim {
    /// Handles one 64-byte packet from the host; returns the reply packets, with the
    /// link-level faults applied.
    ///
    /// # Errors
    /// `disconnected` once `DisconnectAfter(k)` exchanges are done.
    pub fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        if let Some(k) = self.faults.disconnect_after() {
            if self.exchanges >= k {
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
        let replies = self.handle_message(message.0, &message.1);
        self.frame(replies)
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
            for p in packets {
                let n = self.packets_out;
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

    /// Puts the simulator behind an in-memory link of 64-byte packets (the WebUSB /
    /// HID path).
    pub fn into_transport(mut self) -> MemoryTransport {
        let identity = Identity {
            vendor_id: 0x1209,
            product_id: 0x53c1,
            usage_page: None,
            product_name: "TREZOR (simulated)".into(),
        };
        MemoryTransport::new(Packets::Reports64, identity, move |packet| {
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
