//! Trezor's codec v1 over 64-byte packets: pure functions, no I/O.
//!
//! The first packet is `'?' '#' '#' | type u16 BE | length u32 BE | 55 payload bytes`,
//! every continuation is `'?' | 63 payload bytes`, and the last one is zero-padded. The
//! same packets travel over USB (WebUSB, HID for old Trezor One) and, one per datagram,
//! over the emulator's UDP socket.
//!
//! For links that carry whole messages ([`crate::transport::Packets::Messages`]), a
//! message is the same header without the magic: `type u16 BE | length u32 BE | payload`
//! ([`encode_message`], [`decode_message`]).

use crate::error::{Error, Result};
use crate::protocol::codec::{Codec, Reassemble};

/// Size of one packet.
pub const PACKET_SIZE: usize = 64;
/// Payload bytes in the first packet.
pub const FIRST_PAYLOAD: usize = PACKET_SIZE - 9;
/// Payload bytes in a continuation packet.
pub const NEXT_PAYLOAD: usize = PACKET_SIZE - 1;
/// The largest message this crate accepts from a device (1 MiB): a length field over
/// it is treated as a broken packet rather than waited for.
pub const MAX_MESSAGE: usize = 1 << 20;

/// Cuts one message (type and protobuf payload) into zero-padded 64-byte packets.
///
/// # Errors
/// `invalid-input` when the payload is over [`MAX_MESSAGE`].
pub fn encode(msg_type: u16, payload: &[u8]) -> Result<Vec<[u8; PACKET_SIZE]>> {
    if payload.len() > MAX_MESSAGE {
        return Err(Error::invalid(
            "message",
            format!("{} bytes is over the {MAX_MESSAGE} allowed", payload.len()),
        ));
    }
    let mut data = Vec::with_capacity(payload.len() + 8);
    data.extend_from_slice(b"##");
    data.extend_from_slice(&msg_type.to_be_bytes());
    // Bounded by MAX_MESSAGE above, so the length fits in u32.
    data.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    data.extend_from_slice(payload);
    let packets = data
        .chunks(NEXT_PAYLOAD)
        .map(|chunk| {
            let mut packet = [0u8; PACKET_SIZE];
            packet[0] = b'?';
            for (slot, byte) in packet.iter_mut().skip(1).zip(chunk) {
                *slot = *byte;
            }
            packet
        })
        .collect();
    Ok(packets)
}

/// One whole message for a message link: `type u16 BE | length u32 BE | payload`.
///
/// # Errors
/// `invalid-input` when the payload is over [`MAX_MESSAGE`].
pub fn encode_message(msg_type: u16, payload: &[u8]) -> Result<Vec<u8>> {
    if payload.len() > MAX_MESSAGE {
        return Err(Error::invalid(
            "message",
            format!("{} bytes is over the {MAX_MESSAGE} allowed", payload.len()),
        ));
    }
    let mut out = Vec::with_capacity(payload.len() + 6);
    out.extend_from_slice(&msg_type.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Splits a whole message from a message link into its type and payload.
///
/// # Errors
/// `protocol` when the header is short or its length differs from the data.
pub fn decode_message(data: &[u8]) -> Result<(u16, Vec<u8>)> {
    let mut r = crate::protocol::bytes::Reader::new(data, "trezor message");
    let msg_type = u16::from_be_bytes(r.array("type")?);
    let len = u32::from_be_bytes(r.array("length")?) as usize;
    let payload = r.rest();
    if payload.len() != len {
        return Err(Error::protocol(format!(
            "trezor message claims {len} bytes but carries {}",
            payload.len()
        )));
    }
    Ok((msg_type, payload.to_vec()))
}

/// Reassembles one message from packets, checking every field.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    header: Option<(u16, usize)>,
    data: Vec<u8>,
}

impl Decoder {
    /// A decoder waiting for the first packet of a message.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Feeds one packet; returns the message (type, payload) when it is complete.
    ///
    /// # Errors
    /// `protocol` for a packet that is not 64 bytes, a missing magic, or a length over
    /// [`MAX_MESSAGE`]. After an error the decoder starts over.
    pub fn push(&mut self, packet: &[u8]) -> Result<Option<(u16, Vec<u8>)>> {
        let result = self.push_inner(packet);
        if result.is_err() {
            *self = Decoder::default();
        }
        result
    }

    fn push_inner(&mut self, packet: &[u8]) -> Result<Option<(u16, Vec<u8>)>> {
        if packet.len() != PACKET_SIZE {
            return Err(Error::protocol(format!(
                "trezor packet of {} bytes where {PACKET_SIZE} were expected",
                packet.len()
            )));
        }
        let (msg_type, len) = match self.header {
            None => {
                let mut r = crate::protocol::bytes::Reader::new(packet, "trezor packet");
                let magic: [u8; 3] = r.array("magic")?;
                if &magic != b"?##" {
                    return Err(Error::protocol(format!(
                        "trezor packet starts with {} where the magic 3f2323 was expected",
                        crate::protocol::bytes::to_hex(&magic)
                    )));
                }
                let msg_type = u16::from_be_bytes(r.array("type")?);
                let len = u32::from_be_bytes(r.array("length")?) as usize;
                if len > MAX_MESSAGE {
                    return Err(Error::protocol(format!(
                        "trezor message of {len} bytes is over the {MAX_MESSAGE} accepted"
                    )));
                }
                self.header = Some((msg_type, len));
                self.data = Vec::with_capacity(len);
                self.data.extend_from_slice(r.rest());
                (msg_type, len)
            }
            Some(header) => {
                let mut r = crate::protocol::bytes::Reader::new(packet, "trezor packet");
                if r.u8("magic")? != b'?' {
                    return Err(Error::protocol(
                        "trezor continuation packet does not start with '?'",
                    ));
                }
                self.data.extend_from_slice(r.rest());
                header
            }
        };
        if self.data.len() < len {
            return Ok(None);
        }
        let mut data = core::mem::take(&mut self.data);
        data.truncate(len);
        self.header = None;
        Ok(Some((msg_type, data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_of_every_size_around_packet_edges() {
        for len in [0usize, 1, 54, 55, 56, 117, 118, 119, 1000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let packets = encode(0x1234, &payload).unwrap();
            let expected = 1 + len.saturating_sub(FIRST_PAYLOAD).div_ceil(NEXT_PAYLOAD);
            assert_eq!(packets.len(), expected, "len {len}");
            let mut d = Decoder::new();
            for (i, p) in packets.iter().enumerate() {
                let out = d.push(p).unwrap();
                if i + 1 < packets.len() {
                    assert!(out.is_none());
                } else {
                    assert_eq!(out, Some((0x1234, payload.clone())));
                }
            }
        }
    }

    #[test]
    fn header_layout() {
        let p = encode(17, &[0xaa, 0xbb]).unwrap();
        assert_eq!(
            &p[0][..11],
            &[b'?', b'#', b'#', 0, 17, 0, 0, 0, 2, 0xaa, 0xbb]
        );
        assert!(p[0][11..].iter().all(|b| *b == 0));
    }

    #[test]
    fn malformed_packets_are_protocol_errors() {
        let mut d = Decoder::new();
        assert_eq!(d.push(&[b'?'; 10]).unwrap_err().code(), "protocol");
        assert_eq!(d.push(&[]).unwrap_err().code(), "protocol");
        let mut bad = encode(3, &[1, 2, 3]).unwrap()[0];
        bad[1] = b'!';
        assert_eq!(d.push(&bad).unwrap_err().code(), "protocol");
        let mut huge = [0u8; 64];
        huge[..9].copy_from_slice(&[b'?', b'#', b'#', 0, 3, 0xff, 0xff, 0xff, 0xff]);
        let e = d.push(&huge).unwrap_err();
        assert!(e.to_string().contains("over the"), "{e}");
        // A continuation without its '?'.
        let packets = encode(3, &[9u8; 100]).unwrap();
        assert!(d.push(&packets[0]).unwrap().is_none());
        let mut cont = packets[1];
        cont[0] = 0;
        assert_eq!(d.push(&cont).unwrap_err().code(), "protocol");
        // After an error the decoder starts over and takes a good message.
        for p in &packets[..1] {
            assert!(d.push(p).unwrap().is_none());
        }
        assert_eq!(d.push(&packets[1]).unwrap().unwrap().1, vec![9u8; 100]);
    }

    #[test]
    fn whole_messages() {
        let m = encode_message(22, &[1, 2]).unwrap();
        assert_eq!(m, vec![0, 22, 0, 0, 0, 2, 1, 2]);
        assert_eq!(decode_message(&m).unwrap(), (22, vec![1, 2]));
        assert_eq!(decode_message(&m[..7]).unwrap_err().code(), "protocol");
        assert_eq!(decode_message(&[0, 1]).unwrap_err().code(), "protocol");
    }
}

impl Reassemble for Decoder {
    type Message = (u16, Vec<u8>);

    fn push(&mut self, report: &[u8]) -> Result<Option<(u16, Vec<u8>)>> {
        Decoder::push(self, report)
    }
}

/// Trezor's codec v1: a message type and protobuf payload each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrezorCodec;

impl Codec for TrezorCodec {
    type Message = (u16, Vec<u8>);
    type Decoder = Decoder;

    fn frame(&self, (msg_type, payload): &(u16, Vec<u8>)) -> Result<Vec<u8>> {
        encode_message(*msg_type, payload)
    }

    fn unframe(&self, bytes: &[u8]) -> Result<(u16, Vec<u8>)> {
        decode_message(bytes)
    }

    fn reports(&self, (msg_type, payload): &(u16, Vec<u8>)) -> Result<Vec<[u8; PACKET_SIZE]>> {
        encode(*msg_type, payload)
    }

    fn decoder(&self) -> Decoder {
        Decoder::new()
    }

    fn cancel(&self) -> Option<(u16, Vec<u8>)> {
        Some(crate::protocol::trezor::messages::encode(
            &crate::protocol::trezor::messages::Cancel {},
        ))
    }
}
