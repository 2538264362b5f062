//! The BIP-137 header of a message signature, by one rule for every vendor.
//!
//! A BIP-137 signature's first byte says which address the key is shown as: 31-34 a
//! p2pkh address, 35-38 p2sh-p2wpkh, 39-42 p2wpkh (each 4 values for the recovery
//! id; 27-30 are uncompressed p2pkh). Verifiers such as bitcoinjs-message derive the
//! address from it, so a p2pkh header checked against a `bc1q` address fails. The
//! Ledger app always answers 31-34 and a Trezor answers by the script type it is
//! given; the host sets the header from the path's purpose instead: 49' p2sh-p2wpkh,
//! 84' p2wpkh, every other path (44', 48', 86', anything) p2pkh. BIP-137 has no
//! taproot type, and Trezor firmware refuses one, so 86' keys sign as p2pkh.

use bitcoin::bip32::{ChildNumber, DerivationPath};

use crate::error::{Error, Result};

/// The address type a message key is shown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageScript {
    /// Pay to public key hash (header 31-34).
    P2pkh,
    /// Segwit v0 nested in p2sh (header 35-38).
    P2shP2wpkh,
    /// Native segwit v0 (header 39-42).
    P2wpkh,
}

impl MessageScript {
    /// The type for a key at `path`, by its purpose.
    pub fn for_path(path: &DerivationPath) -> Self {
        match path.into_iter().next() {
            Some(ChildNumber::Hardened { index: 49 }) => MessageScript::P2shP2wpkh,
            Some(ChildNumber::Hardened { index: 84 }) => MessageScript::P2wpkh,
            _ => MessageScript::P2pkh,
        }
    }

    /// The header with recovery id 0.
    pub fn header_base(self) -> u8 {
        match self {
            MessageScript::P2pkh => 31,
            MessageScript::P2shP2wpkh => 35,
            MessageScript::P2wpkh => 39,
        }
    }
}

/// A 65-byte BIP-137 signature as its header byte and its 64 bytes of r and s.
///
/// # Errors
/// `protocol` when it is not 65 bytes.
pub fn split_signature(signature: &[u8]) -> Result<(u8, &[u8])> {
    signature
        .split_first()
        .filter(|(_, rs)| rs.len() == 64)
        .map(|(&header, rs)| (header, rs))
        .ok_or_else(|| {
            Error::protocol(format!(
                "message signature of {} bytes where 65 were expected",
                signature.len()
            ))
        })
}

/// `signature` (65 bytes, a compressed-key header 31-42) with the header of `script`,
/// the recovery id kept.
///
/// # Errors
/// `protocol` when it is not 65 bytes or its header is not a compressed-key one.
pub fn with_header(signature: &[u8], script: MessageScript) -> Result<Vec<u8>> {
    let (header, rs) = split_signature(signature)?;
    if !(31..=42).contains(&header) {
        return Err(Error::protocol(format!(
            "message signature header {header} is not one of 31 to 42 (a compressed key)"
        )));
    }
    let recid = (header - 27) & 3;
    let mut out = Vec::with_capacity(65);
    out.push(script.header_base() + recid);
    out.extend_from_slice(rs);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_follows_the_path_and_keeps_the_recovery_id() {
        let p = |s: &str| s.parse::<DerivationPath>().unwrap();
        let mut sig = vec![33u8];
        sig.extend_from_slice(&[5; 64]);
        for (path, header) in [
            ("m/44'/0'/0'/0/0", 33),
            ("m/49'/0'/0'/0/0", 37),
            ("m/84'/1'/0'/0/0", 41),
            ("m/86'/0'/0'/0/0", 33),
            ("m/0/1", 33),
        ] {
            let out = with_header(&sig, MessageScript::for_path(&p(path))).unwrap();
            assert_eq!(out[0], header, "{path}");
            assert_eq!(&out[1..], &sig[1..]);
        }
        assert_eq!(
            with_header(&[27; 65], MessageScript::P2pkh)
                .unwrap_err()
                .code(),
            "protocol"
        );
        assert!(with_header(&[31; 64], MessageScript::P2pkh).is_err());
    }
}
