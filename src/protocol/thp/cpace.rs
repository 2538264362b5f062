//! Code-entry pairing: the 6-digit code, and CPace (CPACE-X25519-SHA512 as in
//! draft-irtf-cfrg-cpace-10, symmetric setting, empty session id) with the code as the
//! password and the handshake hash as the channel identifier.
//!
//! The device commits to a secret (SHA-256), the host sends a challenge, the device
//! shows `SHA-256(0x02 || handshake_hash || secret || challenge) mod 10^6`. Both run
//! CPace with the code; the host proves the shared secret (its SHA-256, the tag), the
//! device reveals its secret, and the host checks the commitment and that the code it
//! was given is the one the secret gives: a man in the middle would have to guess it.

use crate::protocol::thp::field::elligator2;
use crate::protocol::thp::noise::{sha256, sha512, x25519};

/// The pairing method number of code entry.
pub const CODE_ENTRY: u8 = 2;

/// The code the device shows: `SHA-256(0x02 || hh || secret || challenge)` as a
/// big-endian integer, modulo one million.
pub fn code(handshake_hash: &[u8; 32], secret: &[u8], challenge: &[u8]) -> u32 {
    let digest = sha256(&[&[CODE_ENTRY], handshake_hash, secret, challenge]);
    digest
        .iter()
        .fold(0u64, |r, b| (r * 256 + u64::from(*b)) % 1_000_000) as u32
}

/// The code as the six ASCII digits the user types.
pub fn code_text(code: u32) -> String {
    format!("{:06}", code % 1_000_000)
}

/// The CPace generator of `code` (six ASCII digits) bound to the handshake hash:
/// Elligator 2 of the first 32 bytes of SHA-512 of the length-prefixed `CPace255`,
/// the code, zero padding to the hash block, the handshake hash and an empty sid.
pub fn generator(code: &str, handshake_hash: &[u8; 32]) -> [u8; 32] {
    let dsi = b"CPace255";
    let prs = code.as_bytes();
    // lv_cat(DSI, PRS, zpad, CI, sid), lengths as one-byte LEB128 (all are < 128).
    let zpad = 128usize.saturating_sub(1 + dsi.len() + 1 + prs.len() + 1);
    let mut s = Vec::with_capacity(256);
    s.push(dsi.len() as u8);
    s.extend_from_slice(dsi);
    s.push(prs.len().min(127) as u8);
    s.extend_from_slice(prs.get(..prs.len().min(127)).unwrap_or_default());
    s.push(zpad as u8);
    s.resize(s.len() + zpad, 0);
    s.push(handshake_hash.len() as u8);
    s.extend_from_slice(handshake_hash);
    s.push(0);
    let digest = sha512(&s);
    let mut pre = [0u8; 32];
    pre.iter_mut().zip(digest.iter()).for_each(|(d, s)| *d = *s);
    elligator2(&pre)
}

/// One side of CPace: the public key to send (`X25519(private, generator)`) and the
/// shared secret with the other side's key.
pub fn exchange(
    code: &str,
    handshake_hash: &[u8; 32],
    private: [u8; 32],
    their_public: [u8; 32],
) -> ([u8; 32], [u8; 32]) {
    let g = generator(code, handshake_hash);
    (x25519(private, g), x25519(private, their_public))
}

/// The public key of one side of CPace.
pub fn public(code: &str, handshake_hash: &[u8; 32], private: [u8; 32]) -> [u8; 32] {
    x25519(private, generator(code, handshake_hash))
}

/// The tag that proves the shared secret: its SHA-256.
pub fn tag(shared: &[u8; 32]) -> [u8; 32] {
    sha256(&[shared])
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hex::FromHex;

    fn h32(s: &str) -> [u8; 32] {
        <[u8; 32]>::from_hex(s).unwrap()
    }

    #[test]
    fn matches_trezorlib() {
        // trezorlib: cpace(prs=b"123456", ci=bytes(range(32)), b_pubkey=..., _a_privkey=[7]*32)
        // and the code of CodeEntry.send_code.
        let hh: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(generator("123456", &hh), h32(GENERATOR));
        let (public, shared) = exchange("123456", &hh, [7; 32], h32(THEIRS));
        assert_eq!(public, h32(PUBLIC));
        assert_eq!(shared, h32(SHARED));
        assert_eq!(code(&hh, &[1; 16], &[2; 16]), CODE);
        assert_eq!(code_text(42), "000042");
    }

    #[test]
    fn both_sides_agree_only_on_the_same_code() {
        let hh = [9u8; 32];
        let a = public("654321", &hh, [1; 32]);
        let b = public("654321", &hh, [2; 32]);
        let (_, s1) = exchange("654321", &hh, [1; 32], b);
        let (_, s2) = exchange("654321", &hh, [2; 32], a);
        assert_eq!(s1, s2);
        let wrong = public("654320", &hh, [2; 32]);
        let (_, s3) = exchange("654321", &hh, [1; 32], wrong);
        assert_ne!(tag(&s1), tag(&s3));
    }

    const GENERATOR: &str = "4e1da1dfe958d2243b655fd45da026889142bcc3aa96c7eb58f10242cd8af52a";
    const THEIRS: &str = "5dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef22";
    const PUBLIC: &str = "d6714ed262da07402e0f995761ce8d838ff9e299bb4abec5f0c79cf5e1fead6f";
    const SHARED: &str = "1d2295e4fbd2b98d28bc11393db3a51fc1773c6d39a71c30b630b3f515369609";
    const CODE: u32 = 260_825;
}
