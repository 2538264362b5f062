//! Key aggregation (BIP-327 KeyAgg) of a `musig()` expression and the BIP-328 xpub of
//! the aggregate, as the Ledger Bitcoin app computes them: the participants' xpub
//! public keys sorted, aggregated, and given the BIP-328 chain code.

use bitcoin::bip32::{ChainCode, ChildNumber, Fingerprint, Xpub};
use bitcoin::secp256k1::PublicKey;
use bitcoin::NetworkKind;
use musig2::secp::{MaybeScalar, Point};
use musig2::KeyAggContext;

use crate::error::{Error, Result};

/// The chain code BIP-328 gives every aggregate xpub.
pub const BIP328_CHAIN_CODE: [u8; 32] = [
    0x86, 0x80, 0x87, 0xca, 0x02, 0xa6, 0xf9, 0x74, 0xc4, 0x59, 0x89, 0x24, 0xc3, 0x6b, 0x57, 0x76,
    0x2d, 0x32, 0xcb, 0x45, 0x71, 0x71, 0x67, 0xe3, 0x00, 0x62, 0x2c, 0x71, 0x67, 0xe3, 0x89, 0x65,
];

/// The most keys the app takes in one `musig()`.
pub const MAX_PARTICIPANTS: usize = 16;

/// A `secp` point from a public key (the two crates link different secp256k1 versions).
pub(crate) fn point(key: &PublicKey) -> Result<Point> {
    Point::from_slice(&key.serialize())
        .map_err(|_| Error::invalid("musig2 key", "not a point on the curve"))
}

/// A public key from a `secp` point.
pub(crate) fn public_key(point: &Point) -> Result<PublicKey> {
    PublicKey::from_slice(&point.serialize())
        .map_err(|_| Error::invalid("musig2 key", "not a point on the curve"))
}

/// A scalar from 32 big-endian bytes (a tweak).
pub(crate) fn scalar(bytes: &[u8; 32]) -> Result<MaybeScalar> {
    MaybeScalar::from_slice(bytes)
        .map_err(|_| Error::invalid("musig2 tweak", "not below the curve order"))
}

/// KeyAgg of `participants` in the given order.
///
/// # Errors
/// `invalid-input` for no key, more than 16, or an aggregate at infinity.
pub fn key_agg(participants: &[PublicKey]) -> Result<KeyAggContext> {
    if participants.is_empty() || participants.len() > MAX_PARTICIPANTS {
        return Err(Error::invalid(
            "musig()",
            format!(
                "{} keys, expected 1 to {MAX_PARTICIPANTS}",
                participants.len()
            ),
        ));
    }
    let points = participants.iter().map(point).collect::<Result<Vec<_>>>()?;
    KeyAggContext::new(points)
        .map_err(|e| Error::invalid("musig()", format!("key aggregation fails: {e}")))
}

/// `keys` in ascending order of their compressed serialization (KeySort), as the app
/// aggregates them.
pub fn sorted(keys: &[PublicKey]) -> Vec<PublicKey> {
    let mut keys = keys.to_vec();
    keys.sort_unstable_by_key(|k| k.serialize());
    keys
}

/// The untweaked aggregate of `participants` (in the given order).
///
/// # Errors
/// As [`key_agg`].
pub fn aggregate(participants: &[PublicKey]) -> Result<PublicKey> {
    public_key(&key_agg(participants)?.aggregated_pubkey_untweaked::<Point>())
}

/// The BIP-328 xpub of the aggregate key `aggregate`: depth 0, no parent, the BIP-328
/// chain code.
pub fn aggregate_xpub(aggregate: PublicKey, network: NetworkKind) -> Xpub {
    Xpub {
        network,
        depth: 0,
        parent_fingerprint: Fingerprint::default(),
        child_number: ChildNumber::Normal { index: 0 },
        public_key: aggregate,
        chain_code: ChainCode::from(BIP328_CHAIN_CODE),
    }
}

/// The key an aggregate xpub derives to along `path`, and the BIP-32 tweak of each step
/// (the plain tweaks of BIP-327 that carry the aggregate key there).
///
/// # Errors
/// `invalid-input` for a hardened step (an xpub cannot derive it).
pub fn derive(xpub: &Xpub, path: &[ChildNumber]) -> Result<(Xpub, Vec<[u8; 32]>)> {
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    let mut current = *xpub;
    let mut tweaks = Vec::with_capacity(path.len());
    for step in path {
        if step.is_hardened() {
            return Err(Error::invalid(
                "musig2 derivation",
                format!("hardened step {step} below an aggregate xpub"),
            ));
        }
        let (tweak, _) = current
            .ckd_pub_tweak(*step)
            .map_err(|e| Error::invalid("musig2 derivation", e.to_string()))?;
        tweaks.push(tweak.secret_bytes());
        current = current
            .ckd_pub(&secp, *step)
            .map_err(|e| Error::invalid("musig2 derivation", e.to_string()))?;
    }
    Ok((current, tweaks))
}

#[cfg(test)]
mod tests {
    use super::*;

    // BIP-327 key_agg_vectors.json: pubkeys X1, X2, X3 and the expected aggregates.
    const X: [&str; 3] = [
        "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
        "03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659",
        "023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66",
    ];

    #[test]
    fn key_agg_matches_bip327_vectors() {
        let k: Vec<PublicKey> = X.iter().map(|s| s.parse().unwrap()).collect();
        let xonly = |keys: &[PublicKey]| aggregate(keys).unwrap().x_only_public_key().0.to_string();
        assert_eq!(
            xonly(&[k[0], k[1], k[2]]).to_uppercase(),
            "90539EEDE565F5D054F32CC0C220126889ED1E5D193BAF15AEF344FE59D4610C"
        );
        assert_eq!(
            xonly(&[k[2], k[1], k[0]]).to_uppercase(),
            "6204DE8B083426DC6EAF9502D27024D53FC826BF7D2012148A0575435DF54B2B"
        );
        assert_eq!(
            xonly(&[k[0], k[0], k[0]]).to_uppercase(),
            "B436E3BAD62B8CD409969A224731C193D051162D8C5AE8B109306127DA3AA935"
        );
        assert_eq!(key_agg(&[]).unwrap_err().code(), "invalid-input");
    }

    #[test]
    fn sorting_is_by_serialization() {
        let k: Vec<PublicKey> = X.iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(sorted(&k), vec![k[2], k[0], k[1]]);
    }
}
