//! The BIP-373 PSBT fields of MuSig2, read from and written to raw PSBT maps.
//!
//! | key type | key data | value |
//! |---|---|---|
//! | `PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS` 0x1a | aggregate key (33, untweaked) | participant keys (33 each) |
//! | `PSBT_IN_MUSIG2_PUB_NONCE` 0x1b | participant (33) ‖ aggregate (33) ‖ leaf hash (32, script path only) | public nonce (66) |
//! | `PSBT_IN_MUSIG2_PARTIAL_SIG` 0x1c | the same | partial signature (32) |
//! | `PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS` 0x08 | aggregate key (33) | participant keys (33 each) |
//!
//! The aggregate key of a nonce or partial signature is the one the Ledger app yields:
//! the aggregate after every tweak (BIP-32 steps, and the BIP-341 taproot tweak on the
//! key path), compressed.

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::PublicKey;
use bitcoin::taproot::TapLeafHash;

use crate::error::{Error, Result};
use crate::protocol::bytes::to_hex;
use crate::protocol::psbt::raw::Map;

/// `PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS`.
pub const IN_PARTICIPANT_PUBKEYS: u8 = 0x1a;
/// `PSBT_IN_MUSIG2_PUB_NONCE`.
pub const IN_PUB_NONCE: u8 = 0x1b;
/// `PSBT_IN_MUSIG2_PARTIAL_SIG`.
pub const IN_PARTIAL_SIG: u8 = 0x1c;
/// `PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS`.
pub const OUT_PARTICIPANT_PUBKEYS: u8 = 0x08;

/// Bytes of a public nonce (two compressed points).
pub const PUB_NONCE_LEN: usize = 66;
/// Bytes of a partial signature (a scalar).
pub const PARTIAL_SIG_LEN: usize = 32;

/// Who a nonce or partial signature is from, and for which key and leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionKey {
    /// The participant's key (its xpub's public key).
    pub participant: PublicKey,
    /// The aggregate key after every tweak.
    pub aggregate: PublicKey,
    /// The leaf, for a script-path spend.
    pub leaf: Option<TapLeafHash>,
}

impl SessionKey {
    /// The PSBT key of type `key_type` (0x1b or 0x1c) for this session.
    pub fn psbt_key(&self, key_type: u8) -> Vec<u8> {
        let mut key = Vec::with_capacity(1 + 33 + 33 + 32);
        key.push(key_type);
        key.extend_from_slice(&self.participant.serialize());
        key.extend_from_slice(&self.aggregate.serialize());
        if let Some(leaf) = self.leaf {
            key.extend_from_slice(leaf.as_byte_array());
        }
        key
    }

    /// Parses the key data after the key type: 66 or 98 bytes.
    ///
    /// # Errors
    /// `invalid-input` (field `field`) for another length or a key that is not a point.
    pub fn parse(data: &[u8], field: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(field, format!("musig2 field key: {why}"));
        let (keys, leaf) = match data.len() {
            66 => (data, None),
            98 => {
                let (keys, leaf) = data.split_at(66);
                let leaf: [u8; 32] = leaf.try_into().map_err(|_| bad("short leaf hash"))?;
                (keys, Some(TapLeafHash::from_byte_array(leaf)))
            }
            n => return Err(bad(&format!("{n} bytes, expected 66 or 98"))),
        };
        let (participant, aggregate) = keys.split_at(33);
        Ok(SessionKey {
            participant: PublicKey::from_slice(participant)
                .map_err(|_| bad("participant is not a public key"))?,
            aggregate: PublicKey::from_slice(aggregate)
                .map_err(|_| bad("aggregate is not a public key"))?,
            leaf,
        })
    }
}

/// The `(key data, value)` of every entry of `key_type` in `map`.
fn entries(map: &Map, key_type: u8) -> impl Iterator<Item = (&[u8], &[u8])> {
    map.iter().filter_map(move |(k, v)| match k.split_first() {
        Some((t, data)) if *t == key_type => Some((data, v.as_slice())),
        _ => None,
    })
}

/// The participant lists of `map` (key type `key_type`): `(aggregate, participants)`.
///
/// # Errors
/// `invalid-input` (field `field`) when a key or value is not made of 33-byte keys.
pub fn participants(
    map: &Map,
    key_type: u8,
    field: &str,
) -> Result<Vec<(PublicKey, Vec<PublicKey>)>> {
    let bad = |why: String| Error::invalid(field, format!("musig2 participant pubkeys: {why}"));
    let mut out = Vec::new();
    for (data, value) in entries(map, key_type) {
        let aggregate = PublicKey::from_slice(data)
            .map_err(|_| bad(format!("key {} is not a public key", to_hex(data))))?;
        if value.is_empty() || value.len() % 33 != 0 {
            return Err(bad(format!(
                "{} bytes is not a list of 33-byte keys",
                value.len()
            )));
        }
        let keys = value
            .chunks(33)
            .map(|c| {
                PublicKey::from_slice(c)
                    .map_err(|_| bad(format!("{} is not a public key", to_hex(c))))
            })
            .collect::<Result<Vec<_>>>()?;
        out.push((aggregate, keys));
    }
    Ok(out)
}

/// The value of `map`'s participant list entry for `aggregate`.
pub fn participants_entry(aggregate: &PublicKey, participants: &[PublicKey]) -> (Vec<u8>, Vec<u8>) {
    let mut key = vec![IN_PARTICIPANT_PUBKEYS];
    key.extend_from_slice(&aggregate.serialize());
    let value = participants.iter().flat_map(|p| p.serialize()).collect();
    (key, value)
}

/// The public nonces (`IN_PUB_NONCE`) or partial signatures (`IN_PARTIAL_SIG`) of an
/// input map, each `N` bytes.
///
/// # Errors
/// `invalid-input` (field `field`) for a malformed key or a value of another length.
pub fn session_values<const N: usize>(
    map: &Map,
    key_type: u8,
    field: &str,
) -> Result<Vec<(SessionKey, [u8; N])>> {
    entries(map, key_type)
        .map(|(data, value)| {
            let key = SessionKey::parse(data, field)?;
            let value: [u8; N] = value.try_into().map_err(|_| {
                Error::invalid(
                    field,
                    format!("musig2 value of {} bytes, expected {N}", value.len()),
                )
            })?;
            Ok((key, value))
        })
        .collect()
}

/// True when `map` has an entry of `key_type`.
pub fn has(map: &Map, key_type: u8) -> bool {
    entries(map, key_type).next().is_some()
}

/// `map` without its entries of `key_type`.
pub fn without(map: &Map, key_type: u8) -> Map {
    map.iter()
        .filter(|(k, _)| k.first() != Some(&key_type))
        .cloned()
        .collect()
}

/// The YIELD tag (varint) the Ledger app puts before a MuSig2 public nonce.
pub const YIELD_PUB_NONCE_TAG: u64 = 0xffff_ffff;
/// The YIELD tag (varint) the Ledger app puts before a MuSig2 partial signature.
pub const YIELD_PARTIAL_SIG_TAG: u64 = 0xffff_fffe;

/// A MuSig2 value the app yields: `tag | varint input | value | participant (33) |
/// aggregate (33) | leaf hash (32, script path only)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yielded {
    /// Round 1.
    PubNonce(SessionKey, [u8; PUB_NONCE_LEN]),
    /// Round 2.
    PartialSig(SessionKey, [u8; PARTIAL_SIG_LEN]),
}

/// Parses a SIGN_PSBT YIELD that starts with a MuSig2 tag; `None` when it starts with
/// an input index instead (a signature).
///
/// # Errors
/// `protocol` when it is malformed.
pub fn parse_yield(bytes: &[u8]) -> Option<Result<(usize, Yielded)>> {
    let mut r = crate::protocol::bytes::Reader::new(bytes, "yielded musig2 value");
    let tag = r.varint("tag").ok()?;
    if tag != YIELD_PUB_NONCE_TAG && tag != YIELD_PARTIAL_SIG_TAG {
        return None;
    }
    Some((|| {
        let index = usize::try_from(r.varint("input index")?)
            .map_err(|_| Error::protocol("input index too large"))?;
        let value_len = if tag == YIELD_PUB_NONCE_TAG {
            PUB_NONCE_LEN
        } else {
            PARTIAL_SIG_LEN
        };
        let value = r.bytes(value_len, "musig2 value")?.to_vec();
        let session = SessionKey::parse(r.rest(), "yield")
            .map_err(|e| Error::protocol(format!("input {index}: yielded {e}")))?;
        let yielded = if tag == YIELD_PUB_NONCE_TAG {
            Yielded::PubNonce(
                session,
                value
                    .try_into()
                    .map_err(|_| Error::protocol("short nonce"))?,
            )
        } else {
            Yielded::PartialSig(
                session,
                value
                    .try_into()
                    .map_err(|_| Error::protocol("short partial signature"))?,
            )
        };
        Ok((index, yielded))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

    #[test]
    fn session_keys_round_trip_and_reject_other_lengths() {
        let g: PublicKey = G.parse().unwrap();
        for leaf in [None, Some(TapLeafHash::from_byte_array([7; 32]))] {
            let k = SessionKey {
                participant: g,
                aggregate: g,
                leaf,
            };
            let bytes = k.psbt_key(IN_PUB_NONCE);
            assert_eq!(bytes[0], 0x1b);
            assert_eq!(bytes.len(), if leaf.is_some() { 99 } else { 67 });
            assert_eq!(SessionKey::parse(&bytes[1..], "input 0").unwrap(), k);
        }
        let e = SessionKey::parse(&[2; 65], "input 0").unwrap_err();
        assert_eq!(e.code(), "invalid-input");
        let map: Map = vec![(vec![IN_PARTIAL_SIG, 1, 2], vec![0; 32])];
        assert_eq!(
            session_values::<32>(&map, IN_PARTIAL_SIG, "input 0")
                .unwrap_err()
                .code(),
            "invalid-input"
        );
    }
}
