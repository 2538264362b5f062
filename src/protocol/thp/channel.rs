//! The host's end of a THP channel below encryption: channel allocation on the
//! broadcast channel, the alternating-bit protocol (sequence bits, ACKs, duplicates),
//! retransmission, and the device's transport errors. Sans-IO: it returns packets to
//! send and frames received; the time of each event is passed in (`now_ms`, any
//! monotonic milliseconds) and it says when it wants to be woken
//! ([`Channel::deadline`]).

use crate::error::{Error, Result};
use crate::protocol::codec::REPORT_SIZE;
use crate::protocol::thp::packet::{ctrl, error_code, Frame, Kind, Push, Reassembler, BROADCAST};

/// How long to wait for an ACK before sending again.
pub const ACK_TIMEOUT_MS: u64 = 500;
/// How many times one message is sent again before the call fails with `timeout`.
pub const MAX_RETRANSMISSIONS: u32 = 20;
/// How many TRANSPORT_BUSY answers one message may get before the call fails.
pub const MAX_BUSY: u32 = 20;
/// The first back-off after TRANSPORT_BUSY; it doubles each time (at most 3.2 s).
pub const BUSY_BACKOFF_MS: u64 = 100;

/// One 64-byte packet.
pub type Packet = [u8; REPORT_SIZE];

/// A message waiting for its ACK.
#[derive(Debug, Clone)]
struct Pending {
    frame: Frame,
    deadline: u64,
    retransmissions: u32,
    busy: u32,
}

/// What one received packet meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Nothing for the caller (part of a message, an ACK, a duplicate, another
    /// channel's packet, a packet with a wrong CRC).
    Nothing,
    /// A new data message from the device (its ACK is queued in
    /// [`Channel::take_outgoing`]).
    Message(Frame),
}

/// The host's end of one allocated channel.
#[derive(Debug, Clone)]
pub struct Channel {
    cid: u16,
    /// Sequence bit of the next message sent.
    send_bit: bool,
    /// Sequence bit expected of the next message received.
    recv_bit: bool,
    pending: Option<Pending>,
    reassembler: Reassembler,
    outgoing: Vec<Packet>,
    discarded: usize,
}

impl Channel {
    /// The channel `cid`, both sequence bits at 0.
    pub fn new(cid: u16) -> Self {
        Channel {
            cid,
            send_bit: false,
            recv_bit: false,
            pending: None,
            reassembler: Reassembler::new(),
            outgoing: Vec::new(),
            discarded: 0,
        }
    }

    /// The channel id.
    pub fn cid(&self) -> u16 {
        self.cid
    }

    /// Whether a message sent is not acknowledged yet.
    pub fn awaiting_ack(&self) -> bool {
        self.pending.is_some()
    }

    /// Packets thrown away so far (wrong CRC, malformed).
    pub fn discarded(&self) -> usize {
        self.discarded
    }

    /// When [`Channel::on_timeout`] should be called, if a message waits for its ACK.
    pub fn deadline(&self) -> Option<u64> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Sends a data message of type `kind` (a `ctrl` data type): sets its sequence bit
    /// and its ACK bit, and keeps it until it is acknowledged. Returns its packets.
    ///
    /// # Errors
    /// `protocol` when the previous message is not acknowledged yet; `invalid-input`
    /// for a payload too long for THP.
    pub fn send(&mut self, kind: u8, payload: Vec<u8>, now_ms: u64) -> Result<Vec<Packet>> {
        if self.pending.is_some() {
            return Err(Error::protocol(
                "thp: a message was sent before the previous one was acknowledged",
            ));
        }
        let mut control = kind & ctrl::DATA_MASK;
        if self.send_bit {
            control |= ctrl::SEQ_BIT;
        }
        // The ACK bit says which device message was received last. On the handshake
        // initiation request it stays 0: newer firmware takes a 1 there as the host
        // asking for ACK piggybacking, and this host sends explicit ACKs.
        if kind != ctrl::HANDSHAKE_INIT_REQUEST && !self.recv_bit {
            control |= ctrl::ACK_BIT;
        }
        let frame = Frame::new(control, self.cid, payload);
        let packets = frame.to_reports()?;
        self.send_bit = !self.send_bit;
        self.pending = Some(Pending {
            frame,
            deadline: now_ms.saturating_add(ACK_TIMEOUT_MS),
            retransmissions: 0,
            busy: 0,
        });
        Ok(packets)
    }

    /// The time of the deadline came without the ACK: the message again.
    ///
    /// # Errors
    /// `timeout` after [`MAX_RETRANSMISSIONS`]; `busy` after [`MAX_BUSY`] busy answers.
    pub fn on_timeout(&mut self, now_ms: u64) -> Result<Vec<Packet>> {
        let Some(p) = self.pending.as_mut() else {
            return Ok(Vec::new());
        };
        if p.busy >= MAX_BUSY {
            return Err(Error::Busy(
                "the trezor kept answering that it is busy with another channel".into(),
            ));
        }
        if p.retransmissions >= MAX_RETRANSMISSIONS {
            return Err(Error::Timeout {
                after_ms: (ACK_TIMEOUT_MS * u64::from(MAX_RETRANSMISSIONS + 1)) as u32,
            });
        }
        p.retransmissions += 1;
        p.deadline = now_ms.saturating_add(ACK_TIMEOUT_MS);
        p.frame.to_reports()
    }

    /// Packets the channel wants sent now (ACKs of received messages).
    pub fn take_outgoing(&mut self) -> Vec<Packet> {
        core::mem::take(&mut self.outgoing)
    }

    fn queue_ack(&mut self, bit: bool) {
        let control = ctrl::ACK | if bit { ctrl::ACK_BIT } else { 0 };
        if let Ok(mut packets) = Frame::new(control, self.cid, Vec::new()).to_reports() {
            self.outgoing.append(&mut packets);
        }
    }

    /// Feeds one packet from the device.
    ///
    /// # Errors
    /// The device's transport errors: `device-locked` (DEVICE_LOCKED), `protocol` for
    /// UNALLOCATED_CHANNEL, DECRYPTION_FAILED and unknown codes (the channel is gone:
    /// open a new one); TRANSPORT_BUSY is not an error but a back-off.
    pub fn on_packet(&mut self, packet: &[u8], now_ms: u64) -> Result<Received> {
        let frame = match self.reassembler.push(packet) {
            Push::More => return Ok(Received::Nothing),
            Push::Discarded(_) => {
                self.discarded += 1;
                return Ok(Received::Nothing);
            }
            Push::Frame(f) => f,
        };
        if frame.cid != self.cid {
            return Ok(Received::Nothing);
        }
        match frame.kind() {
            Kind::Error => self.on_error(&frame, now_ms),
            Kind::Ack(bit) => {
                if self
                    .pending
                    .as_ref()
                    .is_some_and(|p| (p.frame.control & ctrl::SEQ_BIT != 0) == bit)
                {
                    self.pending = None;
                }
                Ok(Received::Nothing)
            }
            Kind::Data(_) => {
                let seq = frame.control & ctrl::SEQ_BIT != 0;
                self.queue_ack(seq);
                if seq != self.recv_bit {
                    // A duplicate (our ACK was lost, or a replay): acknowledged again,
                    // never delivered twice.
                    return Ok(Received::Nothing);
                }
                self.recv_bit = !self.recv_bit;
                // The device answers only what it received: its answer acknowledges
                // our message too (and is how ACK piggybacking looks).
                self.pending = None;
                Ok(Received::Message(frame))
            }
            _ => Ok(Received::Nothing),
        }
    }

    fn on_error(&mut self, frame: &Frame, now_ms: u64) -> Result<Received> {
        match frame.payload.first().copied() {
            Some(error_code::TRANSPORT_BUSY) => {
                if let Some(p) = self.pending.as_mut() {
                    p.busy += 1;
                    let backoff = BUSY_BACKOFF_MS << p.busy.min(5);
                    p.deadline = now_ms.saturating_add(backoff);
                }
                Ok(Received::Nothing)
            }
            Some(error_code::DEVICE_LOCKED) => Err(Error::DeviceLocked),
            Some(error_code::UNALLOCATED_CHANNEL) => Err(Error::protocol(
                "the trezor dropped the thp channel (unallocated channel): it is opened again \
                 on the next call",
            )),
            Some(error_code::DECRYPTION_FAILED) => Err(Error::protocol(
                "the trezor could not decrypt a message (decryption failed): the thp channel \
                 is opened again on the next call",
            )),
            other => Err(Error::protocol(format!(
                "the trezor reported thp transport error {}",
                other.map_or("(empty)".to_string(), |c| c.to_string())
            ))),
        }
    }
}

/// The channel allocation request on the broadcast channel, with `nonce`.
///
/// # Errors
/// Never in practice (8 bytes always fit).
pub fn allocation_request(nonce: [u8; 8]) -> Result<Vec<Packet>> {
    Frame::new(ctrl::ALLOCATION_REQUEST, BROADCAST, nonce.to_vec()).to_reports()
}

/// Reassembles broadcast packets into the allocation response to `nonce`.
#[derive(Debug, Default, Clone)]
pub struct Allocation {
    reassembler: Reassembler,
}

/// A channel the device allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocated {
    /// The channel id.
    pub cid: u16,
    /// The device properties (serialized `ThpDeviceProperties`), the handshake's
    /// prologue.
    pub properties: Vec<u8>,
}

impl Allocation {
    /// Feeds one packet; returns the allocation once the response to `nonce` is in.
    /// Other packets (answers to other hosts' nonces, other channels) are ignored.
    ///
    /// # Errors
    /// `protocol` for an allocation response that gives a reserved channel id.
    pub fn on_packet(&mut self, packet: &[u8], nonce: &[u8; 8]) -> Result<Option<Allocated>> {
        let Push::Frame(frame) = self.reassembler.push(packet) else {
            return Ok(None);
        };
        if frame.cid != BROADCAST || frame.kind() != Kind::AllocationResponse {
            return Ok(None);
        }
        let (Some(got), Some(cid), Some(properties)) = (
            frame.payload.get(..8),
            frame.payload.get(8..10),
            frame.payload.get(10..),
        ) else {
            return Ok(None);
        };
        if got != nonce {
            return Ok(None);
        }
        let cid = u16::from_be_bytes([
            cid.first().copied().unwrap_or(0),
            cid.get(1).copied().unwrap_or(0),
        ]);
        if cid == 0 || cid >= 0xfff0 {
            return Err(Error::protocol(format!(
                "the trezor allocated the reserved channel 0x{cid:04x}"
            )));
        }
        Ok(Some(Allocated {
            cid,
            properties: properties.to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device_frame(control: u8, cid: u16, payload: &[u8]) -> Vec<Packet> {
        Frame::new(control, cid, payload.to_vec())
            .to_reports()
            .unwrap()
    }

    #[test]
    fn sequence_bits_alternate_and_acks_are_checked() {
        let mut ch = Channel::new(0x1234);
        let p = ch
            .send(ctrl::HANDSHAKE_INIT_REQUEST, vec![1; 33], 0)
            .unwrap();
        assert_eq!(p[0][0], 0x00, "seq 0, ack bit 0 on the initiation request");
        assert_eq!(ch.deadline(), Some(ACK_TIMEOUT_MS));
        assert!(
            ch.send(ctrl::ENCRYPTED, vec![], 0).is_err(),
            "one at a time"
        );
        // An ACK with the wrong bit is ignored; the right one clears the message.
        ch.on_packet(&device_frame(0x28, 0x1234, &[])[0], 1)
            .unwrap();
        assert!(ch.awaiting_ack());
        ch.on_packet(&device_frame(0x20, 0x1234, &[])[0], 1)
            .unwrap();
        assert!(!ch.awaiting_ack());
        // The device's answer (seq 0) is delivered once and acknowledged each time.
        let answer = device_frame(0x01, 0x1234, &[7; 96]);
        let mut got = Received::Nothing;
        for p in &answer {
            got = ch.on_packet(p, 2).unwrap();
        }
        assert!(matches!(got, Received::Message(ref f) if f.payload == vec![7; 96]));
        assert_eq!(ch.take_outgoing()[0][..3], [0x20, 0x12, 0x34]);
        for p in &answer {
            assert_eq!(ch.on_packet(p, 3).unwrap(), Received::Nothing);
        }
        assert_eq!(
            ch.take_outgoing().len(),
            1,
            "a duplicate is acknowledged again"
        );
        // Next message: seq 1, ACK bit 0 (the last device message had seq 0).
        let p = ch
            .send(ctrl::HANDSHAKE_COMPLETION_REQUEST, vec![2; 80], 10)
            .unwrap();
        assert_eq!(p[0][0], 0x02 | ctrl::SEQ_BIT);
        // A packet of another channel is ignored.
        assert_eq!(
            ch.on_packet(&device_frame(0x28, 0x9999, &[])[0], 11)
                .unwrap(),
            Received::Nothing
        );
        assert!(ch.awaiting_ack());
    }

    #[test]
    fn retransmission_is_bounded() {
        let mut ch = Channel::new(5);
        let first = ch.send(ctrl::ENCRYPTED, vec![1, 2, 3], 0).unwrap();
        let mut now = 0;
        for _ in 0..MAX_RETRANSMISSIONS {
            now = ch.deadline().unwrap();
            assert_eq!(ch.on_timeout(now).unwrap(), first, "the same bytes again");
        }
        assert_eq!(ch.on_timeout(now + 500).unwrap_err().code(), "timeout");
    }

    #[test]
    fn transport_errors_are_typed() {
        let mut ch = Channel::new(5);
        ch.send(ctrl::ENCRYPTED, vec![1], 0).unwrap();
        let busy = device_frame(ctrl::ERROR, 5, &[1]);
        assert_eq!(ch.on_packet(&busy[0], 10).unwrap(), Received::Nothing);
        assert_eq!(ch.deadline(), Some(10 + 200), "backed off");
        for (code, expect) in [
            (2u8, "protocol"),
            (3, "protocol"),
            (5, "device-locked"),
            (9, "protocol"),
        ] {
            let e = ch
                .on_packet(&device_frame(ctrl::ERROR, 5, &[code])[0], 11)
                .unwrap_err();
            assert_eq!(e.code(), expect, "code {code}");
        }
        let mut ch = Channel::new(5);
        ch.send(ctrl::ENCRYPTED, vec![1], 0).unwrap();
        for _ in 0..MAX_BUSY {
            ch.on_packet(&busy[0], 1).unwrap();
        }
        assert_eq!(ch.on_timeout(5000).unwrap_err().code(), "busy");
    }

    #[test]
    fn allocation_checks_the_nonce() {
        let nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        let req = allocation_request(nonce).unwrap();
        assert_eq!(
            &req[0][..13],
            &[0x40, 0xff, 0xff, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8]
        );
        let mut a = Allocation::default();
        let mut other = vec![9; 8];
        other.extend_from_slice(&[0x12, 0x34, 0xaa]);
        let p = device_frame(ctrl::ALLOCATION_RESPONSE, BROADCAST, &other);
        assert_eq!(a.on_packet(&p[0], &nonce).unwrap(), None);
        let mut mine = nonce.to_vec();
        mine.extend_from_slice(&[0x12, 0x34, 0xaa]);
        let p = device_frame(ctrl::ALLOCATION_RESPONSE, BROADCAST, &mine);
        assert_eq!(
            a.on_packet(&p[0], &nonce).unwrap(),
            Some(Allocated {
                cid: 0x1234,
                properties: vec![0xaa]
            })
        );
        let mut reserved = nonce.to_vec();
        reserved.extend_from_slice(&[0xff, 0xff]);
        let p = device_frame(ctrl::ALLOCATION_RESPONSE, BROADCAST, &reserved);
        assert!(a.on_packet(&p[0], &nonce).is_err());
    }
}
