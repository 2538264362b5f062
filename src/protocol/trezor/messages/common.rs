//! Messages of `messages-common.proto`: results, failures, and the user-interaction
//! requests any call can be answered with.

/// `Failure.code` values (`Failure_*`).
pub mod failure {
    /// The device did not expect this message.
    pub const UNEXPECTED_MESSAGE: i32 = 1;
    /// A button press was expected.
    pub const BUTTON_EXPECTED: i32 = 2;
    /// Bad data in the request.
    pub const DATA_ERROR: i32 = 3;
    /// The user cancelled.
    pub const ACTION_CANCELLED: i32 = 4;
    /// A PIN was expected.
    pub const PIN_EXPECTED: i32 = 5;
    /// The user cancelled the PIN entry.
    pub const PIN_CANCELLED: i32 = 6;
    /// The PIN was wrong.
    pub const PIN_INVALID: i32 = 7;
    /// A signature did not verify.
    pub const INVALID_SIGNATURE: i32 = 8;
    /// The request could not be processed.
    pub const PROCESS_ERROR: i32 = 9;
    /// Not enough funds.
    pub const NOT_ENOUGH_FUNDS: i32 = 10;
    /// The device has no seed.
    pub const NOT_INITIALIZED: i32 = 11;
    /// The new PINs differ.
    pub const PIN_MISMATCH: i32 = 12;
    /// The wipe codes differ.
    pub const WIPE_CODE_MISMATCH: i32 = 13;
    /// The session is not valid.
    pub const INVALID_SESSION: i32 = 14;
    /// The device is busy.
    pub const BUSY: i32 = 15;
    /// THP: the session is not allocated.
    pub const THP_UNALLOCATED_SESSION: i32 = 16;
    /// The device speaks another protocol (THP, Trezor Safe 7).
    pub const INVALID_PROTOCOL: i32 = 17;
    /// Still in progress.
    pub const IN_PROGRESS: i32 = 19;
    /// Firmware error.
    pub const FIRMWARE_ERROR: i32 = 99;
}

/// Success of the previous request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Success {
    /// A description, or the request's payload (Ping).
    #[prost(string, optional, tag = "1")]
    pub message: Option<String>,
}

/// Failure of the previous request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Failure {
    /// A [`failure`] code.
    #[prost(int32, optional, tag = "1")]
    pub code: Option<i32>,
    /// A human-readable message.
    #[prost(string, optional, tag = "2")]
    pub message: Option<String>,
}

/// The device waits for a button press; answer with [`ButtonAck`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct ButtonRequest {
    /// `ButtonRequestType` (deprecated by the firmware, still sent).
    #[prost(int32, optional, tag = "1")]
    pub code: Option<i32>,
    /// Pages of a paginated screen.
    #[prost(uint32, optional, tag = "2")]
    pub pages: Option<u32>,
    /// The name of the screen.
    #[prost(string, optional, tag = "4")]
    pub name: Option<String>,
}

/// `ButtonRequest.code` values this crate sends or names.
pub mod button {
    /// Other.
    pub const OTHER: i32 = 1;
    /// Fee over threshold.
    pub const FEE_OVER_THRESHOLD: i32 = 2;
    /// Confirm an output.
    pub const CONFIRM_OUTPUT: i32 = 3;
    /// Protect a call (ping with button).
    pub const PROTECT_CALL: i32 = 7;
    /// Sign the transaction.
    pub const SIGN_TX: i32 = 8;
    /// Show an address.
    pub const ADDRESS: i32 = 10;
    /// Show a public key.
    pub const PUBLIC_KEY: i32 = 11;
    /// Unknown derivation path warning.
    pub const UNKNOWN_DERIVATION_PATH: i32 = 15;
    /// The user types the passphrase on the device.
    pub const PASSPHRASE_ENTRY: i32 = 19;
    /// The user enters the PIN on the device.
    pub const PIN_ENTRY: i32 = 20;
}

/// The host waits for the button press.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ButtonAck {}

/// The device asks for the PIN on the host's scrambled matrix (Trezor One).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PinMatrixRequest {
    /// Which PIN (1 current, 2 new, 3 new again, 4/5 wipe code).
    #[prost(int32, optional, tag = "1")]
    pub r#type: Option<i32>,
}

/// The PIN, as matrix positions.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PinMatrixAck {
    /// Positions 1-9 on the device's scrambled matrix.
    #[prost(string, required, tag = "1")]
    pub pin: String,
}

/// The device asks for the passphrase.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PassphraseRequest {}

/// The passphrase, or a request to type it on the device.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PassphraseAck {
    /// The passphrase.
    #[prost(string, optional, tag = "1")]
    pub passphrase: Option<String>,
    /// Enter it on the device instead.
    #[prost(bool, optional, tag = "3")]
    pub on_device: Option<bool>,
}

/// A BIP-32 node (`fingerprint` is the parent's).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HdNodeType {
    /// Depth.
    #[prost(uint32, required, tag = "1")]
    pub depth: u32,
    /// Parent fingerprint.
    #[prost(uint32, required, tag = "2")]
    pub fingerprint: u32,
    /// Child number.
    #[prost(uint32, required, tag = "3")]
    pub child_num: u32,
    /// Chain code (32 bytes).
    #[prost(bytes = "vec", required, tag = "4")]
    pub chain_code: Vec<u8>,
    /// Never sent by this crate.
    #[prost(bytes = "vec", optional, tag = "5")]
    pub private_key: Option<Vec<u8>>,
    /// Compressed public key (33 bytes).
    #[prost(bytes = "vec", required, tag = "6")]
    pub public_key: Vec<u8>,
}
