//! Ways to reach a simulated Ledger: in memory (whole APDUs, or 64-byte HID reports
//! with link faults), and natively on a Speculos-style TCP APDU socket.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;
use crate::protocol::ledger::framing::{self, Decoder};
use crate::sim::fault::Fault;
use crate::transport::memory::MemoryTransport;
use crate::transport::{Identity, Packets};

use super::SimLedger;

fn identity() -> Identity {
    Identity {
        vendor_id: 0x2c97,
        product_id: 0x5011,
        usage_page: Some(0xffa0),
        product_name: "Simulated Ledger".into(),
    }
}

/// A transport that hands whole APDUs to `sim`.
pub fn apdu_transport(sim: Rc<RefCell<SimLedger>>) -> MemoryTransport {
    let mut held: Vec<Vec<u8>> = Vec::new();
    MemoryTransport::new(Packets::Messages, identity(), move |apdu: &[u8]| {
        let mut s = sim.borrow_mut();
        if let Some(k) = s.context().faults.disconnect_after() {
            if s.exchanges_since_faults() >= k {
                return Err(Error::Disconnected);
            }
        }
        if s.context().faults.has(Fault::NoAnswer) {
            return Ok(vec![]);
        }
        let late = s.context().faults.has(Fault::LateReply) && s.exchanges_since_faults() == 0;
        let reply = s.apdu(apdu);
        if late {
            held.push(reply);
            return Ok(vec![]);
        }
        let mut out = core::mem::take(&mut held);
        out.push(reply);
        Ok(out)
    })
}

/// A transport that carries 64-byte HID reports to `sim`, as WebHID and hidapi do, and
/// applies the link-level faults to the reply packets.
pub fn hid_transport(sim: Rc<RefCell<SimLedger>>) -> MemoryTransport {
    let mut decoder: Option<(u16, Decoder)> = None;
    // A reply held back by `LateReply`, sent before the next one.
    let mut held: Vec<Vec<u8>> = Vec::new();
    MemoryTransport::new(Packets::Reports64, identity(), move |packet: &[u8]| {
        let channel = match packet {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => return Err(Error::Transport("short report".into())),
        };
        let dec = &mut decoder
            .get_or_insert_with(|| (channel, Decoder::new(channel)))
            .1;
        let Some(apdu) = dec.push(packet).map_err(|e| {
            Error::Transport(format!("simulator could not read the host's report: {e}"))
        })?
        else {
            return Ok(vec![]);
        };
        decoder = None;
        let mut s = sim.borrow_mut();
        let faults = s.context().faults.clone();
        if faults
            .disconnect_after()
            .is_some_and(|k| s.exchanges_since_faults() >= k)
        {
            return Err(Error::Disconnected);
        }
        if faults.has(Fault::NoAnswer) {
            return Ok(vec![]);
        }
        let late = faults.has(Fault::LateReply) && s.exchanges_since_faults() == 0;
        let mut reply = s.apdu(&apdu);
        if faults.has(Fault::GarbageMessage) {
            reply = vec![0xde, 0xad];
        }
        let mut packets = framing::encode(channel, &reply)?;
        for p in packets.iter_mut() {
            if faults.has(Fault::WrongChannel) {
                p[0] ^= 0xff;
            }
            if faults.has(Fault::WrongTag) {
                p[2] = 0x02;
            }
        }
        if faults.has(Fault::WrongSequence) {
            // The second packet's number skips one (a one-packet reply starts at 1).
            let which = usize::from(packets.len() > 1);
            if let Some(p) = packets.get_mut(which) {
                p[4] = p[4].wrapping_add(1);
            }
        }
        if faults.has(Fault::TruncatedLength) || faults.has(Fault::OverlongLength) {
            if let Some(p) = packets.first_mut() {
                let len = u16::from_be_bytes([p[5], p[6]]);
                let new = if faults.has(Fault::TruncatedLength) {
                    len.saturating_sub(1)
                } else {
                    len.saturating_add(100)
                };
                [p[5], p[6]] = new.to_be_bytes();
            }
        }
        let mut out = Vec::new();
        for (n, p) in packets.into_iter().enumerate() {
            if faults.has(Fault::DropPacket(n)) {
                continue;
            }
            if faults.has(Fault::DuplicatePacket(n)) {
                out.push(p.to_vec());
            }
            out.push(p.to_vec());
        }
        if late {
            held = out;
            return Ok(vec![]);
        }
        held.append(&mut out);
        Ok(core::mem::take(&mut held))
    })
}

/// Serves `sim` on a Speculos-style APDU socket at `addr` (e.g. `127.0.0.1:9999`),
/// one client at a time, until the process ends. Request: `u32 BE len | APDU`; reply:
/// `u32 BE n | data | status word`.
///
/// # Errors
/// `transport` when the address cannot be bound.
#[cfg(not(target_arch = "wasm32"))]
pub fn serve_speculos(addr: &str, sim: SimLedger) -> crate::error::Result<()> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
    serve_speculos_on(listener, sim)
}

/// Like [`serve_speculos`], on a bound listener (tests bind port 0 first).
///
/// # Errors
/// `transport` when accepting fails.
#[cfg(not(target_arch = "wasm32"))]
pub fn serve_speculos_on(
    listener: std::net::TcpListener,
    mut sim: SimLedger,
) -> crate::error::Result<()> {
    use std::io::{Read, Write};
    loop {
        let (mut sock, _) = listener
            .accept()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let _ = sock.set_nodelay(true);
        loop {
            let mut len = [0u8; 4];
            if sock.read_exact(&mut len).is_err() {
                break;
            }
            let n = u32::from_be_bytes(len) as usize;
            if n > 65_536 {
                break;
            }
            let mut apdu = vec![0u8; n];
            if sock.read_exact(&mut apdu).is_err() {
                break;
            }
            let reply = sim.apdu(&apdu);
            let data_len = (reply.len().saturating_sub(2)) as u32;
            let mut frame = data_len.to_be_bytes().to_vec();
            frame.extend_from_slice(&reply);
            if sock.write_all(&frame).is_err() {
                break;
            }
        }
    }
}
