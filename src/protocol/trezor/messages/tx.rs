//! Transaction signing messages: SignTx, TxRequest, and the `TxAck*` answers (all of
//! wire type 22; each fills one nested field of the legacy `TxAck.tx`).

use super::bitcoin::MultisigRedeemScriptType;

/// Starts signing.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SignTx {
    /// Outputs.
    #[prost(uint32, required, tag = "1")]
    pub outputs_count: u32,
    /// Inputs.
    #[prost(uint32, required, tag = "2")]
    pub inputs_count: u32,
    /// The coin.
    #[prost(string, optional, tag = "3")]
    pub coin_name: Option<String>,
    /// Transaction version.
    #[prost(uint32, optional, tag = "4")]
    pub version: Option<u32>,
    /// Lock time.
    #[prost(uint32, optional, tag = "5")]
    pub lock_time: Option<u32>,
    /// Serialize the transaction (default true).
    #[prost(bool, optional, tag = "13")]
    pub serialize: Option<bool>,
    /// Show addresses in chunks.
    #[prost(bool, optional, tag = "15")]
    pub chunkify: Option<bool>,
}

/// `TxRequest.request_type` values.
pub mod request_type {
    /// An input (of the new or, with `tx_hash`, a previous transaction).
    pub const TXINPUT: i32 = 0;
    /// An output.
    pub const TXOUTPUT: i32 = 1;
    /// A previous transaction's header.
    pub const TXMETA: i32 = 2;
    /// Done.
    pub const TXFINISHED: i32 = 3;
    /// A slice of a previous transaction's extra data.
    pub const TXEXTRADATA: i32 = 4;
    /// An input of the original transaction (RBF).
    pub const TXORIGINPUT: i32 = 5;
    /// An output of the original transaction (RBF).
    pub const TXORIGOUTPUT: i32 = 6;
    /// A payment request.
    pub const TXPAYMENTREQ: i32 = 7;
}

/// What the device asks next.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxRequestDetailsType {
    /// Index of the input or output asked for.
    #[prost(uint32, optional, tag = "1")]
    pub request_index: Option<u32>,
    /// Set when the question is about a previous transaction (display byte order).
    #[prost(bytes = "vec", optional, tag = "2")]
    pub tx_hash: Option<Vec<u8>>,
    /// Extra data length asked for.
    #[prost(uint32, optional, tag = "3")]
    pub extra_data_len: Option<u32>,
    /// Extra data offset asked for.
    #[prost(uint32, optional, tag = "4")]
    pub extra_data_offset: Option<u32>,
}

/// Data the device hands back with a request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxRequestSerializedType {
    /// The input `signature` signs.
    #[prost(uint32, optional, tag = "1")]
    pub signature_index: Option<u32>,
    /// A DER (ECDSA, no sighash byte) or 64-byte (Schnorr) signature.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signature: Option<Vec<u8>>,
    /// The next chunk of the signed transaction.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub serialized_tx: Option<Vec<u8>>,
}

/// The device's request during signing.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxRequest {
    /// A [`request_type`] value.
    #[prost(int32, optional, tag = "1")]
    pub request_type: Option<i32>,
    /// What exactly.
    #[prost(message, optional, tag = "2")]
    pub details: Option<TxRequestDetailsType>,
    /// Serialized data and signatures.
    #[prost(message, optional, tag = "3")]
    pub serialized: Option<TxRequestSerializedType>,
}

/// An input of the transaction being signed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxInput {
    /// Signing path.
    #[prost(uint32, repeated, packed = "false", tag = "1")]
    pub address_n: Vec<u32>,
    /// Previous txid (display order).
    #[prost(bytes = "vec", required, tag = "2")]
    pub prev_hash: Vec<u8>,
    /// Previous output index.
    #[prost(uint32, required, tag = "3")]
    pub prev_index: u32,
    /// The scriptSig of a signed external input or of an input of a replaced
    /// transaction.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub script_sig: Option<Vec<u8>>,
    /// Sequence.
    #[prost(uint32, optional, tag = "5")]
    pub sequence: Option<u32>,
    /// An `InputScriptType` value.
    #[prost(int32, optional, tag = "6")]
    pub script_type: Option<i32>,
    /// Multisig description.
    #[prost(message, optional, tag = "7")]
    pub multisig: Option<MultisigRedeemScriptType>,
    /// The amount spent.
    #[prost(uint64, required, tag = "8")]
    pub amount: u64,
    /// The serialized witness (item count, then items) of a signed external input or
    /// of an input of a replaced transaction.
    #[prost(bytes = "vec", optional, tag = "13")]
    pub witness: Option<Vec<u8>>,
    /// A SLIP-19 proof of ownership of an external input.
    #[prost(bytes = "vec", optional, tag = "14")]
    pub ownership_proof: Option<Vec<u8>>,
    /// The data the ownership proof commits to.
    #[prost(bytes = "vec", optional, tag = "15")]
    pub commitment_data: Option<Vec<u8>>,
    /// The replaced transaction (RBF) that spends this input too (display order).
    #[prost(bytes = "vec", optional, tag = "16")]
    pub orig_hash: Option<Vec<u8>>,
    /// This input's index in the replaced transaction.
    #[prost(uint32, optional, tag = "17")]
    pub orig_index: Option<u32>,
    /// Only for external inputs.
    #[prost(bytes = "vec", optional, tag = "19")]
    pub script_pubkey: Option<Vec<u8>>,
}

/// An output of the transaction being signed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxOutput {
    /// Destination address.
    #[prost(string, optional, tag = "1")]
    pub address: Option<String>,
    /// Change path.
    #[prost(uint32, repeated, packed = "false", tag = "2")]
    pub address_n: Vec<u32>,
    /// Amount.
    #[prost(uint64, required, tag = "3")]
    pub amount: u64,
    /// An `OutputScriptType` value.
    #[prost(int32, optional, tag = "4")]
    pub script_type: Option<i32>,
    /// Multisig change.
    #[prost(message, optional, tag = "5")]
    pub multisig: Option<MultisigRedeemScriptType>,
    /// OP_RETURN data.
    #[prost(bytes = "vec", optional, tag = "6")]
    pub op_return_data: Option<Vec<u8>>,
    /// The replaced transaction (RBF) that has this output too (display order).
    #[prost(bytes = "vec", optional, tag = "10")]
    pub orig_hash: Option<Vec<u8>>,
    /// This output's index in the replaced transaction.
    #[prost(uint32, optional, tag = "11")]
    pub orig_index: Option<u32>,
}

/// A previous transaction's header.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrevTx {
    /// Version.
    #[prost(uint32, required, tag = "1")]
    pub version: u32,
    /// Lock time.
    #[prost(uint32, required, tag = "4")]
    pub lock_time: u32,
    /// Inputs.
    #[prost(uint32, required, tag = "6")]
    pub inputs_count: u32,
    /// Outputs.
    #[prost(uint32, required, tag = "7")]
    pub outputs_count: u32,
    /// Extra data (Dash, Zcash); 0 for Bitcoin.
    #[prost(uint32, optional, tag = "9")]
    pub extra_data_len: Option<u32>,
}

/// An input of a previous transaction.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrevInput {
    /// Its previous txid (display order).
    #[prost(bytes = "vec", required, tag = "2")]
    pub prev_hash: Vec<u8>,
    /// Its previous output index.
    #[prost(uint32, required, tag = "3")]
    pub prev_index: u32,
    /// Its scriptSig.
    #[prost(bytes = "vec", required, tag = "4")]
    pub script_sig: Vec<u8>,
    /// Its sequence.
    #[prost(uint32, required, tag = "5")]
    pub sequence: u32,
}

/// An output of a previous transaction.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrevOutput {
    /// Amount.
    #[prost(uint64, required, tag = "1")]
    pub amount: u64,
    /// scriptPubKey.
    #[prost(bytes = "vec", required, tag = "2")]
    pub script_pubkey: Vec<u8>,
    /// Decred only.
    #[prost(uint32, optional, tag = "3")]
    pub decred_script_version: Option<u32>,
}

/// `TxAck.tx` holding an input (field 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckInputWrapper {
    /// The input.
    #[prost(message, optional, tag = "2")]
    pub input: Option<TxInput>,
}

/// Answers TXINPUT.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckInput {
    /// Wrapper.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<TxAckInputWrapper>,
}

/// `TxAck.tx` holding an output (field 5).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckOutputWrapper {
    /// The output.
    #[prost(message, optional, tag = "5")]
    pub output: Option<TxOutput>,
}

/// Answers TXOUTPUT.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckOutput {
    /// Wrapper.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<TxAckOutputWrapper>,
}

/// Answers TXMETA.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevMeta {
    /// The header.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<PrevTx>,
}

/// `TxAck.tx` holding a previous input (field 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevInputWrapper {
    /// The input.
    #[prost(message, optional, tag = "2")]
    pub input: Option<PrevInput>,
}

/// Answers TXINPUT about a previous transaction.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevInput {
    /// Wrapper.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<TxAckPrevInputWrapper>,
}

/// `TxAck.tx` holding a previous output (field 3, `bin_outputs`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevOutputWrapper {
    /// The output.
    #[prost(message, optional, tag = "3")]
    pub output: Option<PrevOutput>,
}

/// Answers TXOUTPUT about a previous transaction.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevOutput {
    /// Wrapper.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<TxAckPrevOutputWrapper>,
}

/// `TxAck.tx` holding an extra-data chunk (field 8).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevExtraDataWrapper {
    /// The chunk.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub extra_data_chunk: Option<Vec<u8>>,
}

/// Answers TXEXTRADATA.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxAckPrevExtraData {
    /// Wrapper.
    #[prost(message, optional, tag = "1")]
    pub tx: Option<TxAckPrevExtraDataWrapper>,
}
