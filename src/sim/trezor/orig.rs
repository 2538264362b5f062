//! Replacement transactions in the simulated Trezor, as the firmware handles them
//! (`sign_tx/bitcoin.py`, `tx_info.py`, `approvers.py`): the replaced transaction is
//! streamed with TXORIGINPUT / TXORIGOUTPUT next to the inputs and outputs that name
//! it, its txid is recomputed, its outputs are matched in order (only change may be
//! dropped), and the signature of its first input of ours is checked.

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};

use crate::protocol::bytes::write_varint;
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::messages::{failure, InputScriptType, PrevTx, TxInput, TxOutput};
use crate::sim::seed::Seed;
use crate::sim::trezor::change::ChangeDetector;
use crate::sim::trezor::sign_tx::{input_script, output_script};
use crate::sim::trezor::stream::{changed, fail, process_error, push, Outcome, Run, Step};
use crate::sim::trezor::verify::{self, Spend};

/// One replaced transaction, as far as it has been streamed.
pub struct Orig {
    /// Its txid, display order.
    pub hash: Vec<u8>,
    /// Its header.
    pub meta: PrevTx,
    /// The next input (step 1) or output (step 2) expected.
    pub index: u32,
    /// Its inputs and their scriptPubKeys.
    pub inputs: Vec<(TxInput, ScriptBuf)>,
    /// Its outputs and their scriptPubKeys.
    pub outputs: Vec<(TxOutput, ScriptBuf)>,
    /// Its own change rules (from its inputs).
    pub change: ChangeDetector,
}

/// The amounts the approval compares (firmware `Approver`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub total_in: u64,
    pub external_in: u64,
    pub total_out: u64,
    pub change_out: u64,
    pub orig_total_in: u64,
    pub orig_external_in: u64,
    pub orig_total_out: u64,
    pub orig_change_out: u64,
}

impl Totals {
    /// Adds an input of the new transaction.
    pub fn add_input(&mut self, txi: &TxInput, external: bool) {
        self.total_in = self.total_in.saturating_add(txi.amount);
        if external {
            self.external_in = self.external_in.saturating_add(txi.amount);
        }
        if txi.orig_hash.is_some() {
            self.orig_total_in = self.orig_total_in.saturating_add(txi.amount);
            if external {
                self.orig_external_in = self.orig_external_in.saturating_add(txi.amount);
            }
        }
    }

    fn add_orig_output(&mut self, txo: &TxOutput, change: bool) {
        self.orig_total_out = self.orig_total_out.saturating_add(txo.amount);
        if change {
            self.orig_change_out = self.orig_change_out.saturating_add(txo.amount);
        }
    }
}

fn txid_hash(raw: &[u8]) -> Vec<u8> {
    let mut h = sha256d::Hash::hash(raw).to_byte_array();
    h.reverse();
    h.to_vec()
}

/// Step 1 for an input naming a replaced transaction: its header (the first time),
/// then its input at `orig_index`, which must be the same input.
pub fn process_input(
    run: &mut Run<'_>,
    origs: &mut Vec<Orig>,
    txi: &TxInput,
    spk: &ScriptBuf,
) -> Step<()> {
    let seed = run.seed;
    let hash = txi.orig_hash.clone().unwrap_or_default();
    if hash.len() != 32 {
        return fail(failure::DATA_ERROR, "Provided orig_hash is invalid.");
    }
    let Some(orig_index) = txi.orig_index else {
        return fail(failure::DATA_ERROR, "Missing orig_index field.");
    };
    let pos = match origs.iter().position(|o| o.hash == hash) {
        Some(p) => p,
        None => {
            let meta = run.meta(&hash)?;
            origs.push(Orig {
                hash: hash.clone(),
                meta,
                index: 0,
                inputs: Vec::new(),
                outputs: Vec::new(),
                change: ChangeDetector::default(),
            });
            origs.len() - 1
        }
    };
    let Some(orig) = origs.get_mut(pos) else {
        return changed();
    };
    if orig_index >= orig.meta.inputs_count {
        return process_error("Not enough inputs in original transaction.");
    }
    if orig.index != orig_index {
        return process_error("Rearranging or removal of original inputs is not supported.");
    }
    let otxi = run.orig_input(&hash, orig_index)?;
    let ospk = input_script(seed, &otxi)?;
    if otxi.prev_hash != txi.prev_hash
        || otxi.prev_index != txi.prev_index
        || otxi.amount != txi.amount
        || otxi.script_type != txi.script_type
        || ospk != *spk
    {
        return process_error("Original input does not match current input.");
    }
    if otxi.script_type != Some(InputScriptType::EXTERNAL) {
        orig.change.add_input(&otxi);
    }
    orig.inputs.push((otxi, ospk));
    orig.index += 1;
    Ok(())
}

/// Step 2: the replaced transactions' outputs before `last` that no new output
/// names (dropped): only change may be dropped.
fn fetch_dropped(
    run: &mut Run<'_>,
    orig: &mut Orig,
    last: u32,
    coin: Coin,
    totals: &mut Totals,
) -> Step<()> {
    while orig.index < last {
        let otxo = run.orig_output(&orig.hash, orig.index)?;
        let ospk = output_script(run.seed, coin, &otxo)?;
        let change = orig.change.is_change(&otxo);
        if !change {
            return process_error("Removal of original external outputs is not supported.");
        }
        totals.add_orig_output(&otxo, true);
        orig.outputs.push((otxo, ospk));
        orig.index += 1;
    }
    Ok(())
}

/// Step 2 for an output naming a replaced transaction: its output at `orig_index`
/// (after any dropped ones before it), which must pay the same script.
pub fn original_output(
    run: &mut Run<'_>,
    origs: &mut [Orig],
    txo: &TxOutput,
    spk: &ScriptBuf,
    is_change: bool,
    coin: Coin,
    totals: &mut Totals,
) -> Step<TxOutput> {
    let hash = txo.orig_hash.clone().unwrap_or_default();
    let Some(orig) = origs.iter_mut().find(|o| o.hash == hash) else {
        return process_error("Unknown original transaction.");
    };
    let Some(orig_index) = txo.orig_index else {
        return fail(failure::DATA_ERROR, "Missing orig_index field.");
    };
    if orig_index >= orig.meta.outputs_count {
        return process_error("Not enough outputs in original transaction.");
    }
    if orig.index > orig_index {
        return process_error("Rearranging of original outputs is not supported.");
    }
    fetch_dropped(run, orig, orig_index, coin, totals)?;
    let otxo = run.orig_output(&hash, orig.index)?;
    let ospk = output_script(run.seed, coin, &otxo)?;
    if ospk != *spk {
        return process_error("Not an original output.");
    }
    let orig_change = orig.change.is_change(&otxo);
    if is_change && !orig_change {
        return process_error("Original output is missing change-output parameters.");
    }
    totals.add_orig_output(&otxo, orig_change);
    orig.outputs.push((otxo.clone(), ospk));
    orig.index += 1;
    Ok(otxo)
}

/// End of step 2: the outputs no new output named, then the txid check.
pub fn finish_outputs(
    run: &mut Run<'_>,
    origs: &mut [Orig],
    coin: Coin,
    totals: &mut Totals,
) -> Step<()> {
    for orig in origs.iter_mut() {
        let count = orig.meta.outputs_count;
        fetch_dropped(run, orig, count, coin, totals)?;
        if orig.outputs.len() != count as usize
            || orig.inputs.len() != orig.meta.inputs_count as usize
        {
            return changed();
        }
        let mut raw = orig.meta.version.to_le_bytes().to_vec();
        write_varint(&mut raw, u64::from(orig.meta.inputs_count));
        for (txi, _) in &orig.inputs {
            raw.extend(txi.prev_hash.iter().rev());
            raw.extend_from_slice(&txi.prev_index.to_le_bytes());
            push(&mut raw, txi.script_sig.as_deref().unwrap_or_default());
            raw.extend_from_slice(&txi.sequence.unwrap_or(0xffff_ffff).to_le_bytes());
        }
        write_varint(&mut raw, u64::from(count));
        for (txo, spk) in &orig.outputs {
            raw.extend_from_slice(&txo.amount.to_le_bytes());
            push(&mut raw, spk.as_bytes());
        }
        raw.extend_from_slice(&orig.meta.lock_time.to_le_bytes());
        if txid_hash(&raw) != orig.hash {
            return process_error("Invalid original TXID.");
        }
    }
    Ok(())
}

fn effective_lock_time(lock_time: u32, sequences: impl Iterator<Item = u32>) -> u32 {
    let mut all_final = true;
    for s in sequences {
        all_final &= s == 0xffff_ffff;
    }
    if all_final {
        0
    } else {
        lock_time
    }
}

/// The replacement rules of the approval (firmware `BasicApprover.approve_tx`):
/// returns whether the fee change needs the user's confirmation.
pub fn approve(totals: &Totals, origs: &[Orig], lock_time: u32, sequences: &[u32]) -> Step<bool> {
    let t = totals;
    let fee = i128::from(t.total_in) - i128::from(t.total_out);
    let orig_fee = i128::from(t.orig_total_in) - i128::from(t.orig_total_out);
    if fee < 0 || orig_fee < 0 {
        return process_error("Negative fees not supported in transaction replacement.");
    }
    let spending = i128::from(t.total_in) - i128::from(t.change_out) - i128::from(t.external_in);
    let orig_spending = i128::from(t.orig_total_in)
        - i128::from(t.orig_change_out)
        - i128::from(t.orig_external_in);
    if spending - orig_spending > fee - orig_fee {
        return process_error("Invalid replacement transaction.");
    }
    let ours = effective_lock_time(lock_time, sequences.iter().copied());
    for orig in origs {
        let theirs = effective_lock_time(
            orig.meta.lock_time,
            orig.inputs
                .iter()
                .map(|(i, _)| i.sequence.unwrap_or(0xffff_ffff)),
        );
        if theirs != ours {
            return process_error(
                "Original transactions must have same effective nLockTime as replacement \
                 transaction.",
            );
        }
    }
    Ok(spending > orig_spending || t.external_in == t.orig_external_in)
}

/// The replaced transaction, for sighashes, and the outputs its inputs spend.
fn rebuild(orig: &Orig) -> (Transaction, Vec<TxOut>) {
    let tx = Transaction {
        version: transaction::Version(orig.meta.version as i32),
        lock_time: absolute::LockTime::from_consensus(orig.meta.lock_time),
        input: orig
            .inputs
            .iter()
            .map(|(t, _)| {
                let mut h = [0u8; 32];
                h.copy_from_slice(t.prev_hash.get(..32).unwrap_or(&[0; 32]));
                h.reverse();
                TxIn {
                    previous_output: OutPoint::new(Txid::from_byte_array(h), t.prev_index),
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence(t.sequence.unwrap_or(0xffff_ffff)),
                    witness: Witness::new(),
                }
            })
            .collect(),
        output: orig
            .outputs
            .iter()
            .map(|(t, spk)| TxOut {
                value: Amount::from_sat(t.amount),
                script_pubkey: spk.clone(),
            })
            .collect(),
    };
    let prevouts = orig
        .inputs
        .iter()
        .map(|(t, spk)| TxOut {
            value: Amount::from_sat(t.amount),
            script_pubkey: spk.clone(),
        })
        .collect();
    (tx, prevouts)
}

/// The digest `spend` signs for input `i` of `tx`.
pub fn digest(
    spend: &Spend,
    tx: &Transaction,
    prevouts: &[TxOut],
    i: usize,
    spk: &ScriptBuf,
) -> Step<[u8; 32]> {
    let mut cache = SighashCache::new(tx);
    let failed = || Outcome::Fail((failure::PROCESS_ERROR, "Sighash failed".into()));
    let amount = prevouts.get(i).map(|p| p.value).unwrap_or(Amount::ZERO);
    Ok(match spend {
        Spend::Legacy(_) => cache
            .legacy_signature_hash(i, spk, EcdsaSighashType::All.to_u32())
            .map_err(|_| failed())?
            .to_byte_array(),
        Spend::SegwitV0(code, _) => cache
            .p2wsh_signature_hash(i, code, amount, EcdsaSighashType::All)
            .map_err(|_| failed())?
            .to_byte_array(),
        Spend::Taproot(..) => cache
            .taproot_key_spend_signature_hash(i, &Prevouts::All(prevouts), TapSighashType::Default)
            .map_err(|_| failed())?
            .to_byte_array(),
    })
}

/// Step 3, after the previous transactions: each replaced transaction's inputs are
/// streamed again, and the signature of its first input of ours is checked (for a
/// legacy input the replaced transaction is streamed once more for the digest).
pub fn verify_originals(run: &mut Run<'_>, origs: &[Orig], seed: &Seed) -> Step<()> {
    for orig in origs {
        let Some(verification) = orig
            .inputs
            .iter()
            .position(|(t, _)| !t.address_n.is_empty())
        else {
            return process_error(
                "Each original transaction must specify address_n for at least one input.",
            );
        };
        let (tx, prevouts) = rebuild(orig);
        for (i, (streamed, spk)) in orig.inputs.iter().enumerate() {
            let txi = run.orig_input(&orig.hash, i as u32)?;
            if txi != *streamed {
                return changed();
            }
            if i != verification {
                continue;
            }
            let spend = verify::parse(
                spk.as_bytes(),
                txi.script_sig.as_deref().unwrap_or_default(),
                txi.witness.as_deref().unwrap_or_default(),
            )
            .map_err(Outcome::Fail)?;
            if matches!(spend, Spend::Legacy(_)) {
                for (k, (s, _)) in orig.inputs.iter().enumerate() {
                    if run.orig_input(&orig.hash, k as u32)? != *s {
                        return changed();
                    }
                }
                for (k, (s, _)) in orig.outputs.iter().enumerate() {
                    if run.orig_output(&orig.hash, k as u32)? != *s {
                        return changed();
                    }
                }
            }
            let d = digest(&spend, &tx, &prevouts, i, spk)?;
            verify::check(seed, &spend, d).map_err(Outcome::Fail)?;
        }
    }
    Ok(())
}
