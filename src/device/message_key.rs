//! Checks that a Ledger's message signature is by the key at the signing path: the
//! Bitcoin app answers a bare BIP-137 signature, which recovers *some* key for any
//! digest, so a signature over another message would otherwise pass.

use bitcoin::bip32::DerivationPath;
use bitcoin::secp256k1::{PublicKey, Secp256k1};
use bitcoin::sign_message::MessageSignature;

use crate::error::{Error, Result};
use crate::protocol::ledger::btc::client::message_hash;

/// Checks that the base64 `signature` over `message` recovers `key` (the key at `path`).
///
/// # Errors
/// `protocol` when the signature does not decode or is by another key.
pub fn check(
    signature: &str,
    message: &[u8],
    key: &PublicKey,
    path: &DerivationPath,
) -> Result<()> {
    let sig = MessageSignature::from_base64(signature)
        .map_err(|e| Error::protocol(format!("message signature does not decode: {e}")))?;
    let recovered = sig
        .recover_pubkey(&Secp256k1::verification_only(), message_hash(message))
        .map_err(|_| Error::protocol("message signature recovers no key"))?;
    if recovered.inner != *key {
        return Err(Error::protocol(format!(
            "the message signature does not verify with the device's key at m/{path}"
        )));
    }
    Ok(())
}
