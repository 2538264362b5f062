//! Messages of `messages-bitcoin.proto` other than transaction signing: keys,
//! addresses, message signatures, multisig descriptions, and the script-type enums.

use super::common::HdNodeType;

/// `InputScriptType` values.
#[allow(non_snake_case)]
pub mod InputScriptType {
    /// P2PKH.
    pub const SPENDADDRESS: i32 = 0;
    /// P2SH multisig.
    pub const SPENDMULTISIG: i32 = 1;
    /// Not ours (coinjoin).
    pub const EXTERNAL: i32 = 2;
    /// Native segwit v0 (P2WPKH, P2WSH multisig).
    pub const SPENDWITNESS: i32 = 3;
    /// Segwit v0 nested in P2SH.
    pub const SPENDP2SHWITNESS: i32 = 4;
    /// Taproot.
    pub const SPENDTAPROOT: i32 = 5;
}

/// `OutputScriptType` values.
#[allow(non_snake_case)]
pub mod OutputScriptType {
    /// Any address.
    pub const PAYTOADDRESS: i32 = 0;
    /// P2SH (deprecated).
    pub const PAYTOSCRIPTHASH: i32 = 1;
    /// Multisig change.
    pub const PAYTOMULTISIG: i32 = 2;
    /// OP_RETURN.
    pub const PAYTOOPRETURN: i32 = 3;
    /// Native segwit change.
    pub const PAYTOWITNESS: i32 = 4;
    /// Nested segwit change.
    pub const PAYTOP2SHWITNESS: i32 = 5;
    /// Taproot change.
    pub const PAYTOTAPROOT: i32 = 6;
}

/// `MultisigPubkeysOrder` values.
#[allow(non_snake_case)]
pub mod MultisigPubkeysOrder {
    /// Keys in the given order.
    pub const PRESERVED: i32 = 0;
    /// Keys sorted (BIP-67, `sortedmulti`).
    pub const LEXICOGRAPHIC: i32 = 1;
}

/// A node and a path below it (the deprecated form of multisig keys).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HdNodePathType {
    /// The node.
    #[prost(message, optional, tag = "1")]
    pub node: Option<HdNodeType>,
    /// The path below it.
    #[prost(uint32, repeated, packed = "false", tag = "2")]
    pub address_n: Vec<u32>,
}

/// A multisig script: `m` of the keys at `address_n` below each of `nodes`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MultisigRedeemScriptType {
    /// Deprecated form: node and path per key.
    #[prost(message, repeated, tag = "1")]
    pub pubkeys: Vec<HdNodePathType>,
    /// Existing signatures, one per key (empty where none).
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub signatures: Vec<Vec<u8>>,
    /// Signatures needed.
    #[prost(uint32, required, tag = "3")]
    pub m: u32,
    /// The account nodes.
    #[prost(message, repeated, tag = "4")]
    pub nodes: Vec<HdNodeType>,
    /// The path below every node.
    #[prost(uint32, repeated, packed = "false", tag = "5")]
    pub address_n: Vec<u32>,
    /// A [`MultisigPubkeysOrder`] value.
    #[prost(int32, optional, tag = "6")]
    pub pubkeys_order: Option<i32>,
}

/// Asks for the public key at a path.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetPublicKey {
    /// The path.
    #[prost(uint32, repeated, packed = "false", tag = "1")]
    pub address_n: Vec<u32>,
    /// `secp256k1` (default).
    #[prost(string, optional, tag = "2")]
    pub ecdsa_curve_name: Option<String>,
    /// Show it on the device.
    #[prost(bool, optional, tag = "3")]
    pub show_display: Option<bool>,
    /// `Bitcoin` (default), `Testnet`, ...
    #[prost(string, optional, tag = "4")]
    pub coin_name: Option<String>,
    /// An [`InputScriptType`] value.
    #[prost(int32, optional, tag = "5")]
    pub script_type: Option<i32>,
    /// Plain xpub/tpub whatever the script type (no SLIP-132 ypub/zpub).
    #[prost(bool, optional, tag = "6")]
    pub ignore_xpub_magic: Option<bool>,
}

/// A public key.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicKey {
    /// The node.
    #[prost(message, optional, tag = "1")]
    pub node: Option<HdNodeType>,
    /// The node, serialized (xpub, tpub, ypub, ...).
    #[prost(string, required, tag = "2")]
    pub xpub: String,
    /// The master key fingerprint (firmware 1.9.4 / 2.3.5 and later).
    #[prost(uint32, optional, tag = "3")]
    pub root_fingerprint: Option<u32>,
    /// A BIP-380 descriptor of the account.
    #[prost(string, optional, tag = "4")]
    pub descriptor: Option<String>,
}

/// Asks for an address.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetAddress {
    /// The path.
    #[prost(uint32, repeated, packed = "false", tag = "1")]
    pub address_n: Vec<u32>,
    /// The coin.
    #[prost(string, optional, tag = "2")]
    pub coin_name: Option<String>,
    /// Show it on the device.
    #[prost(bool, optional, tag = "3")]
    pub show_display: Option<bool>,
    /// For a multisig address.
    #[prost(message, optional, tag = "4")]
    pub multisig: Option<MultisigRedeemScriptType>,
    /// An [`InputScriptType`] value.
    #[prost(int32, optional, tag = "5")]
    pub script_type: Option<i32>,
    /// Plain xpubs on the multisig screens.
    #[prost(bool, optional, tag = "6")]
    pub ignore_xpub_magic: Option<bool>,
    /// Show in chunks of 4 characters.
    #[prost(bool, optional, tag = "7")]
    pub chunkify: Option<bool>,
}

/// An address.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Address {
    /// The address.
    #[prost(string, required, tag = "1")]
    pub address: String,
    /// Authentication code.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub mac: Option<Vec<u8>>,
}

/// Asks for a message signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SignMessage {
    /// The path.
    #[prost(uint32, repeated, packed = "false", tag = "1")]
    pub address_n: Vec<u32>,
    /// The message bytes.
    #[prost(bytes = "vec", required, tag = "2")]
    pub message: Vec<u8>,
    /// The coin.
    #[prost(string, optional, tag = "3")]
    pub coin_name: Option<String>,
    /// An [`InputScriptType`] value.
    #[prost(int32, optional, tag = "4")]
    pub script_type: Option<i32>,
    /// Header byte without the script type (31-34), as Bitcoin Core.
    #[prost(bool, optional, tag = "5")]
    pub no_script_type: Option<bool>,
    /// Show in chunks.
    #[prost(bool, optional, tag = "6")]
    pub chunkify: Option<bool>,
}

/// A message signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MessageSignature {
    /// The signing address.
    #[prost(string, required, tag = "1")]
    pub address: String,
    /// 65 bytes: header, r, s.
    #[prost(bytes = "vec", required, tag = "2")]
    pub signature: Vec<u8>,
}

/// Asks the device to verify a message signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VerifyMessage {
    /// The address.
    #[prost(string, required, tag = "1")]
    pub address: String,
    /// The signature.
    #[prost(bytes = "vec", required, tag = "2")]
    pub signature: Vec<u8>,
    /// The message.
    #[prost(bytes = "vec", required, tag = "3")]
    pub message: Vec<u8>,
    /// The coin.
    #[prost(string, optional, tag = "4")]
    pub coin_name: Option<String>,
}
