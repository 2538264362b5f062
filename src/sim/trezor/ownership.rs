//! SLIP-19 proofs of ownership, as the simulated Trezor checks them for external
//! inputs: the proof must be validly signed for the input's scriptPubKey and must not
//! list this wallet's ownership identifier for it (SLIP-21 key
//! `m/"SLIP-0019"/"Ownership identification key"`).

use bitcoin::hashes::{hmac, sha256, sha512, Hash, HashEngine};

use crate::protocol::bytes::write_varint;
use crate::protocol::trezor::messages::failure;
use crate::sim::seed::Seed;
use crate::sim::trezor::keys::Refusal;
use crate::sim::trezor::verify;

const MAGIC: &[u8; 4] = b"SL\x00\x19";

fn hmac512(key: &[u8], data: &[&[u8]]) -> [u8; 64] {
    let mut engine = hmac::HmacEngine::<sha512::Hash>::new(key);
    for d in data {
        engine.input(d);
    }
    hmac::Hmac::<sha512::Hash>::from_engine(engine).to_byte_array()
}

/// The SLIP-21 key at `path` (labels) of `seed`.
pub fn slip21_key(seed: &Seed, path: &[&[u8]]) -> [u8; 32] {
    let mut node = hmac512(b"Symmetric key seed", &[seed.bip39_seed()]);
    for label in path {
        node = hmac512(&node[..32], &[&[0u8], label]);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&node[32..]);
    key
}

/// This wallet's ownership identifier of `script_pubkey`.
pub fn ownership_id(seed: &Seed, script_pubkey: &[u8]) -> [u8; 32] {
    let key = slip21_key(seed, &[b"SLIP-0019", b"Ownership identification key"]);
    let mut engine = hmac::HmacEngine::<sha256::Hash>::new(&key);
    engine.input(script_pubkey);
    hmac::Hmac::<sha256::Hash>::from_engine(engine).to_byte_array()
}

fn invalid<T>() -> Result<T, Refusal> {
    Err((failure::DATA_ERROR, "Invalid external input".into()))
}

/// Reads a compact-size integer at `*at`.
fn varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let first = *data.get(*at)?;
    let size = match first {
        0xfd => 2,
        0xfe => 4,
        0xff => 8,
        n => {
            *at += 1;
            return Some(u64::from(n));
        }
    };
    let bytes = data.get(*at + 1..*at + 1 + size)?;
    *at += 1 + size;
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// Checks that `proof` shows `script_pubkey` is not this wallet's: a valid SLIP-19
/// proof by its owner that does not list our identifier.
///
/// # Errors
/// DataError "Invalid external input" for a malformed proof or one that lists our
/// identifier; "Invalid signature" when its signature does not verify.
pub fn verify_nonownership(
    seed: &Seed,
    proof: &[u8],
    script_pubkey: &[u8],
    commitment_data: &[u8],
) -> Result<(), Refusal> {
    if proof.get(..4) != Some(&MAGIC[..]) {
        return invalid();
    }
    // Flags: only bit 0 (user confirmation) is defined.
    match proof.get(4) {
        Some(flags) if flags & 0xfe == 0 => {}
        _ => return invalid(),
    }
    let mut at = 5;
    let Some(n) = varint(proof, &mut at) else {
        return invalid();
    };
    let ours = ownership_id(seed, script_pubkey);
    let mut listed = false;
    for _ in 0..n {
        let Some(id) = proof.get(at..at + 32) else {
            return invalid();
        };
        listed |= id == ours;
        at += 32;
    }
    let body = proof.get(..at).unwrap_or_default();
    let Some(len) = varint(proof, &mut at).and_then(|l| usize::try_from(l).ok()) else {
        return invalid();
    };
    let Some(script_sig) = proof.get(at..at.saturating_add(len)) else {
        return invalid();
    };
    let witness = proof.get(at.saturating_add(len)..).unwrap_or_default();
    let mut footer = Vec::new();
    write_varint(&mut footer, script_pubkey.len() as u64);
    footer.extend_from_slice(script_pubkey);
    write_varint(&mut footer, commitment_data.len() as u64);
    footer.extend_from_slice(commitment_data);
    let mut engine = sha256::Hash::engine();
    engine.input(body);
    engine.input(&footer);
    let digest = sha256::Hash::from_engine(engine).to_byte_array();
    let witness = if witness == [0] { &[][..] } else { witness };
    let spend = verify::parse(script_pubkey, script_sig, witness)?;
    verify::check(seed, &spend, digest)?;
    if listed {
        return invalid();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::seed::TREZOR_TEST_MNEMONIC;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn slip19_test_vector_1() {
        // SLIP-0019 test vector 1 (P2WPKH), "all all ..." seed.
        let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
        let key = slip21_key(&seed, &[b"SLIP-0019", b"Ownership identification key"]);
        assert_eq!(
            key.to_vec(),
            hex("0a115a171e30f8a740bae6c4144bec5dc1099ffa79b83dfb8aa3501d094de585")
        );
        let spk = hex("0014b2f771c370ccf219cd3059cda92bdf7f00cf2103");
        assert_eq!(
            ownership_id(&seed, &spk).to_vec(),
            hex("a122407efc198211c81af4450f40b235d54775efd934d16b9e31c6ce9bad5707")
        );
        // A proof by another wallet (test_signtx_external.py::test_p2wpkh_with_proof):
        // its signature verifies and our identifier is not in it.
        let spk = hex("00149c02608d469160a92f40fdf8c6ccced029493088");
        let proof = hex("534c001900016b2055d8190244b2ed2d46513c40658a574d3bc2deb6969c0535bb818b44d2c4000247304402201b0a2cd9398f5f3b63e624bb960436a45bdacbd5174b29a47ed3f659b2d4137b022007f8981f476216e012a04956ce77a483cdbff2905227b103a48a15e61379c43d012103505f0d82bbdd251511591b34f36ad5eea37d3220c2b81a1189084431ddb3aa3d");
        assert_eq!(verify_nonownership(&seed, &proof, &spk, b""), Ok(()));
        let mut bad = proof.clone();
        bad[60] ^= 1;
        assert!(verify_nonownership(&seed, &bad, &spk, b"").is_err());
        assert!(verify_nonownership(&seed, &proof, &spk, b"x").is_err());
        // A proof of ours (test_p2wpkh_with_false_proof) is no proof of an external
        // input.
        let spk = hex("0014fb7e49f4017dc951615dea221b66626189aa43b9");
        let proof = hex("534c00190001b0b66657a824e41c063299fb4435dc70a6fd2e9db4c87e3c26a7ab7c0283547b000247304402206e285291aa955cb60b16acd69332eaada67ec5192d361fe4e2b384553e7e80c6022023470cfcb9c3251a136c26eb1637142206785a3d91b98583e5a1d6ab64fa91ed012103dcf3bc936ecb2ec57b8f468050abce8c8756e75fd74273c9977744b1a0be7d03");
        assert_eq!(
            verify_nonownership(&seed, &proof, &spk, b""),
            Err((failure::DATA_ERROR, "Invalid external input".into()))
        );
    }
}
