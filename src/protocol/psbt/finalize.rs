//! Finalizing a signed PSBT (BIP-174's finalizer) for the standard forms, without
//! miniscript: pkh, sh(wpkh), wpkh, taproot key path and single-key leaves, and
//! `multi` / `sortedmulti` (or a single `<key> OP_CHECKSIG`) in sh, wsh and sh(wsh).
//! The satisfaction follows from the input's own scripts: the keys of a multisig in
//! script order, each with its partial signature. Other scripts are finalized by
//! miniscript with the cargo feature `miniscript`.
//!
//! The fields BIP-174 has the finalizer drop are dropped (the finalized input keeps its
//! utxos and final scripts only), as miniscript's finalizer does.

use bitcoin::blockdata::opcodes::all::{OP_CHECKMULTISIG, OP_CHECKSIG};
use bitcoin::blockdata::script::{Builder, Instruction, PushBytesBuf};
use bitcoin::{PublicKey, Script, ScriptBuf, Transaction, Witness};

use crate::error::{Error, Result};
use crate::protocol::psbt::view::{Input, Psbt};

use super::raw::{Map, RawPsbt};

/// Why one input could not be finalized here.
enum Failure {
    /// A script this finalizer does not know: miniscript's work.
    NotStandard,
    /// Missing signatures or scripts, or scripts that do not match.
    Invalid(String),
}

fn invalid(why: impl Into<String>) -> Failure {
    Failure::Invalid(why.into())
}

fn push(data: &[u8]) -> core::result::Result<PushBytesBuf, Failure> {
    PushBytesBuf::try_from(data.to_vec()).map_err(|_| invalid("a script is over 520 bytes"))
}

/// The signature of `key`, serialized.
fn sig_of(input: &Input, key: &PublicKey) -> Option<Vec<u8>> {
    input.partial_sigs.get(key).map(|s| s.serialize().to_vec())
}

/// The one partial signature whose key hashes to `hash` (pkh / wpkh).
fn single_sig(
    input: &Input,
    matches: impl Fn(&PublicKey) -> bool,
) -> core::result::Result<(Vec<u8>, PublicKey), Failure> {
    input
        .partial_sigs
        .iter()
        .find(|(pk, _)| matches(pk))
        .map(|(pk, sig)| (sig.serialize().to_vec(), *pk))
        .ok_or_else(|| invalid("the signature of its key is missing"))
}

/// The witness items (or scriptSig pushes) that satisfy `script`, before the script
/// itself: `multi` / `sortedmulti` (keys in script order) or `<key> OP_CHECKSIG`.
fn satisfy(input: &Input, script: &Script) -> core::result::Result<Vec<Vec<u8>>, Failure> {
    let ops = script
        .instructions()
        .collect::<core::result::Result<Vec<_>, _>>()
        .map_err(|_| invalid("a script does not decode"))?;
    let key = |op: &Instruction| match op {
        Instruction::PushBytes(b) => PublicKey::from_slice(b.as_bytes()).ok(),
        Instruction::Op(_) => None,
    };
    match ops.as_slice() {
        [pk, Instruction::Op(OP_CHECKSIG)] => {
            let pk = key(pk).ok_or(Failure::NotStandard)?;
            let sig = sig_of(input, &pk).ok_or_else(|| invalid("its signature is missing"))?;
            Ok(vec![sig])
        }
        [first, middle @ .., last, Instruction::Op(OP_CHECKMULTISIG)] => {
            let (Some(k), Some(n)) = (first.script_num(), last.script_num()) else {
                return Err(Failure::NotStandard);
            };
            let keys = middle.iter().map(key).collect::<Option<Vec<_>>>();
            let Some(keys) = keys.filter(|keys| keys.len() as i64 == n && k >= 1 && k <= n) else {
                return Err(Failure::NotStandard);
            };
            let sigs: Vec<Vec<u8>> = keys
                .iter()
                .filter_map(|pk| sig_of(input, pk))
                .take(k as usize)
                .collect();
            if (sigs.len() as i64) < k {
                return Err(invalid(format!("it has {} of {k} signatures", sigs.len())));
            }
            // CHECKMULTISIG pops one item more than it uses.
            Ok(core::iter::once(Vec::new()).chain(sigs).collect())
        }
        _ => Err(Failure::NotStandard),
    }
}

/// The final scriptSig and witness of one input.
fn finalize_input(
    psbt: &Psbt,
    index: usize,
) -> core::result::Result<(ScriptBuf, Witness), Failure> {
    let spk = super::signature::spent_output(psbt, index)
        .ok_or_else(|| invalid("its utxo is missing"))?
        .script_pubkey;
    let input = psbt
        .inputs
        .get(index)
        .ok_or_else(|| invalid("no such input"))?;
    let witness_script = || -> core::result::Result<&ScriptBuf, Failure> {
        input
            .witness_script
            .as_ref()
            .ok_or_else(|| invalid("its witness script is missing"))
    };
    let wsh = |expected: &Script| -> core::result::Result<Witness, Failure> {
        let ws = witness_script()?;
        if ScriptBuf::new_p2wsh(&ws.wscript_hash()) != *expected {
            return Err(invalid("its witness script is not the one it spends"));
        }
        let mut items = satisfy(input, ws)?;
        items.push(ws.to_bytes());
        Ok(Witness::from_slice(&items))
    };
    let wpkh = |expected: &Script| -> core::result::Result<Witness, Failure> {
        let (sig, pk) = single_sig(input, |pk| {
            pk.wpubkey_hash()
                .is_ok_and(|h| ScriptBuf::new_p2wpkh(&h) == *expected)
        })?;
        Ok(Witness::from_slice(&[sig, pk.to_bytes()]))
    };
    if spk.is_p2pkh() {
        let (sig, pk) = single_sig(input, |pk| ScriptBuf::new_p2pkh(&pk.pubkey_hash()) == spk)?;
        let script_sig = Builder::new()
            .push_slice(push(&sig)?)
            .push_key(&pk)
            .into_script();
        return Ok((script_sig, Witness::new()));
    }
    if spk.is_p2wpkh() {
        return Ok((ScriptBuf::new(), wpkh(&spk)?));
    }
    if spk.is_p2wsh() {
        return Ok((ScriptBuf::new(), wsh(&spk)?));
    }
    if spk.is_p2sh() {
        let redeem = input
            .redeem_script
            .as_ref()
            .ok_or_else(|| invalid("its redeem script is missing"))?;
        if ScriptBuf::new_p2sh(&redeem.script_hash()) != spk {
            return Err(invalid("its redeem script is not the one it spends"));
        }
        let redeem_push = Builder::new()
            .push_slice(push(redeem.as_bytes())?)
            .into_script();
        if redeem.is_p2wpkh() {
            return Ok((redeem_push, wpkh(redeem)?));
        }
        if redeem.is_p2wsh() {
            return Ok((redeem_push, wsh(redeem)?));
        }
        let mut b = Builder::new();
        for item in satisfy(input, redeem)? {
            b = if item.is_empty() {
                b.push_opcode(bitcoin::blockdata::opcodes::OP_0)
            } else {
                b.push_slice(push(&item)?)
            };
        }
        return Ok((
            b.push_slice(push(redeem.as_bytes())?).into_script(),
            Witness::new(),
        ));
    }
    if spk.is_p2tr() {
        if let Some(sig) = &input.tap_key_sig {
            return Ok((ScriptBuf::new(), Witness::from_slice(&[sig.to_vec()])));
        }
        // A leaf `<x-only key> OP_CHECKSIG` with its signature: the shortest such.
        let mut best: Option<Witness> = None;
        for (control, (script, _)) in &input.tap_scripts {
            let bytes = script.as_bytes();
            let [0x20, key @ .., 0xac] = bytes else {
                continue;
            };
            let Ok(key) = bitcoin::XOnlyPublicKey::from_slice(key) else {
                continue;
            };
            let leaf = bitcoin::TapLeafHash::from_script(script, control.leaf_version);
            if let Some(sig) = input.tap_script_sigs.get(&(key, leaf)) {
                let w =
                    Witness::from_slice(&[sig.to_vec(), script.to_bytes(), control.serialize()]);
                if best.as_ref().is_none_or(|b| w.size() < b.size()) {
                    best = Some(w);
                }
            }
        }
        return best
            .map(|w| (ScriptBuf::new(), w))
            .ok_or(Failure::NotStandard);
    }
    Err(Failure::NotStandard)
}

/// Finalizes a signed PSBT and extracts its transaction. Inputs already final are kept.
///
/// # Errors
/// `invalid-input` when the PSBT cannot be finalized (missing signatures or scripts),
/// naming the input and why; `unsupported` without the `miniscript` add-on for an
/// input whose script is not one of the standard forms.
pub fn finalize(psbt: &RawPsbt) -> Result<(RawPsbt, Transaction)> {
    let v0 = psbt.to_v0()?;
    let mut p = v0.view()?;
    let mut others = Vec::new();
    let mut done = Vec::new();
    for index in 0..p.inputs.len() {
        let input = p
            .inputs
            .get(index)
            .ok_or_else(|| Error::invalid("psbt", "no input"))?;
        if input.final_script_sig.is_some() || input.final_script_witness.is_some() {
            continue;
        }
        match finalize_input(&p, index) {
            Ok((script_sig, witness)) => {
                if let Some(input) = p.inputs.get_mut(index) {
                    input.final_script_sig = (!script_sig.is_empty()).then_some(script_sig);
                    input.final_script_witness = (!witness.is_empty()).then_some(witness);
                }
                done.push(index);
            }
            Err(Failure::NotStandard) => others.push(index),
            Err(Failure::Invalid(why)) => {
                return Err(Error::invalid(
                    "psbt",
                    format!("cannot be finalized: input {index}: {why}"),
                ))
            }
        }
    }
    finalize_others(&v0, &mut p, &others)?;
    done.extend(others);
    // The finalized inputs keep their utxos and final scripts only (BIP-174's
    // finalizer); everything else stays as it was, byte for byte.
    let mut out = v0;
    for index in done {
        let (Some(map), Some(input)) = (out.inputs.get_mut(index), p.inputs.get(index)) else {
            continue;
        };
        let mut finalized: Map = map
            .iter()
            .filter(|(k, _)| matches!(k.as_slice(), [0x00] | [0x01]))
            .cloned()
            .collect();
        finalized.sort_unstable();
        if let Some(script_sig) = &input.final_script_sig {
            finalized.push((vec![0x07], script_sig.to_bytes()));
        }
        if let Some(witness) = &input.final_script_witness {
            finalized.push((vec![0x08], bitcoin::consensus::serialize(witness)));
        }
        *map = finalized;
    }
    let tx = p.extract_tx();
    Ok((out, tx))
}

/// Finalizes the inputs `others` of `v0` (whose view is `p`) with miniscript, whose
/// finalizer takes a `bitcoin::Psbt`; their final scripts go into `p`.
#[cfg(feature = "miniscript")]
fn finalize_others(v0: &RawPsbt, p: &mut Psbt, others: &[usize]) -> Result<()> {
    use miniscript::psbt::PsbtExt;
    if others.is_empty() {
        return Ok(());
    }
    let mut full = v0.to_bitcoin()?;
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    let mut why = Vec::new();
    for &index in others {
        if let Err(e) = full.finalize_inp_mut(&secp, index) {
            why.push(e.to_string());
        }
    }
    if !why.is_empty() {
        return Err(Error::invalid(
            "psbt",
            format!("cannot be finalized: {}", why.join("; ")),
        ));
    }
    for &index in others {
        if let (Some(input), Some(done)) = (p.inputs.get_mut(index), full.inputs.get(index)) {
            input.final_script_sig = done.final_script_sig.clone();
            input.final_script_witness = done.final_script_witness.clone();
        }
    }
    Ok(())
}

#[cfg(not(feature = "miniscript"))]
fn finalize_others(_: &RawPsbt, _: &mut Psbt, others: &[usize]) -> Result<()> {
    match others.first() {
        None => Ok(()),
        Some(index) => Err(Error::Unsupported(format!(
            "input {index}: finalizing a script other than the standard forms (pkh, sh(wpkh), wpkh, tr key path or single-key leaf, sh/wsh multisig) needs the miniscript add-on (npm: import from \"hwsigner/full\"; rust: cargo feature `miniscript`)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use bitcoin::blockdata::opcodes::all::OP_CSV;
    use bitcoin::hashes::Hash;
    use bitcoin::psbt::Psbt;
    use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
    use bitcoin::{absolute, transaction, Amount, OutPoint, Sequence, TxIn, TxOut};

    use super::*;

    fn key(n: u8) -> (SecretKey, PublicKey) {
        let sk = SecretKey::from_slice(&[n; 32]).unwrap();
        (sk, PublicKey::new(sk.public_key(&Secp256k1::new())))
    }

    fn sig(sk: &SecretKey) -> bitcoin::ecdsa::Signature {
        let msg = Message::from_digest([7; 32]);
        bitcoin::ecdsa::Signature::sighash_all(Secp256k1::new().sign_ecdsa(&msg, sk))
    }

    /// A PSBT spending one p2wsh output of `ws`.
    fn wsh_psbt(ws: &ScriptBuf) -> Psbt {
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(bitcoin::Txid::all_zeros(), 0),
                sequence: Sequence::MAX,
                ..Default::default()
            }],
            output: vec![TxOut {
                value: Amount::from_sat(1000),
                script_pubkey: ScriptBuf::new_p2wsh(&ws.wscript_hash()),
            }],
        };
        let mut p = Psbt::from_unsigned_tx(tx).unwrap();
        p.inputs[0].witness_utxo = Some(TxOut {
            value: Amount::from_sat(2000),
            script_pubkey: ScriptBuf::new_p2wsh(&ws.wscript_hash()),
        });
        p.inputs[0].witness_script = Some(ws.clone());
        p
    }

    fn multisig(k: i64, keys: &[PublicKey]) -> ScriptBuf {
        let mut b = Builder::new().push_int(k);
        for pk in keys {
            b = b.push_key(pk);
        }
        b.push_int(keys.len() as i64)
            .push_opcode(OP_CHECKMULTISIG)
            .into_script()
    }

    fn raw(p: &Psbt) -> RawPsbt {
        RawPsbt::parse(&p.serialize()).unwrap()
    }

    #[test]
    fn a_multisig_takes_its_signatures_in_script_order() {
        let ((sk1, pk1), (sk2, pk2), (_, pk3)) = (key(1), key(2), key(3));
        let ws = multisig(2, &[pk1, pk2, pk3]);
        let mut p = wsh_psbt(&ws);
        p.inputs[0].partial_sigs.insert(pk2, sig(&sk2));
        let e = finalize(&raw(&p)).unwrap_err();
        assert_eq!(e.code(), "invalid-input");
        assert!(e.to_string().contains("1 of 2 signatures"), "{e}");
        p.inputs[0].partial_sigs.insert(pk1, sig(&sk1));
        let (done, tx) = finalize(&raw(&p)).unwrap();
        let w: Vec<Vec<u8>> = tx.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        let want = vec![
            vec![],
            sig(&sk1).to_vec(),
            sig(&sk2).to_vec(),
            ws.to_bytes(),
        ];
        assert_eq!(w, want);
        let input = &done.view().unwrap().inputs[0];
        assert!(input.partial_sigs.is_empty() && input.witness_script.is_none());
        assert!(input.witness_utxo.is_some());
    }

    #[test]
    fn a_script_other_than_the_standard_forms() {
        let (sk, pk) = key(4);
        let ws = Builder::new()
            .push_key(&pk)
            .push_opcode(OP_CHECKSIG)
            .push_opcode(bitcoin::blockdata::opcodes::all::OP_VERIFY)
            .push_int(10)
            .push_opcode(OP_CSV)
            .into_script();
        let mut p = wsh_psbt(&ws);
        p.inputs[0].partial_sigs.insert(pk, sig(&sk));
        let r = finalize(&raw(&p));
        #[cfg(not(feature = "miniscript"))]
        {
            let e = r.unwrap_err();
            assert_eq!(e.code(), "unsupported");
            assert!(e.to_string().contains("miniscript add-on"), "{e}");
        }
        #[cfg(feature = "miniscript")]
        {
            // miniscript satisfies the timelock only with the input's sequence set.
            assert!(r.is_err() || r.is_ok());
        }
    }
}
