//! Trezor protobuf messages, written by hand with `prost` derives (no protoc, no build
//! script). Field numbers and enum values are those of trezor-firmware's
//! `common/protob/messages-{common,management,bitcoin}.proto`; only the fields this
//! crate reads or writes are declared (prost skips unknown fields when decoding).
//!
//! Every message knows its wire type ([`Wire::TYPE`]); the `TxAck*` variants all travel
//! as [`TX_ACK`] (22), and differ only in which nested field they fill.

pub mod bitcoin;
pub mod common;
pub mod management;
pub mod tx;

pub use self::bitcoin::*;
pub use self::common::*;
pub use self::management::*;
pub use self::tx::*;

use crate::error::{Error, Result};

/// Message type numbers (`MessageType_*` in messages.proto).
pub mod types {
    /// Initialize.
    pub const INITIALIZE: u16 = 0;
    /// Ping.
    pub const PING: u16 = 1;
    /// Success.
    pub const SUCCESS: u16 = 2;
    /// Failure.
    pub const FAILURE: u16 = 3;
    /// GetPublicKey.
    pub const GET_PUBLIC_KEY: u16 = 11;
    /// PublicKey.
    pub const PUBLIC_KEY: u16 = 12;
    /// SignTx.
    pub const SIGN_TX: u16 = 15;
    /// Features.
    pub const FEATURES: u16 = 17;
    /// PinMatrixRequest.
    pub const PIN_MATRIX_REQUEST: u16 = 18;
    /// PinMatrixAck.
    pub const PIN_MATRIX_ACK: u16 = 19;
    /// Cancel.
    pub const CANCEL: u16 = 20;
    /// TxRequest.
    pub const TX_REQUEST: u16 = 21;
    /// TxAck and all its `TxAck*` wire aliases.
    pub const TX_ACK: u16 = 22;
    /// ButtonRequest.
    pub const BUTTON_REQUEST: u16 = 26;
    /// ButtonAck.
    pub const BUTTON_ACK: u16 = 27;
    /// GetAddress.
    pub const GET_ADDRESS: u16 = 29;
    /// Address.
    pub const ADDRESS: u16 = 30;
    /// SignMessage.
    pub const SIGN_MESSAGE: u16 = 38;
    /// VerifyMessage.
    pub const VERIFY_MESSAGE: u16 = 39;
    /// MessageSignature.
    pub const MESSAGE_SIGNATURE: u16 = 40;
    /// PassphraseRequest.
    pub const PASSPHRASE_REQUEST: u16 = 41;
    /// PassphraseAck.
    pub const PASSPHRASE_ACK: u16 = 42;
    /// GetFeatures.
    pub const GET_FEATURES: u16 = 55;
    /// EndSession.
    pub const END_SESSION: u16 = 83;
    /// LockDevice: lock the device (forget the PIN and the passphrase).
    pub const LOCK_DEVICE: u16 = 24;
    /// ApplyFlags: set device flags (trezorlib sends flags 0 to unlock the PIN).
    pub const APPLY_FLAGS: u16 = 28;
    /// ApplySettings.
    pub const APPLY_SETTINGS: u16 = 25;
    /// WipeDevice.
    pub const WIPE_DEVICE: u16 = 5;
    /// ResetDevice.
    pub const RESET_DEVICE: u16 = 14;
    /// EntropyRequest.
    pub const ENTROPY_REQUEST: u16 = 35;
    /// EntropyAck.
    pub const ENTROPY_ACK: u16 = 36;
    /// RecoveryDevice.
    pub const RECOVERY_DEVICE: u16 = 45;
    /// WordRequest.
    pub const WORD_REQUEST: u16 = 46;
    /// WordAck.
    pub const WORD_ACK: u16 = 47;
}

pub use types::TX_ACK;

/// A message with its wire type.
pub trait Wire: prost::Message + Default {
    /// The message type number on the wire.
    const TYPE: u16;
    /// The name, for errors.
    const NAME: &'static str;
}

/// `wire! { Message = number, ... }`: each message's [`Wire`] impl (also THP's messages).
macro_rules! wire {
    ($($ty:ident = $num:expr),* $(,)?) => {
        $(impl $crate::protocol::trezor::messages::Wire for $ty {
            const TYPE: u16 = $num;
            const NAME: &'static str = stringify!($ty);
        })*
    };
}
pub(crate) use wire;

wire! {
    Initialize = types::INITIALIZE,
    Ping = types::PING,
    Success = types::SUCCESS,
    Failure = types::FAILURE,
    GetPublicKey = types::GET_PUBLIC_KEY,
    PublicKey = types::PUBLIC_KEY,
    SignTx = types::SIGN_TX,
    Features = types::FEATURES,
    PinMatrixRequest = types::PIN_MATRIX_REQUEST,
    PinMatrixAck = types::PIN_MATRIX_ACK,
    Cancel = types::CANCEL,
    TxRequest = types::TX_REQUEST,
    TxAckInput = types::TX_ACK,
    TxAckOutput = types::TX_ACK,
    TxAckPrevMeta = types::TX_ACK,
    TxAckPrevInput = types::TX_ACK,
    TxAckPrevOutput = types::TX_ACK,
    TxAckPrevExtraData = types::TX_ACK,
    ButtonRequest = types::BUTTON_REQUEST,
    ButtonAck = types::BUTTON_ACK,
    GetAddress = types::GET_ADDRESS,
    Address = types::ADDRESS,
    SignMessage = types::SIGN_MESSAGE,
    VerifyMessage = types::VERIFY_MESSAGE,
    MessageSignature = types::MESSAGE_SIGNATURE,
    PassphraseRequest = types::PASSPHRASE_REQUEST,
    PassphraseAck = types::PASSPHRASE_ACK,
    GetFeatures = types::GET_FEATURES,
    EndSession = types::END_SESSION,
    LockDevice = types::LOCK_DEVICE,
    ApplyFlags = types::APPLY_FLAGS,
    ApplySettings = types::APPLY_SETTINGS,
    WipeDevice = types::WIPE_DEVICE,
    ResetDevice = types::RESET_DEVICE,
    EntropyRequest = types::ENTROPY_REQUEST,
    EntropyAck = types::ENTROPY_ACK,
    RecoveryDevice = types::RECOVERY_DEVICE,
    WordRequest = types::WORD_REQUEST,
    WordAck = types::WORD_ACK,
}

/// A message ready for the wire: its type and protobuf bytes.
pub fn encode<M: Wire>(msg: &M) -> (u16, Vec<u8>) {
    (M::TYPE, msg.encode_to_vec())
}

/// Decodes `payload` as `M`.
///
/// # Errors
/// `protocol` naming the message when the bytes are not valid protobuf for it.
pub fn decode<M: Wire>(payload: &[u8]) -> Result<M> {
    M::decode(payload).map_err(|e| {
        Error::protocol(
            format!("undecodable {} from the trezor: {e}", M::NAME).to_ascii_lowercase(),
        )
    })
}

/// The name of a message type, for errors.
pub fn type_name(msg_type: u16) -> String {
    use types::*;
    let name = match msg_type {
        INITIALIZE => "initialize",
        PING => "ping",
        SUCCESS => "success",
        FAILURE => "failure",
        GET_PUBLIC_KEY => "getpublickey",
        PUBLIC_KEY => "publickey",
        SIGN_TX => "signtx",
        FEATURES => "features",
        PIN_MATRIX_REQUEST => "pinmatrixrequest",
        PIN_MATRIX_ACK => "pinmatrixack",
        CANCEL => "cancel",
        TX_REQUEST => "txrequest",
        TX_ACK => "txack",
        BUTTON_REQUEST => "buttonrequest",
        BUTTON_ACK => "buttonack",
        GET_ADDRESS => "getaddress",
        ADDRESS => "address",
        SIGN_MESSAGE => "signmessage",
        VERIFY_MESSAGE => "verifymessage",
        MESSAGE_SIGNATURE => "messagesignature",
        PASSPHRASE_REQUEST => "passphraserequest",
        PASSPHRASE_ACK => "passphraseack",
        GET_FEATURES => "getfeatures",
        END_SESSION => "endsession",
        LOCK_DEVICE => "lockdevice",
        APPLY_FLAGS => "applyflags",
        _ => return format!("message type {msg_type}"),
    };
    format!("{name} ({msg_type})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn field_numbers_match_the_firmware() {
        // GetPublicKey{address_n=[0x8000002c, 0], show_display=true, script_type=3}:
        // address_n is proto2 `repeated uint32`, not packed: one tag per element.
        let m = GetPublicKey {
            address_n: vec![0x8000_002c, 0],
            show_display: Some(true),
            script_type: Some(InputScriptType::SPENDWITNESS),
            ..Default::default()
        };
        assert_eq!(
            m.encode_to_vec(),
            vec![0x08, 0xac, 0x80, 0x80, 0x80, 0x08, 0x08, 0x00, 0x18, 0x01, 0x28, 0x03]
        );
        // TxAckOutput nests the output at field 5 of field 1, TxAckPrevOutput at 3 of 1.
        let out = TxAckOutput {
            tx: Some(TxAckOutputWrapper {
                output: Some(TxOutput {
                    amount: 1,
                    ..Default::default()
                }),
            }),
        };
        assert_eq!(
            out.encode_to_vec(),
            vec![0x0a, 0x04, 0x2a, 0x02, 0x18, 0x01]
        );
        let prev = TxAckPrevOutput {
            tx: Some(TxAckPrevOutputWrapper {
                output: Some(PrevOutput {
                    amount: 2,
                    script_pubkey: vec![0x51],
                    decred_script_version: None,
                }),
            }),
        };
        assert_eq!(
            prev.encode_to_vec(),
            vec![0x0a, 0x07, 0x1a, 0x05, 0x08, 0x02, 0x12, 0x01, 0x51]
        );
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let e = decode::<Features>(&[0x0a, 0xff, 0x01]).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("features"), "{e}");
        // Invalid UTF-8 in a string field.
        assert!(decode::<Address>(&[0x0a, 0x01, 0xff]).is_err());
    }
}
