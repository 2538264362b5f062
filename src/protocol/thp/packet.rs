//! THP transport packets: the control byte, the 64-byte initiation and continuation
//! packets, the CRC-32 that ends every transport payload, and reassembly.
//!
//! Initiation packet: `control u8 | cid u16 BE | length u16 BE | payload...`, where
//! `length` counts the payload and its 4-byte CRC; continuation packets are
//! `0x80 | cid u16 BE | payload...`; the last packet is zero-padded. The CRC (big
//! endian) covers the five header bytes and the payload.

use crate::error::{Error, Result};
use crate::protocol::codec::REPORT_SIZE;
use crate::protocol::thp::crc::crc32;

/// The broadcast channel (allocation requests and responses).
pub const BROADCAST: u16 = 0xffff;
/// Length of the CRC that ends every transport payload.
pub const CRC_LEN: usize = 4;
/// The longest transport payload the 16-bit length can describe (with its CRC).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - CRC_LEN;

const INIT_HEADER: usize = 5;
const CONT_HEADER: usize = 3;

/// Control bytes and their bits.
pub mod ctrl {
    /// Continuation packet marker (highest bit).
    pub const CONTINUATION: u8 = 0x80;
    /// Codec v1 (`?##`), which a THP device answers with Failure InvalidProtocol.
    pub const CODEC_V1: u8 = 0x3f;
    /// Channel allocation request (broadcast).
    pub const ALLOCATION_REQUEST: u8 = 0x40;
    /// Channel allocation response (broadcast).
    pub const ALLOCATION_RESPONSE: u8 = 0x41;
    /// Transport error.
    pub const ERROR: u8 = 0x42;
    /// Transport ping.
    pub const PING: u8 = 0x43;
    /// Transport pong.
    pub const PONG: u8 = 0x44;
    /// Acknowledgement (with [`ACK_BIT`]).
    pub const ACK: u8 = 0x20;
    /// Noise handshake message 1 (host).
    pub const HANDSHAKE_INIT_REQUEST: u8 = 0x00;
    /// Noise handshake message 2 (device).
    pub const HANDSHAKE_INIT_RESPONSE: u8 = 0x01;
    /// Noise handshake message 3 (host).
    pub const HANDSHAKE_COMPLETION_REQUEST: u8 = 0x02;
    /// The device's encrypted state after the handshake.
    pub const HANDSHAKE_COMPLETION_RESPONSE: u8 = 0x03;
    /// An encrypted application message.
    pub const ENCRYPTED: u8 = 0x04;
    /// The sequence bit of a data message.
    pub const SEQ_BIT: u8 = 0x10;
    /// The acknowledgement bit (of an ACK, or piggybacked on a data message).
    pub const ACK_BIT: u8 = 0x08;
    /// Mask of a data message's type (without the two bits).
    pub const DATA_MASK: u8 = 0xe7;
}

/// Transport error codes (payload of an [`ctrl::ERROR`] message).
pub mod error_code {
    /// The device is reassembling a message on another channel.
    pub const TRANSPORT_BUSY: u8 = 1;
    /// The channel is not allocated (any more).
    pub const UNALLOCATED_CHANNEL: u8 = 2;
    /// A message's authentication tag did not verify.
    pub const DECRYPTION_FAILED: u8 = 3;
    /// The device is locked and was not asked to unlock.
    pub const DEVICE_LOCKED: u8 = 5;
}

/// What a control byte says a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An acknowledgement of the data message whose sequence bit it carries.
    Ack(bool),
    /// A data message (handshake or encrypted) of this type (`ctrl & DATA_MASK`).
    Data(u8),
    /// Channel allocation request.
    AllocationRequest,
    /// Channel allocation response.
    AllocationResponse,
    /// Transport error.
    Error,
    /// Ping.
    Ping,
    /// Pong.
    Pong,
    /// Codec v1.
    CodecV1,
    /// A reserved control byte.
    Reserved,
}

/// The kind of `control`.
pub fn kind(control: u8) -> Kind {
    match control {
        ctrl::CODEC_V1 => Kind::CodecV1,
        ctrl::ALLOCATION_REQUEST => Kind::AllocationRequest,
        ctrl::ALLOCATION_RESPONSE => Kind::AllocationResponse,
        ctrl::ERROR => Kind::Error,
        ctrl::PING => Kind::Ping,
        ctrl::PONG => Kind::Pong,
        c if c & 0xf7 == ctrl::ACK => Kind::Ack(c & ctrl::ACK_BIT != 0),
        c if c & 0xe0 == 0 && c & ctrl::DATA_MASK <= ctrl::ENCRYPTED => {
            Kind::Data(c & ctrl::DATA_MASK)
        }
        _ => Kind::Reserved,
    }
}

/// One transport payload with its header fields (the CRC checked and removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The control byte.
    pub control: u8,
    /// The channel.
    pub cid: u16,
    /// The transport payload, without the CRC.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame.
    pub fn new(control: u8, cid: u16, payload: Vec<u8>) -> Self {
        Frame {
            control,
            cid,
            payload,
        }
    }

    /// The kind of its control byte.
    pub fn kind(&self) -> Kind {
        kind(self.control)
    }

    /// The sequence bit of a data message.
    pub fn seq_bit(&self) -> Option<bool> {
        match self.kind() {
            Kind::Data(_) => Some(self.control & ctrl::SEQ_BIT != 0),
            _ => None,
        }
    }

    /// The header the CRC covers: control, cid, length.
    fn header(&self) -> Result<[u8; INIT_HEADER]> {
        if self.payload.len() > MAX_PAYLOAD {
            return Err(Error::invalid(
                "message",
                format!(
                    "a thp message carries at most {MAX_PAYLOAD} bytes, this one has {}",
                    self.payload.len()
                ),
            ));
        }
        let length = (self.payload.len() + CRC_LEN) as u16;
        let [c0, c1] = self.cid.to_be_bytes();
        let [l0, l1] = length.to_be_bytes();
        Ok([self.control, c0, c1, l0, l1])
    }

    /// Header, payload and CRC: the bytes the packets carry.
    ///
    /// # Errors
    /// `invalid-input` for a payload longer than [`MAX_PAYLOAD`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header()?;
        let crc = crc32(&[&header, &self.payload]);
        let mut out = Vec::with_capacity(INIT_HEADER + self.payload.len() + CRC_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&crc.to_be_bytes());
        Ok(out)
    }

    /// The frame cut into zero-padded 64-byte packets.
    ///
    /// # Errors
    /// `invalid-input` for a payload longer than [`MAX_PAYLOAD`].
    pub fn to_reports(&self) -> Result<Vec<[u8; REPORT_SIZE]>> {
        let bytes = self.to_bytes()?;
        let (first, rest) = bytes.split_at(bytes.len().min(REPORT_SIZE));
        let mut out = Vec::with_capacity(1 + rest.len() / (REPORT_SIZE - CONT_HEADER));
        let mut report = [0u8; REPORT_SIZE];
        report
            .iter_mut()
            .zip(first.iter())
            .for_each(|(d, s)| *d = *s);
        out.push(report);
        let [c0, c1] = self.cid.to_be_bytes();
        for chunk in rest.chunks(REPORT_SIZE - CONT_HEADER) {
            let mut report = [0u8; REPORT_SIZE];
            report[0] = ctrl::CONTINUATION;
            report[1] = c0;
            report[2] = c1;
            report
                .iter_mut()
                .skip(CONT_HEADER)
                .zip(chunk.iter())
                .for_each(|(d, s)| *d = *s);
            out.push(report);
        }
        Ok(out)
    }
}

/// What one packet did to the reassembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// More packets are needed (or the packet was ignored).
    More,
    /// A whole frame whose CRC is right.
    Frame(Frame),
    /// A frame (or packet) was thrown away: its CRC was wrong, or its header was.
    Discarded(&'static str),
}

/// Reassembles frames from 64-byte packets (one channel at a time, as the spec lets a
/// receiver do: a new initiation packet drops a half-read frame).
#[derive(Debug, Default, Clone)]
pub struct Reassembler {
    partial: Option<Partial>,
}

#[derive(Debug, Clone)]
struct Partial {
    header: [u8; INIT_HEADER],
    cid: u16,
    length: usize,
    data: Vec<u8>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops a half-read frame.
    pub fn reset(&mut self) {
        self.partial = None;
    }

    /// Feeds one packet (up to 64 bytes; any length is accepted).
    pub fn push(&mut self, packet: &[u8]) -> Push {
        let Some(&control) = packet.first() else {
            return Push::Discarded("an empty packet");
        };
        if control & ctrl::CONTINUATION != 0 {
            let (Some(cid), Some(data)) = (be16(packet, 1), packet.get(CONT_HEADER..)) else {
                return Push::Discarded("a short continuation packet");
            };
            let Some(partial) = self.partial.as_mut().filter(|p| p.cid == cid) else {
                // Unexpected continuations are dropped, as the spec says.
                return Push::More;
            };
            let want = partial.length.saturating_sub(partial.data.len());
            partial
                .data
                .extend_from_slice(data.get(..want.min(data.len())).unwrap_or_default());
            return self.finish();
        }
        if control == ctrl::CODEC_V1 {
            // A codec v1 packet (an old reply): not THP.
            return Push::Discarded("a codec v1 packet");
        }
        let (Some(cid), Some(length), Some(data)) =
            (be16(packet, 1), be16(packet, 3), packet.get(INIT_HEADER..))
        else {
            self.partial = None;
            return Push::Discarded("a short initiation packet");
        };
        let length = usize::from(length);
        if length < CRC_LEN {
            self.partial = None;
            return Push::Discarded("a length shorter than the crc");
        }
        let mut header = [0u8; INIT_HEADER];
        header
            .iter_mut()
            .zip(packet.iter())
            .for_each(|(d, s)| *d = *s);
        self.partial = Some(Partial {
            header,
            cid,
            length,
            data: data
                .get(..length.min(data.len()))
                .unwrap_or_default()
                .to_vec(),
        });
        self.finish()
    }

    fn finish(&mut self) -> Push {
        match &self.partial {
            Some(p) if p.data.len() >= p.length => {}
            _ => return Push::More,
        }
        let Some(p) = self.partial.take() else {
            return Push::More;
        };
        let (payload, crc) = p.data.split_at(p.length - CRC_LEN);
        if crc32(&[&p.header, payload]).to_be_bytes() != crc {
            return Push::Discarded("a message with a wrong crc");
        }
        Push::Frame(Frame {
            control: p.header[0],
            cid: p.cid,
            payload: payload.to_vec(),
        })
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes() {
        assert_eq!(kind(0x20), Kind::Ack(false));
        assert_eq!(kind(0x28), Kind::Ack(true));
        assert_eq!(kind(0x14), Kind::Data(ctrl::ENCRYPTED));
        assert_eq!(kind(0x1c), Kind::Data(ctrl::ENCRYPTED));
        assert_eq!(kind(0x0b), Kind::Data(ctrl::HANDSHAKE_COMPLETION_RESPONSE));
        assert_eq!(kind(0x05), Kind::Reserved);
        assert_eq!(kind(0x41), Kind::AllocationResponse);
        assert_eq!(kind(0x3f), Kind::CodecV1);
        assert_eq!(Frame::new(0x14, 1, vec![]).seq_bit(), Some(true));
        assert_eq!(Frame::new(0x28, 1, vec![]).seq_bit(), None);
    }

    #[test]
    fn allocation_request_bytes() {
        // Checked against trezorlib's Message.broadcast(0x40, nonce).to_bytes().
        let f = Frame::new(0x40, BROADCAST, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let bytes = f.to_bytes().unwrap();
        assert_eq!(
            &bytes[..5],
            &[0x40, 0xff, 0xff, 0x00, 0x0c],
            "length counts the crc"
        );
        assert_eq!(bytes.len(), 5 + 8 + 4);
        let reports = f.to_reports().unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(&reports[0][..17], &bytes[..]);
        assert!(reports[0][17..].iter().all(|b| *b == 0));
    }

    #[test]
    fn long_frames_round_trip_through_packets() {
        for len in [0usize, 55, 56, 59, 60, 61, 121, 500, 4000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let f = Frame::new(0x14, 0x1234, payload);
            let reports = f.to_reports().unwrap();
            let total = 5 + len + 4;
            let expected = if total <= 64 {
                1
            } else {
                1 + (total - 64).div_ceil(61)
            };
            assert_eq!(reports.len(), expected, "len {len}");
            let mut r = Reassembler::new();
            let mut got = None;
            for (i, p) in reports.iter().enumerate() {
                match r.push(p) {
                    Push::More => assert!(i + 1 < reports.len()),
                    Push::Frame(frame) => got = Some(frame),
                    Push::Discarded(why) => panic!("{why}"),
                }
            }
            assert_eq!(got.as_ref(), Some(&f));
        }
    }

    #[test]
    fn bad_crc_and_headers_are_discarded() {
        let f = Frame::new(0x04, 7, vec![9; 100]);
        let mut reports = f.to_reports().unwrap();
        reports[1][10] ^= 1;
        let mut r = Reassembler::new();
        assert_eq!(r.push(&reports[0]), Push::More);
        assert_eq!(
            r.push(&reports[1]),
            Push::Discarded("a message with a wrong crc")
        );
        // A continuation of another channel is ignored; a new initiation packet
        // restarts the reassembly.
        let mut r = Reassembler::new();
        let good = f.to_reports().unwrap();
        assert_eq!(r.push(&good[0]), Push::More);
        let mut other = good[1];
        other[2] = 8;
        assert_eq!(r.push(&other), Push::More);
        assert_eq!(r.push(&good[0]), Push::More);
        assert!(matches!(r.push(&good[1]), Push::Frame(_)));
        assert_eq!(r.push(&[]), Push::Discarded("an empty packet"));
        assert_eq!(
            r.push(&[0x04, 0, 7, 0, 3]),
            Push::Discarded("a length shorter than the crc")
        );
        assert_eq!(
            r.push(&[0x04, 0]),
            Push::Discarded("a short initiation packet")
        );
        assert_eq!(
            r.push(&[b'?', b'#', b'#', 0, 3]),
            Push::Discarded("a codec v1 packet")
        );
    }
}
