//! Messages of `messages-management.proto`: sessions, features, ping, cancel.

/// Starts (or resumes, with `session_id`) a session; answered by [`Features`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Initialize {
    /// The session to resume.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub session_id: Option<Vec<u8>>,
}

/// Asks for [`Features`] without touching the session.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetFeatures {}

/// What the device is and what state it is in.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Features {
    /// `trezor.io`.
    #[prost(string, optional, tag = "1")]
    pub vendor: Option<String>,
    /// Firmware (or bootloader) major version.
    #[prost(uint32, optional, tag = "2")]
    pub major_version: Option<u32>,
    /// Minor version.
    #[prost(uint32, optional, tag = "3")]
    pub minor_version: Option<u32>,
    /// Patch version.
    #[prost(uint32, optional, tag = "4")]
    pub patch_version: Option<u32>,
    /// The device runs its bootloader.
    #[prost(bool, optional, tag = "5")]
    pub bootloader_mode: Option<bool>,
    /// Unique id.
    #[prost(string, optional, tag = "6")]
    pub device_id: Option<String>,
    /// A PIN is set.
    #[prost(bool, optional, tag = "7")]
    pub pin_protection: Option<bool>,
    /// Passphrases are on.
    #[prost(bool, optional, tag = "8")]
    pub passphrase_protection: Option<bool>,
    /// Label.
    #[prost(string, optional, tag = "10")]
    pub label: Option<String>,
    /// A seed is loaded.
    #[prost(bool, optional, tag = "12")]
    pub initialized: Option<bool>,
    /// The PIN was entered (formerly `pin_cached`).
    #[prost(bool, optional, tag = "16")]
    pub unlocked: Option<bool>,
    /// `1`, `T`, `Safe 3`, ...
    #[prost(string, optional, tag = "21")]
    pub model: Option<String>,
    /// Capabilities (`Capability_*`).
    #[prost(int32, repeated, packed = "false", tag = "30")]
    pub capabilities: Vec<i32>,
    /// The session id to resume later.
    #[prost(bytes = "vec", optional, tag = "35")]
    pub session_id: Option<Vec<u8>>,
    /// The passphrase is always typed on the device.
    #[prost(bool, optional, tag = "36")]
    pub passphrase_always_on_device: Option<bool>,
    /// `T1B1`, `T2T1`, `T2B1`, `T3T1`, `T3B1`, `T3W1`, ...
    #[prost(string, optional, tag = "44")]
    pub internal_model: Option<String>,
}

/// Asks the device to answer [`Success`](super::Success) with `message`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Ping {
    /// Echoed back.
    #[prost(string, optional, tag = "1")]
    pub message: Option<String>,
    /// Ask for a button press first.
    #[prost(bool, optional, tag = "2")]
    pub button_protection: Option<bool>,
}

/// Aborts the operation waiting for the user.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Cancel {}

/// Ends the session (forgets the cached passphrase).
#[derive(Clone, PartialEq, prost::Message)]
pub struct EndSession {}

/// Locks the device: the PIN must be entered again, the passphrase is forgotten.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LockDevice {}

/// Sets device flags (ORed in); flags 0 only unlocks the PIN.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyFlags {
    /// The flags.
    #[prost(uint32, required, tag = "1")]
    pub flags: u32,
}

/// Changes settings (label, passphrase protection); the device asks to confirm.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplySettings {
    /// New label.
    #[prost(string, optional, tag = "2")]
    pub label: Option<String>,
    /// Turns passphrase protection on or off.
    #[prost(bool, optional, tag = "3")]
    pub use_passphrase: Option<bool>,
}

/// Erases the seed and settings; the device asks to confirm.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WipeDevice {}

/// Creates a new seed on a device without one; answered by [`EntropyRequest`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResetDevice {
    /// Seed strength in bits (128 or 256).
    #[prost(uint32, optional, tag = "2")]
    pub strength: Option<u32>,
    /// Passphrase protection on.
    #[prost(bool, optional, tag = "3")]
    pub passphrase_protection: Option<bool>,
    /// Ask for a new PIN.
    #[prost(bool, optional, tag = "4")]
    pub pin_protection: Option<bool>,
    /// Label.
    #[prost(string, optional, tag = "6")]
    pub label: Option<String>,
}

/// The device asks for host entropy during [`ResetDevice`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntropyRequest {}

/// Host entropy for [`ResetDevice`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntropyAck {
    /// 32 random bytes.
    #[prost(bytes = "vec", required, tag = "1")]
    pub entropy: Vec<u8>,
}

/// Restores a seed from its words; answered by [`WordRequest`]s (Trezor One).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RecoveryDevice {
    /// 12, 18 or 24.
    #[prost(uint32, optional, tag = "1")]
    pub word_count: Option<u32>,
    /// Passphrase protection on.
    #[prost(bool, optional, tag = "2")]
    pub passphrase_protection: Option<bool>,
    /// Ask for a new PIN.
    #[prost(bool, optional, tag = "3")]
    pub pin_protection: Option<bool>,
    /// Label.
    #[prost(string, optional, tag = "5")]
    pub label: Option<String>,
    /// Only accept words of the BIP-39 list.
    #[prost(bool, optional, tag = "6")]
    pub enforce_wordlist: Option<bool>,
}

/// The device asks for one word of the seed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WordRequest {
    /// Plain (0) or matrix entry.
    #[prost(int32, optional, tag = "1")]
    pub r#type: Option<i32>,
}

/// One word of the seed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WordAck {
    /// The word.
    #[prost(string, required, tag = "1")]
    pub word: String,
}
