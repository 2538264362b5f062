//! From a PSBT to what SignTx streams: the inputs (script type and signing path of
//! each), the outputs (change by path, others by address, OP_RETURN as such) and the
//! previous transactions, decided as a careful wallet would.

use std::collections::BTreeMap;

use bitcoin::bip32::{DerivationPath, Fingerprint};
use bitcoin::blockdata::opcodes::all::OP_RETURN;
use bitcoin::blockdata::script::Instruction;
use bitcoin::hashes::Hash;
use bitcoin::key::{Secp256k1, XOnlyPublicKey};
use bitcoin::psbt::{Input, Output, Psbt};
use bitcoin::{Script, ScriptBuf, Transaction, TxOut, Txid};

use crate::error::{Error, Result};
use crate::protocol::psbt::change::{self, SingleKey};
use crate::protocol::psbt::sighash;
use crate::protocol::trezor::btc::keys::{address_n, Coin};
use crate::protocol::trezor::btc::multisig::{multisig_of, multisig_type};
use crate::protocol::trezor::messages::{
    InputScriptType, MultisigRedeemScriptType, OutputScriptType, TxInput, TxOutput,
};

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
    /// taproot output key.
    pub signers: Vec<Signer>,
}

/// Which key signs an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// ECDSA by this key.
    Ecdsa(bitcoin::PublicKey),
    /// Schnorr, key path, by this output key.
    TapKey(XOnlyPublicKey),
}

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

/// The script type (and multisig description) of an input spending `spk`, from the
/// scripts the PSBT gives.
fn input_kind(
    index: usize,
    input: &Input,
    spk: &Script,
) -> Result<(i32, Option<MultisigRedeemScriptType>)> {
    if spk.is_p2pkh() {
        return Ok((InputScriptType::SPENDADDRESS, None));
    }
    if spk.is_p2wpkh() {
        return Ok((InputScriptType::SPENDWITNESS, None));
    }
    if spk.is_p2tr() {
        return Ok((InputScriptType::SPENDTAPROOT, None));
    }
    let from_ws = |what: &str| -> Result<(u32, Vec<bitcoin::PublicKey>)> {
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
        let (m, keys) = from_ws("p2wsh")?;
        return Ok((InputScriptType::SPENDWITNESS, Some(multisig_type(m, &keys))));
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
            let (m, keys) = from_ws("p2sh-p2wsh")?;
            return Ok((
                InputScriptType::SPENDP2SHWITNESS,
                Some(multisig_type(m, &keys)),
            ));
        }
        if let Some((m, keys)) = multisig_of(rs) {
            return Ok((
                InputScriptType::SPENDMULTISIG,
                Some(multisig_type(m, &keys)),
            ));
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

/// Builds the SignTx plan of `psbt` for the device whose master fingerprint is `fpr`.
///
/// # Errors
/// `unsupported` naming the input when an input is not ours, has a script a Trezor
/// cannot sign, or asks for another sighash than ALL / DEFAULT (the firmware signs no
/// other); `invalid-input` naming the input or output when the PSBT lacks what
/// signing needs (a utxo, the previous transaction of a non-taproot spend, scripts).
pub fn build(psbt: &Psbt, fpr: Fingerprint, coin: Option<Coin>) -> Result<Plan> {
    let tx = &psbt.unsigned_tx;
    let secp = Secp256k1::verification_only();
    let mut inputs = Vec::new();
    let mut signers = Vec::new();
    let mut first_path = None;
    for (index, (txin, input)) in tx.input.iter().zip(&psbt.inputs).enumerate() {
        if !sighash::is_default(psbt, index) {
            return Err(Error::Unsupported(format!(
                "input {index} asks for sighash {}: trezor firmware signs only sighash all \
                 (default for taproot)",
                sighash::name(psbt, index)
            )));
        }
        let out = utxo(index, psbt)?;
        let (script_type, multisig) = input_kind(index, input, &out.script_pubkey)?;
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
                    .map_err(|e| bad(index, e.to_string().to_lowercase()))?;
                    (path.clone(), Signer::TapKey(output_key))
                }
                _ => {
                    return Err(Error::Unsupported(format!(
                        "input {index} is not this trezor's (no taproot key origin with \
                         fingerprint {fpr})"
                    )))
                }
            }
        } else {
            let (key, path) = ours_ecdsa(input, fpr).ok_or_else(|| {
                Error::Unsupported(format!(
                    "input {index} is not this trezor's (no bip32 derivation with \
                     fingerprint {fpr})"
                ))
            })?;
            if let Some(ms) = &multisig {
                let listed = ms.pubkeys.iter().any(|p| {
                    p.node.as_ref().map(|n| n.public_key.as_slice()) == Some(&key.to_bytes()[..])
                });
                if !listed {
                    return Err(bad(index, "our key is not in its multisig script"));
                }
            }
            (path, Signer::Ecdsa(key))
        };
        first_path.get_or_insert_with(|| path.clone());
        inputs.push(TxInput {
            address_n: address_n(&path),
            prev_hash: display_order(&txin.previous_output.txid),
            prev_index: txin.previous_output.vout,
            script_sig: None,
            sequence: Some(txin.sequence.0),
            script_type: Some(script_type),
            multisig,
            amount: out.value.to_sat(),
            witness: None,
            script_pubkey: None,
        });
        signers.push(signer);
    }
    let all_taproot = inputs
        .iter()
        .all(|i| i.script_type == Some(InputScriptType::SPENDTAPROOT));
    let mut prev_txs = BTreeMap::new();
    for (index, (txin, input)) in tx.input.iter().zip(&psbt.inputs).enumerate() {
        match &input.non_witness_utxo {
            Some(prev) => {
                prev_txs.insert(txin.previous_output.txid, prev.clone());
            }
            None if all_taproot => {}
            None => {
                return Err(bad(
                    index,
                    "no non-witness utxo: a trezor needs the previous transaction of every \
                     input unless all inputs are taproot",
                ))
            }
        }
    }
    let coin = coin.unwrap_or_else(|| first_path.as_ref().map(Coin::from_path).unwrap_or_default());
    let mut outputs = Vec::new();
    for (index, (txout, output)) in tx.output.iter().zip(&psbt.outputs).enumerate() {
        let spk = &txout.script_pubkey;
        let amount = txout.value.to_sat();
        let out = if let Some(data) = op_return_data(spk) {
            TxOutput {
                amount,
                script_type: Some(OutputScriptType::PAYTOOPRETURN),
                op_return_data: Some(data),
                ..Default::default()
            }
        } else if let Some((script_type, path)) = change_kind(output, spk, fpr) {
            TxOutput {
                address_n: address_n(&path),
                amount,
                script_type: Some(script_type),
                ..Default::default()
            }
        } else {
            let address = bitcoin::Address::from_script(spk, coin.network()).map_err(|_| {
                Error::invalid(
                    format!("output {index}"),
                    format!("script {} has no address", spk.to_hex_string()),
                )
            })?;
            TxOutput {
                address: Some(address.to_string()),
                amount,
                script_type: Some(OutputScriptType::PAYTOADDRESS),
                ..Default::default()
            }
        };
        outputs.push(out);
    }
    Ok(Plan {
        coin,
        version: tx.version.0 as u32,
        lock_time: tx.lock_time.to_consensus_u32(),
        inputs,
        outputs,
        prev_txs,
        signers,
    })
}

/// A txid as Trezor takes it: display (reversed) byte order.
pub fn display_order(txid: &bitcoin::Txid) -> Vec<u8> {
    txid.to_byte_array().iter().rev().copied().collect()
}
