//! Message signing (BIP-137 headers, as the firmware signs them).

use bitcoin::base64::Engine;
use bitcoin::bip32::DerivationPath;
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::{CompressedPublicKey, PublicKey};

use crate::error::{Error, Result};
use crate::protocol::message::MessageScript;
use crate::protocol::trezor::btc::keys::{address_n, Coin};
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{
    InputScriptType, MessageSignature, SignMessage, Success, VerifyMessage,
};

/// A message signature from the device, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// The address of the signing key.
    pub address: String,
    /// 65 bytes: header, r, s.
    pub signature: Vec<u8>,
}

impl SignedMessage {
    /// The signature in base64, as wallets show it.
    pub fn base64(&self) -> String {
        bitcoin::base64::engine::general_purpose::STANDARD.encode(&self.signature)
    }
}

/// The address a message key has for a BIP-137 header byte (31-34 p2pkh, 35-38
/// p2sh-p2wpkh, 39-42 p2wpkh).
fn address_for_header(header: u8, key: &PublicKey, coin: Coin) -> Result<String> {
    let network = coin.network();
    let compressed = CompressedPublicKey(key.inner);
    Ok(match header {
        31..=34 => bitcoin::Address::p2pkh(compressed, network).to_string(),
        35..=38 => bitcoin::Address::p2shwpkh(&compressed, network).to_string(),
        39..=42 => bitcoin::Address::p2wpkh(&compressed, network).to_string(),
        h => {
            return Err(Error::protocol(format!(
                "message signature header {h} is not one of 31 to 42"
            )))
        }
    })
}

/// The digest a message signature signs: double SHA-256 of
/// `varint | "Bitcoin Signed Message:\n" | varint(len) | message`.
pub fn message_digest(message: &[u8]) -> [u8; 32] {
    const MAGIC: &[u8] = b"Bitcoin Signed Message:\n";
    let mut data = Vec::with_capacity(message.len() + 30);
    crate::protocol::bytes::write_varint(&mut data, MAGIC.len() as u64);
    data.extend_from_slice(MAGIC);
    crate::protocol::bytes::write_varint(&mut data, message.len() as u64);
    data.extend_from_slice(message);
    sha256d::Hash::hash(&data).to_byte_array()
}

/// Recovers the key of a 65-byte BIP-137 signature over `message`.
///
/// # Errors
/// `protocol` when the signature is malformed or recovers no key.
pub fn recover(signature: &[u8], message: &[u8]) -> Result<(u8, PublicKey)> {
    let (header, rs) = crate::protocol::message::split_signature(signature)?;
    let recid = RecoveryId::from_i32(i32::from(header.wrapping_sub(27) & 3))
        .map_err(|e| Error::protocol(e.to_string().to_ascii_lowercase()))?;
    let sig = RecoverableSignature::from_compact(rs, recid)
        .map_err(|e| Error::protocol(format!("bad message signature: {e}").to_ascii_lowercase()))?;
    let msg = Message::from_digest(message_digest(message));
    let key = Secp256k1::verification_only()
        .recover_ecdsa(&msg, &sig)
        .map_err(|_| Error::protocol("the message signature recovers no key"))?;
    Ok((header, PublicKey::new(key)))
}

/// SignMessage with the key at `path`; the signature is checked to recover the key of
/// the returned address.
pub fn sign_message(
    path: &DerivationPath,
    coin: Coin,
    script_type: i32,
    message: &[u8],
) -> Call<SignedMessage> {
    let request = SignMessage {
        address_n: address_n(path),
        message: message.to_vec(),
        coin_name: Some(coin.name().into()),
        script_type: Some(script_type),
        no_script_type: None,
        chunkify: None,
    };
    let message = message.to_vec();
    Call::simple(&request, move |reply: MessageSignature| {
        let (header, key) = recover(&reply.signature, &message)?;
        let mut address = address_for_header(header, &key, coin)?;
        if address != reply.address && script_type == InputScriptType::SPENDADDRESS {
            address = address_for_header(31, &key, coin)?;
        }
        if address != reply.address {
            return Err(Error::protocol(format!(
                "the message signature is by {address}, not by {} as the trezor says",
                reply.address
            )));
        }
        Ok(SignedMessage {
            address: reply.address,
            signature: reply.signature,
        })
    })
}

/// VerifyMessage: the device checks `signature` (65 bytes) over `message` for
/// `address` and shows the message (the user confirms).
pub fn verify_message(address: &str, signature: &[u8], message: &[u8], coin: Coin) -> Call<()> {
    let request = VerifyMessage {
        address: address.to_string(),
        signature: signature.to_vec(),
        message: message.to_vec(),
        coin_name: Some(coin.name().into()),
    };
    Call::simple(&request, |_: Success| Ok(()))
}

/// The input script type a Trezor signs a message at `path` with: the BIP-137 type of
/// the path's purpose (see [`crate::protocol::message`]), so that both vendors give
/// the same header (86' signs as p2pkh: firmware refuses taproot message signing).
pub fn script_type_for(path: &DerivationPath) -> i32 {
    match MessageScript::for_path(path) {
        MessageScript::P2pkh => InputScriptType::SPENDADDRESS,
        MessageScript::P2shP2wpkh => InputScriptType::SPENDP2SHWITNESS,
        MessageScript::P2wpkh => InputScriptType::SPENDWITNESS,
    }
}

/// Checks a BIP-137 signature on the host: it must recover a key whose address (of the
/// header's script type) is `address`.
///
/// # Errors
/// `invalid-input` naming the signature when it is malformed or by another address.
pub fn check_signature(address: &str, signature: &[u8], message: &[u8], coin: Coin) -> Result<()> {
    let (header, key) =
        recover(signature, message).map_err(|e| Error::invalid("signature", e.to_string()))?;
    let by = address_for_header(header, &key, coin)
        .map_err(|e| Error::invalid("signature", e.to_string()))?;
    if by != address {
        return Err(Error::invalid(
            "signature",
            format!("it is by {by}, not by {address}"),
        ));
    }
    Ok(())
}
