//! SignTx in the simulated Trezor, in the firmware's streaming order.
//!
//! The flow is written as straight-line code, like the firmware's coroutine. Being
//! sans-IO, it cannot wait for the host; instead it is *replayed*: every run starts from
//! the beginning, consumes the answers received so far, and stops at the first
//! question it has no answer for. Signing is deterministic (RFC6979, BIP-340 with zero
//! aux), so every replay computes the same bytes. The order of requests and the
//! `serialized` chunks follow the firmware (core `sign_tx/bitcoin.py`): inputs (with
//! the replaced transactions' inputs they name), a confirmation per replaced
//! transaction, outputs (confirmations of payments; change, as the firmware tells it,
//! is not shown), fee confirmation, each input again with its previous transaction
//! (meta, inputs, outputs, extra data) and the check of already signed external
//! inputs, the replaced transactions' signatures, then serialization: legacy inputs
//! signed in place (re-streaming the transaction for each), external inputs as given,
//! outputs, segwit and taproot signatures with the witnesses, lock time, TXFINISHED.

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};

use crate::protocol::bytes::write_varint;
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::messages::{
    button, failure, request_type, InputScriptType, OutputScriptType, SignTx, TxInput, TxOutput,
    TxRequest, TxRequestDetailsType, TxRequestSerializedType,
};
use crate::sim::confirm::Prompt;
use crate::sim::seed::Seed;
use crate::sim::trezor::change::ChangeDetector;
use crate::sim::trezor::keys::{self, path_of};
use crate::sim::trezor::orig::{self, Orig, Totals};
use crate::sim::trezor::ownership;
use crate::sim::trezor::scripts::{self, multisig_input};
use crate::sim::trezor::stream::{
    changed, fail, is_segwit, process_error, push, refuse, Run, Step, MAX_COUNT,
};
pub use crate::sim::trezor::stream::{Answer, Outcome};
use crate::sim::trezor::verify::{self, Spend};

pub(super) fn output_script(seed: &Seed, coin: Coin, txo: &TxOutput) -> Step<ScriptBuf> {
    let st = txo.script_type.unwrap_or(OutputScriptType::PAYTOADDRESS);
    if st == OutputScriptType::PAYTOOPRETURN {
        if !txo.address_n.is_empty() || txo.address.is_some() {
            return fail(
                failure::DATA_ERROR,
                "Output's address_n provided but not expected.",
            );
        }
        if txo.amount != 0 {
            return fail(failure::DATA_ERROR, "OP_RETURN output with non-zero amount");
        }
        let data = txo.op_return_data.clone().unwrap_or_default();
        let pb = bitcoin::script::PushBytesBuf::try_from(data)
            .map_err(|_| Outcome::Fail((failure::DATA_ERROR, "OP_RETURN data too long".into())))?;
        return Ok(ScriptBuf::new_op_return(pb));
    }
    if !txo.address_n.is_empty() {
        let input_type = match st {
            OutputScriptType::PAYTOADDRESS => InputScriptType::SPENDADDRESS,
            OutputScriptType::PAYTOMULTISIG => InputScriptType::SPENDMULTISIG,
            OutputScriptType::PAYTOWITNESS => InputScriptType::SPENDWITNESS,
            OutputScriptType::PAYTOP2SHWITNESS => InputScriptType::SPENDP2SHWITNESS,
            OutputScriptType::PAYTOTAPROOT => InputScriptType::SPENDTAPROOT,
            _ => return fail(failure::DATA_ERROR, "Invalid script type"),
        };
        return keys::script_pubkey(
            seed,
            &path_of(&txo.address_n),
            input_type,
            txo.multisig.as_ref(),
        )
        .or_else(refuse);
    }
    match &txo.address {
        Some(a) => keys::script_of_address(a, coin).or_else(refuse),
        None => fail(failure::DATA_ERROR, "Missing address"),
    }
}

/// How a lying simulator signs (see [`Fault`](crate::sim::fault::Fault)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lies {
    /// Sign with a key the input does not use (`ForeignPubkey`).
    pub foreign_key: bool,
    /// Sign a sighash with a byte changed (`OtherSighash`).
    pub other_sighash: bool,
}

impl Lies {
    /// The message actually signed for the sighash `digest`.
    fn message(self, mut digest: [u8; 32]) -> Message {
        if self.other_sighash {
            digest[0] ^= 1;
        }
        Message::from_digest(digest)
    }
}

/// Replays signing of `tx` with `answers` (lying as `lies` says); every stop is an
/// [`Outcome`].
pub fn replay(seed: &Seed, tx: &SignTx, answers: &[Answer], lies: Lies) -> Outcome {
    let mut run = Run {
        seed,
        answers,
        cursor: 0,
        buf: Vec::new(),
        sig: None,
    };
    match flow(&mut run, tx, lies) {
        Ok(finished) | Err(finished) => finished,
    }
}

/// An input of the transaction being signed, as step 1 saw it.
struct In {
    txi: TxInput,
    spk: ScriptBuf,
    /// Not the device's (EXTERNAL).
    external: bool,
    /// External and already signed (scriptSig or witness given).
    presigned: bool,
    /// Has a witness (segwit or taproot, or a signed external input with a witness).
    segwit: bool,
}

/// The scriptPubKey an input spends: given for an external input, derived from the
/// seed for one of ours.
pub(super) fn input_script(seed: &Seed, txi: &TxInput) -> Step<ScriptBuf> {
    let st = txi.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
    if st == InputScriptType::EXTERNAL {
        return match &txi.script_pubkey {
            Some(spk) => Ok(ScriptBuf::from_bytes(spk.clone())),
            None => fail(failure::DATA_ERROR, "Missing script_pubkey field."),
        };
    }
    if txi.address_n.is_empty() {
        return fail(failure::DATA_ERROR, "Missing address_n field.");
    }
    keys::script_pubkey(seed, &path_of(&txi.address_n), st, txi.multisig.as_ref()).or_else(refuse)
}

fn non_empty(bytes: &Option<Vec<u8>>) -> bool {
    bytes.as_ref().is_some_and(|b| !b.is_empty())
}

/// Step 1 for one input: its script, and for an external input the proof that it is
/// not ours (a signature, checked in step 3, or a proof of ownership).
fn process_input(seed: &Seed, txi: TxInput) -> Step<In> {
    if txi.prev_hash.len() != 32 {
        return fail(failure::DATA_ERROR, "Provided prev_hash is invalid.");
    }
    let st = txi.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
    let external = st == InputScriptType::EXTERNAL;
    if external && !txi.address_n.is_empty() {
        return fail(
            failure::DATA_ERROR,
            "Input's address_n provided but not expected.",
        );
    }
    let spk = input_script(seed, &txi)?;
    let presigned = external && (non_empty(&txi.witness) || non_empty(&txi.script_sig));
    if external {
        match &txi.ownership_proof {
            Some(proof) => ownership::verify_nonownership(
                seed,
                proof,
                spk.as_bytes(),
                txi.commitment_data.as_deref().unwrap_or_default(),
            )
            .or_else(refuse)?,
            None if !presigned => {
                return fail(failure::DATA_ERROR, "Unverified external input.");
            }
            None => {}
        }
    }
    let segwit = if external {
        non_empty(&txi.witness)
    } else {
        is_segwit(txi.script_type)
    };
    Ok(In {
        txi,
        spk,
        external,
        presigned,
        segwit,
    })
}

/// Streams the inputs and outputs of the transaction again (the legacy digest) and
/// checks they did not change.
fn restream(run: &mut Run<'_>, ins: &[In], outs: &[(TxOutput, ScriptBuf)]) -> Step<()> {
    for (k, i) in ins.iter().enumerate() {
        if run.input(k as u32)? != i.txi {
            return changed();
        }
    }
    for (k, (o, _)) in outs.iter().enumerate() {
        if run.output(k as u32)? != *o {
            return changed();
        }
    }
    Ok(())
}

/// Step 3 for an already signed external input: its signature over this
/// transaction.
fn verify_presigned(
    run: &mut Run<'_>,
    i: usize,
    ins: &[In],
    outs: &[(TxOutput, ScriptBuf)],
    unsigned: &Transaction,
    prevouts: &[TxOut],
) -> Step<()> {
    let Some(input) = ins.get(i) else {
        return changed();
    };
    let spend = verify::parse(
        input.spk.as_bytes(),
        input.txi.script_sig.as_deref().unwrap_or_default(),
        input.txi.witness.as_deref().unwrap_or_default(),
    )
    .or_else(refuse)?;
    if matches!(spend, Spend::Legacy(_)) {
        restream(run, ins, outs)?;
    }
    let d = orig::digest(&spend, unsigned, prevouts, i, &input.spk)?;
    verify::check(run.seed, &spend, d).or_else(refuse)
}

fn flow(run: &mut Run<'_>, tx: &SignTx, lies: Lies) -> Step<Outcome> {
    let seed = run.seed;
    let coin = keys::coin_of(tx.coin_name.as_deref()).or_else(refuse)?;
    if tx.inputs_count == 0
        || tx.inputs_count > MAX_COUNT
        || tx.outputs_count == 0
        || tx.outputs_count > MAX_COUNT
    {
        return fail(failure::DATA_ERROR, "Invalid number of inputs or outputs");
    }
    // Step 1: inputs, and the replaced transactions' inputs they name.
    let mut ins: Vec<In> = Vec::new();
    let mut origs: Vec<Orig> = Vec::new();
    let mut change = ChangeDetector::default();
    let mut totals = Totals::default();
    for i in 0..tx.inputs_count {
        let txi = run.input(i)?;
        let input = process_input(seed, txi)?;
        if !input.external {
            change.add_input(&input.txi);
        }
        totals.add_input(&input.txi, input.external);
        if input.txi.orig_hash.is_some() {
            orig::process_input(run, &mut origs, &input.txi, &input.spk)?;
        }
        ins.push(input);
    }
    for o in &mut origs {
        if o.index != o.meta.inputs_count {
            return process_error("Removal of original inputs is not supported.");
        }
        o.index = 0;
    }
    // Only external inputs and taproot ones of ours: no previous transactions.
    let taproot_only = ins
        .iter()
        .all(|i| i.external || i.txi.script_type == Some(InputScriptType::SPENDTAPROOT));
    let any_segwit = ins.iter().any(|i| i.segwit);
    for o in &origs {
        let txid: String = o.hash.iter().map(|b| format!("{b:02x}")).collect();
        run.button(
            button::SIGN_TX,
            Some(Prompt::SignTransaction(format!(
                "replace transaction {txid}"
            ))),
        )?;
    }
    // Step 2: outputs, confirming the external ones.
    let mut outputs = Vec::new();
    for j in 0..tx.outputs_count {
        let txo = run.output(j)?;
        let spk = output_script(seed, coin, &txo)?;
        let is_change = change.is_change(&txo);
        let orig_txo = match txo.orig_hash {
            Some(_) => Some(orig::original_output(
                run,
                &mut origs,
                &txo,
                &spk,
                is_change,
                coin,
                &mut totals,
            )?),
            None => None,
        };
        totals.total_out = totals.total_out.saturating_add(txo.amount);
        if is_change {
            totals.change_out = totals.change_out.saturating_add(txo.amount);
        } else {
            let to = keys::address_of(&spk, coin).ok();
            let shown = to.clone().unwrap_or_else(|| "op_return".into());
            match &orig_txo {
                Some(o) if txo.amount < o.amount => {
                    run.button(
                        button::CONFIRM_OUTPUT,
                        Some(Prompt::SignTransaction(format!(
                            "reduce the payment to {shown} from {} to {} sat",
                            o.amount, txo.amount
                        ))),
                    )?;
                    run.button(button::CONFIRM_OUTPUT, None)?;
                }
                Some(_) => {}
                None => {
                    if !origs.is_empty() && txo.script_type == Some(OutputScriptType::PAYTOOPRETURN)
                    {
                        return process_error(
                            "Adding new OP_RETURN outputs in replacement transactions is not \
                             supported.",
                        );
                    }
                    run.button(
                        button::CONFIRM_OUTPUT,
                        Some(Prompt::SignTransaction(format!(
                            "send {} sat to {shown}",
                            txo.amount
                        ))),
                    )?;
                    // Core models show the amount on a second screen.
                    if to.is_some() {
                        run.button(button::CONFIRM_OUTPUT, None)?;
                    }
                }
            }
        }
        outputs.push((txo, spk));
    }
    orig::finish_outputs(run, &mut origs, coin, &mut totals)?;
    if totals.total_out > totals.total_in {
        return fail(failure::NOT_ENOUGH_FUNDS, "Not enough funds");
    }
    let fee = totals.total_in - totals.total_out;
    let lock_time = tx.lock_time.unwrap_or(0);
    if origs.is_empty() {
        run.button(
            button::SIGN_TX,
            Some(Prompt::SignTransaction(format!("fee {fee} sat"))),
        )?;
    } else {
        let sequences: Vec<u32> = ins
            .iter()
            .map(|i| i.txi.sequence.unwrap_or(0xffff_ffff))
            .collect();
        if orig::approve(&totals, &origs, lock_time, &sequences)? {
            run.button(
                button::SIGN_TX,
                Some(Prompt::SignTransaction(format!(
                    "fee {fee} sat (was {} sat)",
                    i128::from(totals.orig_total_in) - i128::from(totals.orig_total_out)
                ))),
            )?;
        }
    }
    // The unsigned transaction and the outputs it spends, for the sighashes.
    let unsigned = Transaction {
        version: transaction::Version(tx.version.unwrap_or(1) as i32),
        lock_time: absolute::LockTime::from_consensus(lock_time),
        input: ins
            .iter()
            .map(|i| {
                let mut h = [0u8; 32];
                h.copy_from_slice(&i.txi.prev_hash);
                h.reverse();
                TxIn {
                    previous_output: OutPoint::new(Txid::from_byte_array(h), i.txi.prev_index),
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence(i.txi.sequence.unwrap_or(0xffff_ffff)),
                    witness: Witness::new(),
                }
            })
            .collect(),
        output: outputs
            .iter()
            .map(|(t, spk)| TxOut {
                value: Amount::from_sat(t.amount),
                script_pubkey: spk.clone(),
            })
            .collect(),
    };
    let prevouts: Vec<TxOut> = ins
        .iter()
        .map(|i| TxOut {
            value: Amount::from_sat(i.txi.amount),
            script_pubkey: i.spk.clone(),
        })
        .collect();
    // Step 3: previous transactions (unless only taproot inputs of ours), signed
    // external inputs, replaced transactions.
    for (i, input) in ins.iter().enumerate() {
        if taproot_only && !input.presigned {
            continue;
        }
        let txi = run.input(i as u32)?;
        if txi != input.txi {
            return changed();
        }
        if !taproot_only {
            let (amount, prev_spk) = run.prevtx_output(&txi.prev_hash, txi.prev_index)?;
            if amount != txi.amount {
                return fail(failure::DATA_ERROR, "Invalid amount specified");
            }
            if prev_spk != input.spk.as_bytes() {
                return fail(failure::DATA_ERROR, "Input does not match scriptPubKey");
            }
        }
        if input.presigned {
            verify_presigned(run, i, &ins, &outputs, &unsigned, &prevouts)?;
        }
    }
    orig::verify_originals(run, &origs, seed)?;
    let secp = seed.secp();
    // Step 4: serialize inputs, signing the legacy ones.
    run.buf.extend_from_slice(&unsigned.version.0.to_le_bytes());
    if any_segwit {
        run.buf.extend_from_slice(&[0, 1]);
    }
    write_varint(&mut run.buf, u64::from(tx.inputs_count));
    for (i, input) in ins.iter().enumerate() {
        let orig = &input.txi;
        if input.external {
            let txi = run.input(i as u32)?;
            if txi != *orig {
                return changed();
            }
            write_input(
                &mut run.buf,
                orig,
                orig.script_sig.as_deref().unwrap_or_default(),
            );
            continue;
        }
        let path = signing_path(orig, lies.foreign_key);
        if input.segwit {
            let txi = run.input(i as u32)?;
            if txi != *orig {
                return changed();
            }
            let mut script_sig = Vec::new();
            let ms = multisig_input(seed, orig)?;
            if let (Some(InputScriptType::SPENDP2SHWITNESS), Some(ms)) = (orig.script_type, &ms) {
                push(&mut script_sig, ms.script.to_p2wsh().as_bytes());
            } else if orig.script_type == Some(InputScriptType::SPENDP2SHWITNESS) {
                let sk = keys::secret(seed, &path).or_else(refuse)?;
                let pk = bitcoin::CompressedPublicKey(sk.public_key(secp));
                push(
                    &mut script_sig,
                    ScriptBuf::new_p2wpkh(&pk.wpubkey_hash()).as_bytes(),
                );
            }
            write_input(&mut run.buf, orig, &script_sig);
        } else {
            if taproot_only {
                return changed();
            }
            restream(run, &ins, &outputs)?;
            let sk = keys::secret(seed, &path).or_else(refuse)?;
            let pk = sk.public_key(secp);
            let ms = multisig_input(seed, orig)?;
            let code = ms.as_ref().map_or(&input.spk, |m| &m.script);
            let hash = SighashCache::new(&unsigned)
                .legacy_signature_hash(i, code, EcdsaSighashType::All.to_u32())
                .map_err(|_| Outcome::Fail((failure::PROCESS_ERROR, "Sighash failed".into())))?;
            let sig = secp
                .sign_ecdsa(&lies.message(hash.to_byte_array()), &sk)
                .serialize_der()
                .to_vec();
            let script_sig = match &ms {
                Some(ms) => scripts::script_sig(ms, &sig),
                None => {
                    let mut script_sig = Vec::new();
                    let mut with_type = sig.clone();
                    with_type.push(0x01);
                    push(&mut script_sig, &with_type);
                    push(&mut script_sig, &pk.serialize());
                    script_sig
                }
            };
            write_input(&mut run.buf, orig, &script_sig);
            run.sig = Some((i as u32, sig));
        }
    }
    // Step 5: serialize outputs.
    write_varint(&mut run.buf, u64::from(tx.outputs_count));
    for (j, (orig, spk)) in outputs.iter().enumerate() {
        let txo = run.output(j as u32)?;
        if txo != *orig {
            return changed();
        }
        run.buf.extend_from_slice(&orig.amount.to_le_bytes());
        push(&mut run.buf, spk.as_bytes());
    }
    // Step 6: sign segwit inputs, write witnesses.
    if any_segwit {
        let mut cache = SighashCache::new(&unsigned);
        for (i, input) in ins.iter().enumerate() {
            let orig = &input.txi;
            if !input.segwit {
                run.buf.push(0);
                continue;
            }
            if input.external {
                let txi = run.input(i as u32)?;
                if txi != *orig {
                    return changed();
                }
                match orig.witness.as_deref() {
                    Some(w) if !w.is_empty() => run.buf.extend_from_slice(w),
                    _ => run.buf.push(0),
                }
                continue;
            }
            let txi = run.input(i as u32)?;
            if txi != *orig {
                return changed();
            }
            let path = signing_path(orig, lies.foreign_key);
            if orig.script_type == Some(InputScriptType::SPENDTAPROOT) {
                let kp = keys::taproot_keypair(seed, &path).or_else(refuse)?;
                let hash = cache
                    .taproot_key_spend_signature_hash(
                        i,
                        &Prevouts::All(&prevouts),
                        TapSighashType::Default,
                    )
                    .map_err(|_| {
                        Outcome::Fail((failure::PROCESS_ERROR, "Sighash failed".into()))
                    })?;
                let sig = secp.sign_schnorr_no_aux_rand(&lies.message(hash.to_byte_array()), &kp);
                run.buf.push(1);
                push(&mut run.buf, sig.as_ref());
                run.sig = Some((i as u32, sig.as_ref().to_vec()));
            } else {
                if taproot_only {
                    return changed();
                }
                let sk = keys::secret(seed, &path).or_else(refuse)?;
                let pk = bitcoin::CompressedPublicKey(sk.public_key(secp));
                let ms = multisig_input(seed, orig)?;
                let amount = Amount::from_sat(orig.amount);
                let hash = match &ms {
                    Some(ms) => cache
                        .p2wsh_signature_hash(i, &ms.script, amount, EcdsaSighashType::All)
                        .ok(),
                    None => {
                        let code = ScriptBuf::new_p2wpkh(&pk.wpubkey_hash());
                        cache
                            .p2wpkh_signature_hash(i, &code, amount, EcdsaSighashType::All)
                            .ok()
                    }
                }
                .ok_or_else(|| Outcome::Fail((failure::PROCESS_ERROR, "Sighash failed".into())))?;
                let sig = secp
                    .sign_ecdsa(&lies.message(hash.to_byte_array()), &sk)
                    .serialize_der()
                    .to_vec();
                match &ms {
                    Some(ms) => run.buf.extend_from_slice(&scripts::witness(ms, &sig)),
                    None => {
                        let mut with_type = sig.clone();
                        with_type.push(0x01);
                        run.buf.push(2);
                        push(&mut run.buf, &with_type);
                        push(&mut run.buf, &pk.to_bytes());
                    }
                }
                run.sig = Some((i as u32, sig));
            }
        }
    }
    // Step 7: footer, finish.
    run.buf
        .extend_from_slice(&unsigned.lock_time.to_consensus_u32().to_le_bytes());
    let sig = run.sig.take();
    Ok(Outcome::Finished(TxRequest {
        request_type: Some(request_type::TXFINISHED),
        details: Some(TxRequestDetailsType::default()),
        serialized: Some(TxRequestSerializedType {
            signature_index: sig.as_ref().map(|s| s.0),
            signature: sig.map(|s| s.1),
            serialized_tx: Some(core::mem::take(&mut run.buf)),
        }),
    }))
}

fn write_input(out: &mut Vec<u8>, txi: &TxInput, script_sig: &[u8]) {
    out.extend(txi.prev_hash.iter().rev());
    out.extend_from_slice(&txi.prev_index.to_le_bytes());
    push(out, script_sig);
    out.extend_from_slice(&txi.sequence.unwrap_or(0xffff_ffff).to_le_bytes());
}

/// The key path an input is signed with: its own, or (fault `ForeignPubkey`) a key the
/// input does not use.
fn signing_path(txi: &TxInput, foreign_key: bool) -> bitcoin::bip32::DerivationPath {
    let path = path_of(&txi.address_n);
    if foreign_key {
        path.child(bitcoin::bip32::ChildNumber::Normal { index: 7 })
    } else {
        path
    }
}
