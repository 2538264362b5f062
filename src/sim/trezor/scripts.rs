//! Multisig input scripts as the simulated Trezor serializes them (firmware
//! `scripts.py`): `OP_0 <sigs> <redeem script>` in the scriptSig or the witness, with
//! the co-signers' signatures from `multisig.signatures` and ours at our key's place.

use bitcoin::ScriptBuf;

use crate::protocol::bytes::write_varint;
use crate::protocol::trezor::messages::{failure, TxInput};
use crate::sim::seed::Seed;
use crate::sim::trezor::keys::{self, path_of};
use crate::sim::trezor::stream::{fail, push, refuse, Step};

/// A multisig input: its redeem (or witness) script, our key's place, and the
/// signatures the host already has (one slot per key).
pub struct MultisigInput {
    /// The multisig script.
    pub script: ScriptBuf,
    /// Where our signature goes.
    pub index: usize,
    /// Existing signatures, one per key (empty where none).
    pub signatures: Vec<Vec<u8>>,
}

/// The multisig of an input, if it has one.
pub fn multisig_input(seed: &Seed, txi: &TxInput) -> Step<Option<MultisigInput>> {
    let Some(ms) = &txi.multisig else {
        return Ok(None);
    };
    let keys = keys::multisig_pubkeys(seed, ms).or_else(refuse)?;
    let sk = keys::secret(seed, &path_of(&txi.address_n)).or_else(refuse)?;
    let ours = sk.public_key(seed.secp());
    let Some(index) = keys.iter().position(|k| k.inner == ours) else {
        return fail(failure::DATA_ERROR, "Pubkey not found in multisig script");
    };
    let mut signatures = ms.signatures.clone();
    signatures.resize(keys.len(), Vec::new());
    if signatures.get(index).is_some_and(|s| !s.is_empty()) {
        return fail(failure::DATA_ERROR, "Invalid multisig parameters");
    }
    Ok(Some(MultisigInput {
        script: keys::multisig_script(ms.m, &keys),
        index,
        signatures,
    }))
}

fn all_sigs(ms: &MultisigInput, ours: &[u8]) -> Vec<Vec<u8>> {
    ms.signatures
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let s = if i == ms.index { ours } else { s.as_slice() };
            (!s.is_empty()).then(|| {
                let mut v = s.to_vec();
                v.push(0x01);
                v
            })
        })
        .collect()
}

/// The scriptSig of a legacy p2sh multisig input with our signature `ours` (DER).
pub fn script_sig(ms: &MultisigInput, ours: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    for s in all_sigs(ms, ours) {
        push(&mut out, &s);
    }
    let script = ms.script.as_bytes();
    match script.len() {
        0..=75 => {}
        76..=255 => out.push(0x4c),
        _ => out.push(0x4d),
    }
    if script.len() > 255 {
        out.extend_from_slice(&(script.len() as u16).to_le_bytes());
        out.extend_from_slice(script);
    } else if script.len() > 75 {
        out.push(script.len() as u8);
        out.extend_from_slice(script);
    } else {
        push(&mut out, script);
    }
    out
}

/// The witness of a p2wsh (or p2sh-p2wsh) multisig input with our signature `ours`.
pub fn witness(ms: &MultisigInput, ours: &[u8]) -> Vec<u8> {
    let sigs = all_sigs(ms, ours);
    let mut out = Vec::new();
    write_varint(&mut out, sigs.len() as u64 + 2);
    out.push(0x00);
    for s in sigs {
        push(&mut out, &s);
    }
    push(&mut out, ms.script.as_bytes());
    out
}
