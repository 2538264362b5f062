//! From a PSBT to what SignTx streams: the inputs (script type and signing path of
//! each, or the script and amount of an input the device does not own), the outputs
//! (change by path, others by address, OP_RETURN as such), the previous transactions,
//! and the transactions a replacement replaces, decided as a careful wallet would.

use std::collections::{BTreeMap, BTreeSet};

use bitcoin::bip32::{DerivationPath, Fingerprint, KeySource, Xpub};
use bitcoin::blockdata::opcodes::all::OP_RETURN;
use bitcoin::blockdata::script::Instruction;
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::key::{Secp256k1, XOnlyPublicKey};
use bitcoin::{OutPoint, Script, ScriptBuf, Transaction, TxOut, Txid};

use crate::error::{Error, Result};
use crate::protocol::psbt::change::{self, SingleKey};
use crate::protocol::psbt::sighash;
use crate::protocol::psbt::signing::Replaced;
use crate::protocol::psbt::view::{Input, Output, Psbt, SortedMap};
use crate::protocol::trezor::btc::keys::{address_n, Coin};
use crate::protocol::trezor::btc::multisig::{from_xpubs, multisig_of, multisig_type};
use crate::protocol::trezor::messages::{InputScriptType, OutputScriptType, TxInput, TxOutput};

/// Everything SignTx needs, built from a PSBT.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The coin.
    pub coin: Coin,
    /// Transaction version.
    pub version: u32,
    /// Lock time.
    pub lock_time: u32,
    /// The inputs, as streamed.
    pub inputs: Vec<TxInput>,
    /// The outputs, as streamed.
    pub outputs: Vec<TxOutput>,
    /// Previous transactions by txid.
    pub prev_txs: BTreeMap<Txid, Transaction>,
    /// For each input, the key the device signs with: a compressed key (ECDSA) or the
    /// taproot output key; `None` for an input the device does not own (external),
    /// which it does not sign.
    pub signers: Vec<Option<Signer>>,
    /// The replaced transactions by txid, as the device is told about them.
    pub orig_txs: BTreeMap<Txid, OrigTx>,
}

/// A replaced transaction as SignTx streams it (TXORIGINPUT, TXORIGOUTPUT).
#[derive(Debug, Clone, PartialEq)]
pub struct OrigTx {
    /// Version.
    pub version: u32,
    /// Lock time.
    pub lock_time: u32,
    /// Its inputs, described like the new transaction's, with their scriptSigs and
    /// witnesses.
    pub inputs: Vec<TxInput>,
    /// Its outputs, described like the new transaction's.
    pub outputs: Vec<TxOutput>,
}

/// Which key signs an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// ECDSA by this key.
    Ecdsa(bitcoin::PublicKey),
    /// Schnorr, key path, by this output key.
    TapKey(XOnlyPublicKey),
}

/// The BIP-174 proprietary key prefix under which an input carries its SLIP-19 proof
/// of ownership (subtype 0, no key data): SLIP-19's own PSBT type (0x0a) collides
/// with BIP-174's `PSBT_IN_RIPEMD160`.
pub const OWNERSHIP_PROOF_PREFIX: &[u8] = b"SLIP-0019";

fn bad(index: usize, reason: impl Into<String>) -> Error {
    Error::invalid(format!("input {index}"), reason)
}

fn ours_ecdsa(input: &Input, fpr: Fingerprint) -> Option<(bitcoin::PublicKey, DerivationPath)> {
    input
        .bip32_derivation
        .iter()
        .find(|(_, (f, _))| *f == fpr)
        .map(|(k, (_, p))| (bitcoin::PublicKey::new(*k), p.clone()))
}

/// A multisig script of an input or output: the threshold and keys, as found in the
/// script the PSBT gives.
type Keys = (u32, Vec<bitcoin::PublicKey>);

/// The script type of an input spending `spk` and the multisig script it spends, if
/// any, from the scripts the PSBT gives.
fn input_kind(index: usize, input: &Input, spk: &Script) -> Result<(i32, Option<Keys>)> {
    if spk.is_p2pkh() {
        return Ok((InputScriptType::SPENDADDRESS, None));
    }
    if spk.is_p2wpkh() {
        return Ok((InputScriptType::SPENDWITNESS, None));
    }
    if spk.is_p2tr() {
        return Ok((InputScriptType::SPENDTAPROOT, None));
    }
    let from_ws = |what: &str| -> Result<Keys> {
        let ws = input
            .witness_script
            .as_ref()
            .ok_or_else(|| bad(index, format!("{what} without its witness script")))?;
        multisig_of(ws).ok_or_else(|| {
            Error::Unsupported(format!(
                "input {index}: only multisig witness scripts can be signed on a trezor"
            ))
        })
    };
    if spk.is_p2wsh() {
        let keys = from_ws("p2wsh")?;
        if input.witness_script.as_ref().map(|ws| ws.to_p2wsh()) != Some(spk.to_owned()) {
            return Err(bad(
                index,
                "the witness script does not hash to the utxo script",
            ));
        }
        return Ok((InputScriptType::SPENDWITNESS, Some(keys)));
    }
    if spk.is_p2sh() {
        let rs = input
            .redeem_script
            .as_ref()
            .ok_or_else(|| bad(index, "p2sh without its redeem script"))?;
        if rs.to_p2sh() != *spk {
            return Err(bad(
                index,
                "the redeem script does not hash to the utxo script",
            ));
        }
        if rs.is_p2wpkh() {
            return Ok((InputScriptType::SPENDP2SHWITNESS, None));
        }
        if rs.is_p2wsh() {
            let keys = from_ws("p2sh-p2wsh")?;
            if input.witness_script.as_ref().map(|ws| ws.to_p2wsh()) != Some(rs.clone()) {
                return Err(bad(
                    index,
                    "the witness script does not hash to the redeem script",
                ));
            }
            return Ok((InputScriptType::SPENDP2SHWITNESS, Some(keys)));
        }
        if let Some(keys) = multisig_of(rs) {
            return Ok((InputScriptType::SPENDMULTISIG, Some(keys)));
        }
    }
    Err(Error::Unsupported(format!(
        "input {index}: a trezor cannot sign script {}",
        spk.to_hex_string()
    )))
}

fn utxo(index: usize, psbt: &Psbt) -> Result<TxOut> {
    let input = psbt
        .inputs
        .get(index)
        .ok_or_else(|| bad(index, "missing"))?;
    let prevout = psbt
        .unsigned_tx
        .input
        .get(index)
        .ok_or_else(|| bad(index, "missing"))?
        .previous_output;
    if let Some(tx) = &input.non_witness_utxo {
        if tx.compute_txid() != prevout.txid {
            return Err(bad(
                index,
                "its non-witness utxo is not the transaction it spends",
            ));
        }
        let out = tx
            .output
            .get(prevout.vout as usize)
            .ok_or_else(|| bad(index, "its non-witness utxo has no such output"))?;
        if let Some(w) = &input.witness_utxo {
            if w != out {
                return Err(bad(index, "its witness and non-witness utxos differ"));
            }
        }
        return Ok(out.clone());
    }
    input
        .witness_utxo
        .clone()
        .ok_or_else(|| bad(index, "no utxo (witness or non-witness)"))
}

fn op_return_data(spk: &Script) -> Option<Vec<u8>> {
    let bytes = spk.as_bytes();
    if bytes.first() != Some(&OP_RETURN.to_u8()) {
        return None;
    }
    let mut ins = spk.instructions();
    ins.next();
    let data = match ins.next() {
        None => Vec::new(),
        Some(Ok(Instruction::PushBytes(b))) => b.as_bytes().to_vec(),
        Some(_) => return None,
    };
    ins.next().is_none().then_some(data)
}

/// The change script type of an output whose script is rebuilt from one of our keys
/// alone (see [`change::single_key`]), if any.
fn change_kind(output: &Output, spk: &Script, fpr: Fingerprint) -> Option<(i32, DerivationPath)> {
    let (kind, path) = change::single_key(output, spk, fpr)?;
    let script_type = match kind {
        SingleKey::P2pkh => OutputScriptType::PAYTOADDRESS,
        SingleKey::P2wpkh => OutputScriptType::PAYTOWITNESS,
        SingleKey::P2shP2wpkh => OutputScriptType::PAYTOP2SHWITNESS,
        SingleKey::P2tr => OutputScriptType::PAYTOTAPROOT,
    };
    Some((script_type, path))
}

/// A multisig wallet: threshold and the cosigners' xpubs as a set.
type Wallet = (u32, Vec<Xpub>);

/// The output as multisig change: its script is rebuilt from the PSBT's xpubs, all
/// at the same path, the same cosigners and threshold as `wallet` (the inputs'), and
/// one of the keys is ours.
fn multisig_change(
    output: &Output,
    spk: &Script,
    fpr: Fingerprint,
    xpubs: &SortedMap<Xpub, KeySource>,
    wallet: &Wallet,
) -> Option<TxOutput> {
    let (script_type, script) = if spk.is_p2wsh() {
        let ws = output.witness_script.as_ref()?;
        (ws.to_p2wsh() == *spk).then_some((OutputScriptType::PAYTOWITNESS, ws))?
    } else if spk.is_p2sh() {
        let rs = output.redeem_script.as_ref()?;
        if rs.to_p2sh() != *spk {
            return None;
        }
        if rs.is_p2wsh() {
            let ws = output.witness_script.as_ref()?;
            (ws.to_p2wsh() == *rs).then_some((OutputScriptType::PAYTOP2SHWITNESS, ws))?
        } else {
            (OutputScriptType::PAYTOMULTISIG, rs)
        }
    } else {
        return None;
    };
    let (m, keys) = multisig_of(script)?;
    let rebuilt = from_xpubs(m, &keys, &output.bip32_derivation, xpubs)?;
    rebuilt.path.as_ref()?;
    if rebuilt.wallet() != *wallet {
        return None;
    }
    let path = keys.iter().find_map(|k| {
        output
            .bip32_derivation
            .get(&k.inner)
            .filter(|(f, _)| *f == fpr)
            .map(|(_, p)| p.clone())
    })?;
    Some(TxOutput {
        address_n: address_n(&path),
        amount: 0,
        script_type: Some(script_type),
        multisig: Some(rebuilt.message),
        ..Default::default()
    })
}

/// The SLIP-19 proof of ownership an input carries (see [`OWNERSHIP_PROOF_PREFIX`]).
fn ownership_proof(input: &Input) -> Option<Vec<u8>> {
    input
        .proprietary
        .iter()
        .find(|(k, _)| k.prefix == OWNERSHIP_PROOF_PREFIX && k.subtype == 0 && k.key.is_empty())
        .map(|(_, v)| v.clone())
}

fn non_empty(bytes: Vec<u8>) -> Option<Vec<u8>> {
    (!bytes.is_empty()).then_some(bytes)
}

/// The serialized witness (count, then items), when there is one.
fn witness_bytes(witness: &bitcoin::Witness) -> Option<Vec<u8>> {
    (!witness.is_empty()).then(|| serialize(witness))
}

/// Builds the SignTx plan of `psbt` for the device whose master fingerprint is `fpr`.
///
/// # Errors
/// As [`build_replacing`].
pub fn build(psbt: &Psbt, fpr: Fingerprint, coin: Option<Coin>) -> Result<Plan> {
    build_replacing(psbt, fpr, coin, &[])
}

/// Builds the SignTx plan of `psbt`, a replacement of `replaces`, for the device whose
/// master fingerprint is `fpr`.
///
/// Inputs with a BIP-32 (or taproot) origin of `fpr` are signed. Any other input is
/// external: sent with its script and amount, plus its final scriptSig and witness
/// when the PSBT has them (already signed, e.g. by a payjoin receiver) or its SLIP-19
/// proof of ownership; the device signs none of them. A multisig input is described by
/// its cosigners' xpubs when the PSBT's global xpubs give them, and a multisig output
/// rebuilt from the same xpubs as every input is sent as change.
///
/// # Errors
/// `unsupported` when no input is ours, an input of ours has a script a Trezor cannot
/// sign, or an input asks for another sighash than ALL / DEFAULT (the firmware signs
/// no other); `invalid-input` naming the input or output when the PSBT lacks what
/// signing needs (a utxo, the previous transaction of a non-taproot spend, scripts),
/// or naming `replaces` when a replaced transaction is not replaced by this one.
pub fn build_replacing(
    psbt: &Psbt,
    fpr: Fingerprint,
    coin: Option<Coin>,
    replaces: &[Replaced],
) -> Result<Plan> {
    let tx = &psbt.unsigned_tx;
    let secp = Secp256k1::verification_only();
    let mut inputs = Vec::new();
    let mut signers = Vec::new();
    let mut first_path = None;
    let mut first_foreign = None;
    // The multisig wallet of the inputs, while every input is one of ours in the same
    // xpub-described multisig.
    let mut wallet: Option<Option<Wallet>> = None;
    for (index, (txin, input)) in tx.input.iter().zip(&psbt.inputs).enumerate() {
        if !sighash::is_default(psbt, index) {
            return Err(Error::Unsupported(format!(
                "input {index} asks for sighash {}: trezor firmware signs only sighash all \
                 (default for taproot)",
                sighash::name(psbt, index)
            )));
        }
        let out = utxo(index, psbt)?;
        let prev_hash = display_order(&txin.previous_output.txid);
        let ecdsa = ours_ecdsa(input, fpr);
        let tap_ours = input.tap_key_origins.values().any(|(_, (f, _))| *f == fpr);
        if ecdsa.is_none() && !tap_ours {
            first_foreign.get_or_insert(index);
            wallet = Some(None);
            inputs.push(TxInput {
                address_n: Vec::new(),
                prev_hash,
                prev_index: txin.previous_output.vout,
                script_sig: input
                    .final_script_sig
                    .as_ref()
                    .and_then(|s| non_empty(s.to_bytes())),
                sequence: Some(txin.sequence.0),
                script_type: Some(InputScriptType::EXTERNAL),
                amount: out.value.to_sat(),
                witness: input.final_script_witness.as_ref().and_then(witness_bytes),
                ownership_proof: ownership_proof(input),
                script_pubkey: Some(out.script_pubkey.to_bytes()),
                ..Default::default()
            });
            signers.push(None);
            continue;
        }
        let (script_type, keys) = input_kind(index, input, &out.script_pubkey)?;
        let (path, signer) = if script_type == InputScriptType::SPENDTAPROOT {
            let internal = input.tap_internal_key.or_else(|| {
                input
                    .tap_key_origins
                    .iter()
                    .find(|(_, (leaves, _))| leaves.is_empty())
                    .map(|(k, _)| *k)
            });
            let origin = internal.and_then(|k| input.tap_key_origins.get(&k).map(|o| (k, o)));
            match origin {
                Some((k, (leaves, (f, path)))) if *f == fpr && leaves.is_empty() => {
                    if input.tap_merkle_root.is_some()
                        || ScriptBuf::new_p2tr(&secp, k, None) != out.script_pubkey
                    {
                        return Err(Error::Unsupported(format!(
                            "input {index}: only bip-86 key-path taproot spends can be signed \
                             on a trezor"
                        )));
                    }
                    let output_key = XOnlyPublicKey::from_slice(
                        out.script_pubkey.as_bytes().get(2..34).unwrap_or_default(),
                    )
                    .map_err(|e| bad(index, e.to_string().to_ascii_lowercase()))?;
                    (path.clone(), Signer::TapKey(output_key))
                }
                _ => {
                    return Err(Error::Unsupported(format!(
                        "input {index} is not this trezor's (no taproot key origin with \
                         fingerprint {fpr} for its internal key)"
                    )))
                }
            }
        } else {
            let (key, path) = ecdsa.ok_or_else(|| {
                Error::Unsupported(format!(
                    "input {index} is not this trezor's (no bip32 derivation with \
                     fingerprint {fpr})"
                ))
            })?;
            (path, Signer::Ecdsa(key))
        };
        let multisig = match &keys {
            Some((m, keys)) => {
                let ours = match &signer {
                    Signer::Ecdsa(k) => *k,
                    Signer::TapKey(_) => return Err(bad(index, "a taproot key in a multisig")),
                };
                if !keys.contains(&ours) {
                    return Err(bad(index, "our key is not in its multisig script"));
                }
                match from_xpubs(*m, keys, &input.bip32_derivation, &psbt.xpub) {
                    Some(x) => {
                        let w = x.wallet();
                        wallet = match wallet {
                            None => Some(Some(w)),
                            Some(Some(prev)) if prev == w => Some(Some(prev)),
                            Some(_) => Some(None),
                        };
                        Some(x.message)
                    }
                    None => {
                        wallet = Some(None);
                        Some(multisig_type(*m, keys))
                    }
                }
            }
            None => {
                wallet = Some(None);
                None
            }
        };
        first_path.get_or_insert_with(|| path.clone());
        inputs.push(TxInput {
            address_n: address_n(&path),
            prev_hash,
            prev_index: txin.previous_output.vout,
            sequence: Some(txin.sequence.0),
            script_type: Some(script_type),
            multisig,
            amount: out.value.to_sat(),
            ..Default::default()
        });
        signers.push(Some(signer));
    }
    if signers.iter().all(Option::is_none) {
        return Err(Error::Unsupported(format!(
            "no input is this trezor's: input {} is not this trezor's (no bip32 derivation \
             or taproot key origin with fingerprint {fpr})",
            first_foreign.unwrap_or(0)
        )));
    }
    // As the firmware: previous transactions are needed unless every input it signs
    // is taproot.
    let taproot_only = inputs.iter().all(|i| {
        matches!(
            i.script_type,
            Some(InputScriptType::SPENDTAPROOT | InputScriptType::EXTERNAL)
        )
    });
    let mut prev_txs = BTreeMap::new();
    for (index, (txin, input)) in tx.input.iter().zip(&psbt.inputs).enumerate() {
        match &input.non_witness_utxo {
            Some(prev) => {
                prev_txs.insert(txin.previous_output.txid, prev.clone());
            }
            None if taproot_only => {}
            None => {
                return Err(bad(
                    index,
                    "no non-witness utxo: a trezor needs the previous transaction of every \
                     input unless all of its own inputs are taproot",
                ))
            }
        }
    }
    let coin = coin.unwrap_or_else(|| first_path.as_ref().map(Coin::from_path).unwrap_or_default());
    let wallet = wallet.flatten();
    let mut outputs = Vec::new();
    for (index, (txout, output)) in tx.output.iter().zip(&psbt.outputs).enumerate() {
        let spk = &txout.script_pubkey;
        let amount = txout.value.to_sat();
        let ms_change = wallet
            .as_ref()
            .and_then(|w| multisig_change(output, spk, fpr, &psbt.xpub, w));
        let out = if let Some(data) = op_return_data(spk) {
            TxOutput {
                amount,
                script_type: Some(OutputScriptType::PAYTOOPRETURN),
                op_return_data: Some(data),
                ..Default::default()
            }
        } else if let Some(change) = ms_change {
            TxOutput { amount, ..change }
        } else if let Some((script_type, path)) = change_kind(output, spk, fpr) {
            TxOutput {
                address_n: address_n(&path),
                amount,
                script_type: Some(script_type),
                ..Default::default()
            }
        } else {
            TxOutput {
                address: Some(address_of(spk, coin, &format!("output {index}"))?),
                amount,
                script_type: Some(OutputScriptType::PAYTOADDRESS),
                ..Default::default()
            }
        };
        outputs.push(out);
    }
    let orig_txs = link_replaced(tx, &mut inputs, &mut outputs, &prev_txs, replaces, coin)?;
    Ok(Plan {
        coin,
        version: tx.version.0 as u32,
        lock_time: tx.lock_time.to_consensus_u32(),
        inputs,
        outputs,
        prev_txs,
        signers,
        orig_txs,
    })
}

fn address_of(spk: &Script, coin: Coin, field: &str) -> Result<String> {
    bitcoin::Address::from_script(spk, coin.network())
        .map(|a| a.to_string())
        .map_err(|_| {
            Error::invalid(
                field,
                format!("script {} has no address", spk.to_hex_string()),
            )
        })
}

fn replaced_error(txid: &Txid, reason: impl core::fmt::Display) -> Error {
    Error::invalid("replaces", format!("transaction {txid}: {reason}"))
}

/// Ties the inputs and outputs to the transactions they replace (`orig_hash`,
/// `orig_index`) and describes those transactions.
fn link_replaced(
    tx: &Transaction,
    inputs: &mut [TxInput],
    outputs: &mut [TxOutput],
    prev_txs: &BTreeMap<Txid, Transaction>,
    replaces: &[Replaced],
    coin: Coin,
) -> Result<BTreeMap<Txid, OrigTx>> {
    let mut orig_txs = BTreeMap::new();
    let position: BTreeMap<OutPoint, usize> = tx
        .input
        .iter()
        .enumerate()
        .map(|(i, txin)| (txin.previous_output, i))
        .collect();
    let mut claimed = BTreeSet::new();
    // Output cursors per replaced transaction: outputs are matched in order.
    let mut next_output: Vec<usize> = vec![0; replaces.len()];
    let mut output_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (j, txout) in tx.output.iter().enumerate() {
        for (r, replaced) in replaces.iter().enumerate() {
            let from = next_output.get(r).copied().unwrap_or(0);
            let hit = replaced
                .tx
                .output
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, o)| o.script_pubkey == txout.script_pubkey)
                .map(|(m, _)| m);
            if let (Some(m), Some(cursor)) = (hit, next_output.get_mut(r)) {
                *cursor = m + 1;
                output_of.insert((r, m), j);
                break;
            }
        }
    }
    for (r, replaced) in replaces.iter().enumerate() {
        let orig = &replaced.tx;
        let txid = orig.compute_txid();
        if orig_txs.contains_key(&txid) {
            return Err(replaced_error(&txid, "is named twice"));
        }
        if prev_txs.contains_key(&txid) {
            return Err(replaced_error(
                &txid,
                "is spent by this transaction, so it cannot be replaced by it",
            ));
        }
        if orig.input.is_empty() || orig.output.is_empty() {
            return Err(replaced_error(&txid, "has no inputs or no outputs"));
        }
        let mut last = None;
        let mut orig_inputs = Vec::new();
        for (k, txin) in orig.input.iter().enumerate() {
            let i = *position.get(&txin.previous_output).ok_or_else(|| {
                replaced_error(
                    &txid,
                    format!(
                        "its input {k} spends {}, which this psbt does not: a replacement \
                         spends every input of the transaction it replaces",
                        txin.previous_output
                    ),
                )
            })?;
            if last.is_some_and(|l| l >= i) {
                return Err(replaced_error(
                    &txid,
                    "its inputs are in another order than in this psbt",
                ));
            }
            if !claimed.insert(i) {
                return Err(replaced_error(
                    &txid,
                    format!("input {i} of this psbt is also spent by another replaced transaction"),
                ));
            }
            last = Some(i);
            let new = inputs
                .get_mut(i)
                .ok_or_else(|| replaced_error(&txid, "input out of range"))?;
            new.orig_hash = Some(display_order(&txid));
            new.orig_index = Some(k as u32);
            orig_inputs.push(TxInput {
                prev_hash: new.prev_hash.clone(),
                prev_index: new.prev_index,
                sequence: Some(txin.sequence.0),
                script_sig: non_empty(txin.script_sig.to_bytes()),
                witness: witness_bytes(&txin.witness),
                orig_hash: None,
                orig_index: None,
                ownership_proof: None,
                commitment_data: None,
                ..new.clone()
            });
        }
        let mut orig_outputs = Vec::new();
        for (m, txout) in orig.output.iter().enumerate() {
            let amount = txout.value.to_sat();
            let described = match output_of.get(&(r, m)) {
                Some(&j) => {
                    let new = outputs
                        .get_mut(j)
                        .ok_or_else(|| replaced_error(&txid, "output out of range"))?;
                    new.orig_hash = Some(display_order(&txid));
                    new.orig_index = Some(m as u32);
                    TxOutput {
                        amount,
                        orig_hash: None,
                        orig_index: None,
                        ..new.clone()
                    }
                }
                None => dropped_output(replaced, m, txout, coin, &txid)?,
            };
            orig_outputs.push(described);
        }
        orig_txs.insert(
            txid,
            OrigTx {
                version: orig.version.0 as u32,
                lock_time: orig.lock_time.to_consensus_u32(),
                inputs: orig_inputs,
                outputs: orig_outputs,
            },
        );
    }
    Ok(orig_txs)
}

/// An output of a replaced transaction that the replacement drops: change when the
/// caller says so (its script type follows from its script), else as it pays.
fn dropped_output(
    replaced: &Replaced,
    index: usize,
    txout: &TxOut,
    coin: Coin,
    txid: &Txid,
) -> Result<TxOutput> {
    let spk = &txout.script_pubkey;
    let amount = txout.value.to_sat();
    if let Some((_, path)) = replaced.dropped_change.get(&(index as u32)) {
        let script_type = if spk.is_p2pkh() {
            OutputScriptType::PAYTOADDRESS
        } else if spk.is_p2wpkh() {
            OutputScriptType::PAYTOWITNESS
        } else if spk.is_p2sh() {
            OutputScriptType::PAYTOP2SHWITNESS
        } else if spk.is_p2tr() {
            OutputScriptType::PAYTOTAPROOT
        } else {
            return Err(replaced_error(
                txid,
                format!("output {index} is not a single-key script, so it cannot be change"),
            ));
        };
        return Ok(TxOutput {
            address_n: address_n(path),
            amount,
            script_type: Some(script_type),
            ..Default::default()
        });
    }
    if let Some(data) = op_return_data(spk) {
        return Ok(TxOutput {
            amount,
            script_type: Some(OutputScriptType::PAYTOOPRETURN),
            op_return_data: Some(data),
            ..Default::default()
        });
    }
    Ok(TxOutput {
        address: Some(address_of(spk, coin, "replaces")?),
        amount,
        script_type: Some(OutputScriptType::PAYTOADDRESS),
        ..Default::default()
    })
}

/// A txid as Trezor takes it: display (reversed) byte order.
pub fn display_order(txid: &bitcoin::Txid) -> Vec<u8> {
    txid.to_byte_array().iter().rev().copied().collect()
}
