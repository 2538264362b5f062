//! The Trezor Host Protocol (THP), which the Trezor Safe 7 speaks instead of codec v1:
//! channels with acknowledgements and retransmission, a Noise XX handshake, pairing by
//! a 6-digit code, credentials to reconnect, and sessions. Sans-IO like the rest of
//! `protocol`: randomness and the time are passed in.
//!
//! | module | owns |
//! |---|---|
//! | [`packet`], [`crc`] | the 64-byte packets, control bytes, CRC-32, reassembly |
//! | [`channel`] | allocation, sequence bits, ACKs, retransmission, transport errors |
//! | [`noise`] | `Noise_XX_25519_AESGCM_SHA256` with the masked device key, both ends |
//! | [`field`], [`cpace`] | Elligator 2 and CPace for code-entry pairing |
//! | [`pairing`] | pairing, credential and session calls as [`crate::protocol::machine::Machine`]s |
//! | [`credentials`] | what a host keeps to reconnect |
//! | [`messages`] | the THP protobuf messages |
//!
//! Above the handshake every application message is `session id u8 | type u16 BE |
//! protobuf`, encrypted; the Trezor calls of [`crate::protocol::trezor`] run unchanged
//! inside it (see `driver::thp`).

pub mod channel;
pub mod cpace;
pub mod crc;
pub mod credentials;
pub mod field;
pub mod messages;
pub mod noise;
pub mod packet;
pub mod pairing;

use crate::error::{Error, Result};

/// An application message inside the channel: `session | type u16 BE | protobuf`.
pub fn app_message(session: u8, msg_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + payload.len());
    out.push(session);
    out.extend_from_slice(&msg_type.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The session, type and protobuf of a decrypted application message.
///
/// # Errors
/// `protocol` for fewer than three bytes.
pub fn parse_app_message(plain: &[u8]) -> Result<(u8, u16, Vec<u8>)> {
    match plain {
        [session, t0, t1, rest @ ..] => {
            Ok((*session, u16::from_be_bytes([*t0, *t1]), rest.to_vec()))
        }
        _ => Err(Error::protocol(
            "a thp application message shorter than its header",
        )),
    }
}
