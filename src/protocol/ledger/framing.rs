//! Ledger's 64-byte HID report framing: pure functions, no I/O.
//!
//! A packet is `channel u16 BE | tag 0x05 | sequence u16 BE | payload`. A message is
//! `u16 BE length | APDU`, cut into the payloads of consecutive packets (57 bytes in the
//! first, 59 in the others) and zero-padded to 64 bytes. Replies use the same framing.

use crate::error::{Error, Result};
use crate::protocol::codec::{Codec, Reassemble};

/// Size of one HID report.
pub const PACKET_SIZE: usize = 64;
/// The tag byte of APDU packets.
pub const TAG_APDU: u8 = 0x05;
/// The channel this crate writes on (any value works; the device echoes it).
pub const DEFAULT_CHANNEL: u16 = 0x0101;
const HEADER: usize = 5;

/// Cuts `message` (a whole APDU) into 64-byte packets on `channel`.
///
/// # Errors
/// `invalid-input` when the message is longer than the 16-bit length field allows.
pub fn encode(channel: u16, message: &[u8]) -> Result<Vec<[u8; PACKET_SIZE]>> {
    let len = u16::try_from(message.len()).map_err(|_| {
        Error::invalid(
            "apdu",
            format!("{} bytes is over the 65535 a frame holds", message.len()),
        )
    })?;
    let mut data = Vec::with_capacity(message.len() + 2);
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(message);
    let mut packets = Vec::new();
    for (seq, chunk) in data.chunks(PACKET_SIZE - HEADER).enumerate() {
        let seq = u16::try_from(seq).map_err(|_| Error::invalid("apdu", "too many packets"))?;
        let mut packet = [0u8; PACKET_SIZE];
        packet[..2].copy_from_slice(&channel.to_be_bytes());
        packet[2] = TAG_APDU;
        packet[3..5].copy_from_slice(&seq.to_be_bytes());
        for (slot, byte) in packet.iter_mut().skip(HEADER).zip(chunk) {
            *slot = *byte;
        }
        packets.push(packet);
    }
    Ok(packets)
}

/// Reassembles one reply from packets, checking every field.
#[derive(Debug, Clone)]
pub struct Decoder {
    channel: u16,
    expected_len: Option<usize>,
    next_seq: u16,
    data: Vec<u8>,
}

impl Decoder {
    /// A decoder for a reply on `channel`.
    pub fn new(channel: u16) -> Self {
        Decoder {
            channel,
            expected_len: None,
            next_seq: 0,
            data: Vec::new(),
        }
    }

    /// Feeds one report. Returns the whole message once complete.
    ///
    /// Packets on another channel are skipped (`Ok(None)`): another program may share
    /// the device.
    ///
    /// # Errors
    /// `protocol` on an empty or short packet, a wrong tag, an out-of-order sequence
    /// number, or a length that the packets do not carry.
    pub fn push(&mut self, packet: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(([c0, c1, tag, s0, s1], mut payload)) =
            packet.split_first_chunk::<HEADER>().map(|(h, p)| (*h, p))
        else {
            return Err(Error::protocol(format!(
                "hid packet of {} bytes is shorter than its header",
                packet.len()
            )));
        };
        if u16::from_be_bytes([c0, c1]) != self.channel {
            return Ok(None);
        }
        if tag != TAG_APDU {
            return Err(Error::protocol(format!(
                "hid packet tag 0x{tag:02x}, expected 0x{TAG_APDU:02x}"
            )));
        }
        let seq = u16::from_be_bytes([s0, s1]);
        if seq != self.next_seq {
            return Err(Error::protocol(format!(
                "hid packet sequence {seq}, expected {}",
                self.next_seq
            )));
        }
        let expected = match self.expected_len {
            Some(len) => len,
            None => {
                let (len_bytes, rest) = payload
                    .split_first_chunk::<2>()
                    .ok_or_else(|| Error::protocol("first hid packet has no length field"))?;
                let len = usize::from(u16::from_be_bytes(*len_bytes));
                payload = rest;
                self.expected_len = Some(len);
                len
            }
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        let missing = expected.saturating_sub(self.data.len());
        if payload.is_empty() && missing > 0 {
            return Err(Error::protocol(format!(
                "hid packet carries no data, {missing} bytes still expected"
            )));
        }
        self.data.extend(payload.iter().take(missing));
        if self.data.len() == expected {
            self.expected_len = None;
            self.next_seq = 0;
            return Ok(Some(core::mem::take(&mut self.data)));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize) {
        let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let packets = encode(0x0101, &msg).unwrap();
        assert_eq!(packets.len(), (len + 2).div_ceil(59).max(1));
        let mut dec = Decoder::new(0x0101);
        let mut out = None;
        for (i, p) in packets.iter().enumerate() {
            let r = dec.push(p).unwrap();
            if i + 1 < packets.len() {
                assert!(r.is_none());
            } else {
                out = r;
            }
        }
        assert_eq!(out.unwrap(), msg);
    }

    #[test]
    fn roundtrips_across_packet_boundaries() {
        for len in [0, 1, 2, 56, 57, 58, 59, 115, 116, 117, 255, 260, 1000] {
            roundtrip(len);
        }
    }

    #[test]
    fn first_packet_layout_matches_the_device() {
        let packets = encode(0x0101, &[0xb0, 0x01, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(packets.len(), 1);
        assert_eq!(
            &packets[0][..10],
            &[0x01, 0x01, 0x05, 0x00, 0x00, 0x00, 0x05, 0xb0, 0x01, 0x00]
        );
        assert!(packets[0][12..].iter().all(|b| *b == 0));
        let long = encode(0x0101, &[0xaa; 100]).unwrap();
        assert_eq!(&long[1][..5], &[0x01, 0x01, 0x05, 0x00, 0x01]);
    }

    #[test]
    fn wrong_tag_is_a_protocol_error() {
        let mut p = encode(0x0101, &[0x90, 0x00]).unwrap()[0];
        p[2] = 0x02;
        let err = Decoder::new(0x0101).push(&p).unwrap_err();
        assert_eq!(err.code(), "protocol");
        assert!(err.to_string().contains("tag 0x02"));
    }

    #[test]
    fn wrong_sequence_is_a_protocol_error() {
        let packets = encode(0x0101, &[0x11; 100]).unwrap();
        let mut dec = Decoder::new(0x0101);
        let err = dec.push(&packets[1]).unwrap_err();
        assert_eq!(err.code(), "protocol");
        assert!(err.to_string().contains("sequence 1, expected 0"));
        let mut dec = Decoder::new(0x0101);
        dec.push(&packets[0]).unwrap();
        let err = dec.push(&packets[0]).unwrap_err();
        assert!(err.to_string().contains("sequence 0, expected 1"));
    }

    #[test]
    fn foreign_channel_is_skipped() {
        let other = encode(0x4242, &[0x90, 0x00]).unwrap()[0];
        let mine = encode(0x0101, &[0x90, 0x00]).unwrap()[0];
        let mut dec = Decoder::new(0x0101);
        assert_eq!(dec.push(&other).unwrap(), None);
        assert_eq!(dec.push(&mine).unwrap(), Some(vec![0x90, 0x00]));
    }

    #[test]
    fn empty_and_short_packets_are_errors() {
        let mut dec = Decoder::new(0x0101);
        assert_eq!(dec.push(&[]).unwrap_err().code(), "protocol");
        assert_eq!(
            dec.push(&[0x01, 0x01, 0x05]).unwrap_err().code(),
            "protocol"
        );
        // Header only: no length field.
        assert_eq!(
            dec.push(&[0x01, 0x01, 0x05, 0x00, 0x00])
                .unwrap_err()
                .code(),
            "protocol"
        );
    }

    #[test]
    fn length_larger_than_the_data_is_an_error_not_a_hang() {
        // Claims 300 bytes, then a continuation that carries nothing.
        let mut first = [0u8; 64];
        first[..7].copy_from_slice(&[0x01, 0x01, 0x05, 0x00, 0x00, 0x01, 0x2c]);
        let mut dec = Decoder::new(0x0101);
        assert_eq!(dec.push(&first).unwrap(), None);
        let err = dec.push(&[0x01, 0x01, 0x05, 0x00, 0x01]).unwrap_err();
        assert_eq!(err.code(), "protocol");
        assert!(err.to_string().contains("still expected"));
    }

    #[test]
    fn oversized_message_is_invalid_input() {
        let err = encode(0x0101, &vec![0; 70_000]).unwrap_err();
        assert_eq!(err.code(), "invalid-input");
    }
}

impl Reassemble for Decoder {
    type Message = Vec<u8>;

    fn push(&mut self, report: &[u8]) -> Result<Option<Vec<u8>>> {
        Decoder::push(self, report)
    }
}

/// Ledger's framing on one channel: an APDU out, the raw reply (data and status word)
/// in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerCodec {
    /// The HID channel.
    pub channel: u16,
}

impl Default for LedgerCodec {
    fn default() -> Self {
        LedgerCodec {
            channel: DEFAULT_CHANNEL,
        }
    }
}

impl Codec for LedgerCodec {
    type Message = Vec<u8>;
    type Decoder = Decoder;

    fn frame(&self, message: &Vec<u8>) -> Result<Vec<u8>> {
        Ok(message.clone())
    }

    fn unframe(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }

    fn reports(&self, message: &Vec<u8>) -> Result<Vec<[u8; PACKET_SIZE]>> {
        encode(self.channel, message)
    }

    fn decoder(&self) -> Decoder {
        Decoder::new(self.channel)
    }
}
