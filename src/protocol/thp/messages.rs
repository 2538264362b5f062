//! THP's protobuf messages (`messages-thp.proto` in trezor-firmware), written by hand
//! like the others: the device properties of the allocation response, the handshake
//! payload, pairing, credentials and sessions.

use crate::protocol::trezor::messages::wire;

/// Message type numbers of the THP messages.
pub mod types {
    /// ThpCreateNewSession.
    pub const CREATE_NEW_SESSION: u16 = 1000;
    /// ThpPairingRequest.
    pub const PAIRING_REQUEST: u16 = 1008;
    /// ThpPairingRequestApproved.
    pub const PAIRING_REQUEST_APPROVED: u16 = 1009;
    /// ThpSelectMethod.
    pub const SELECT_METHOD: u16 = 1010;
    /// ThpPairingPreparationsFinished.
    pub const PAIRING_PREPARATIONS_FINISHED: u16 = 1011;
    /// ThpCredentialRequest.
    pub const CREDENTIAL_REQUEST: u16 = 1016;
    /// ThpCredentialResponse.
    pub const CREDENTIAL_RESPONSE: u16 = 1017;
    /// ThpEndRequest.
    pub const END_REQUEST: u16 = 1018;
    /// ThpEndResponse.
    pub const END_RESPONSE: u16 = 1019;
    /// ThpCodeEntryCommitment.
    pub const CODE_ENTRY_COMMITMENT: u16 = 1024;
    /// ThpCodeEntryChallenge.
    pub const CODE_ENTRY_CHALLENGE: u16 = 1025;
    /// ThpCodeEntryCpaceTrezor.
    pub const CODE_ENTRY_CPACE_TREZOR: u16 = 1026;
    /// ThpCodeEntryCpaceHostTag.
    pub const CODE_ENTRY_CPACE_HOST_TAG: u16 = 1027;
    /// ThpCodeEntrySecret.
    pub const CODE_ENTRY_SECRET: u16 = 1028;
}

/// Pairing method numbers (`ThpPairingMethod`).
pub mod method {
    /// No pairing (no MITM protection).
    pub const SKIP_PAIRING: i32 = 1;
    /// The user types the code the device shows.
    pub const CODE_ENTRY: i32 = 2;
    /// The host scans a QR code.
    pub const QR_CODE: i32 = 3;
    /// NFC.
    pub const NFC: i32 = 4;
}

/// What the device says about itself in the channel allocation response (and the
/// handshake's prologue).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeviceProperties {
    /// Internal model, e.g. `T3W1`.
    #[prost(string, optional, tag = "1")]
    pub internal_model: Option<String>,
    /// Model variant (colour).
    #[prost(uint32, optional, tag = "2")]
    pub model_variant: Option<u32>,
    /// Protocol major version.
    #[prost(uint32, optional, tag = "3")]
    pub protocol_version_major: Option<u32>,
    /// Protocol minor version.
    #[prost(uint32, optional, tag = "4")]
    pub protocol_version_minor: Option<u32>,
    /// The pairing methods the device offers.
    #[prost(int32, repeated, packed = "false", tag = "5")]
    pub pairing_methods: Vec<i32>,
}

/// The payload of the handshake completion request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HandshakeCompletionReqNoisePayload {
    /// A credential from an earlier pairing.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub host_pairing_credential: Option<Vec<u8>>,
}

/// Opens a session (a wallet, with or without a passphrase).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateNewSession {
    /// The passphrase given on the host.
    #[prost(string, optional, tag = "1")]
    pub passphrase: Option<String>,
    /// Whether the user types the passphrase on the device.
    #[prost(bool, optional, tag = "2")]
    pub on_device: Option<bool>,
    /// Whether to derive Cardano keys.
    #[prost(bool, optional, tag = "3")]
    pub derive_cardano: Option<bool>,
}

/// Asks to pair; the device shows the names.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PairingRequest {
    /// The host's name (the browser's, for a web page).
    #[prost(string, optional, tag = "1")]
    pub host_name: Option<String>,
    /// The application's name.
    #[prost(string, optional, tag = "2")]
    pub app_name: Option<String>,
}

/// The user allowed pairing.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PairingRequestApproved {}

/// Chooses a pairing method.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SelectMethod {
    /// A [`method`] number.
    #[prost(int32, optional, tag = "1")]
    pub selected_pairing_method: Option<i32>,
}

/// The method is ready (not code entry's first selection).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PairingPreparationsFinished {}

/// The device's commitment to its code-entry secret.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CodeEntryCommitment {
    /// SHA-256 of the secret.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub commitment: Option<Vec<u8>>,
}

/// The host's random challenge.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CodeEntryChallenge {
    /// Random bytes.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub challenge: Option<Vec<u8>>,
}

/// The device's CPace public key.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CodeEntryCpaceTrezor {
    /// X25519(private, generator).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub cpace_trezor_public_key: Option<Vec<u8>>,
}

/// The host's CPace public key and tag.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CodeEntryCpaceHostTag {
    /// X25519(private, generator).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub cpace_host_public_key: Option<Vec<u8>>,
    /// SHA-256 of the shared secret.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub tag: Option<Vec<u8>>,
}

/// The device's code-entry secret, revealed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CodeEntrySecret {
    /// The secret.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub secret: Option<Vec<u8>>,
}

/// Asks for a pairing credential.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CredentialRequest {
    /// The host static key the credential is for.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub host_static_public_key: Option<Vec<u8>>,
    /// Connect later without a confirmation on the device.
    #[prost(bool, optional, tag = "2")]
    pub autoconnect: Option<bool>,
    /// An earlier credential (needed for autoconnect).
    #[prost(bytes = "vec", optional, tag = "3")]
    pub credential: Option<Vec<u8>>,
}

/// A pairing credential.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CredentialResponse {
    /// The device's static public key.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub trezor_static_public_key: Option<Vec<u8>>,
    /// The opaque credential.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub credential: Option<Vec<u8>>,
}

/// Ends pairing / the credential phase.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EndRequest {}

/// Encrypted transport from now on.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EndResponse {}

/// A credential's metadata (the device's own format; the simulator issues these).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CredentialMetadata {
    /// Host name.
    #[prost(string, optional, tag = "1")]
    pub host_name: Option<String>,
    /// Autoconnect.
    #[prost(bool, optional, tag = "2")]
    pub autoconnect: Option<bool>,
    /// Application name.
    #[prost(string, optional, tag = "3")]
    pub app_name: Option<String>,
}

/// A credential as the device issues it: metadata and a MAC.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PairingCredential {
    /// The metadata.
    #[prost(message, optional, tag = "1")]
    pub cred_metadata: Option<CredentialMetadata>,
    /// HMAC-SHA-256 of the authenticated data.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub mac: Option<Vec<u8>>,
}

/// What a credential's MAC covers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthenticatedCredentialData {
    /// The host's static key.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub host_static_public_key: Option<Vec<u8>>,
    /// The metadata.
    #[prost(message, optional, tag = "2")]
    pub cred_metadata: Option<CredentialMetadata>,
}

wire! {
    CreateNewSession = types::CREATE_NEW_SESSION,
    PairingRequest = types::PAIRING_REQUEST,
    PairingRequestApproved = types::PAIRING_REQUEST_APPROVED,
    SelectMethod = types::SELECT_METHOD,
    PairingPreparationsFinished = types::PAIRING_PREPARATIONS_FINISHED,
    CredentialRequest = types::CREDENTIAL_REQUEST,
    CredentialResponse = types::CREDENTIAL_RESPONSE,
    EndRequest = types::END_REQUEST,
    EndResponse = types::END_RESPONSE,
    CodeEntryCommitment = types::CODE_ENTRY_COMMITMENT,
    CodeEntryChallenge = types::CODE_ENTRY_CHALLENGE,
    CodeEntryCpaceTrezor = types::CODE_ENTRY_CPACE_TREZOR,
    CodeEntryCpaceHostTag = types::CODE_ENTRY_CPACE_HOST_TAG,
    CodeEntrySecret = types::CODE_ENTRY_SECRET,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn field_numbers_match_trezorlib() {
        // trezorlib encodes the same fields to these bytes (with `model_variant` 0
        // written out as 10 00 too; prologues are used as received, so both work).
        let p = DeviceProperties {
            internal_model: Some("T3W1".into()),
            model_variant: None,
            protocol_version_major: Some(2),
            protocol_version_minor: Some(0),
            pairing_methods: vec![method::CODE_ENTRY],
        };
        assert_eq!(
            p.encode_to_vec(),
            b"\x0a\x04T3W1\x18\x02\x20\x00\x28\x02".to_vec()
        );
        let tag = CodeEntryCpaceHostTag {
            cpace_host_public_key: Some(vec![1]),
            tag: Some(vec![2]),
        };
        assert_eq!(tag.encode_to_vec(), vec![0x0a, 1, 1, 0x12, 1, 2]);
    }
}
