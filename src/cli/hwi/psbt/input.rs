//! An input map as HWI reads and writes it.

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::{Transaction, TxOut};

use super::wire::{
    hd_keypath, key_type, read_tap_origin, sorted, u32_value, write_pair, write_tap_origin,
};
use super::{ser_error, Input};
use crate::cli::hwi::errors::HwiError;

impl Input {
    pub(super) fn parse(pairs: Vec<(Vec<u8>, Vec<u8>)>, version: u32) -> Result<Input, HwiError> {
        let mut i = Input::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for (key, value) in pairs {
            let dup = seen.contains(&key);
            let single = key.len() == 1;
            let check = |what: &str, long: &str| -> Result<(), HwiError> {
                if dup {
                    Err(ser_error(format!(
                        "Duplicate Key, input {what} already provided"
                    )))
                } else if !single {
                    Err(ser_error(long.to_string()))
                } else {
                    Ok(())
                }
            };
            match key_type(&key) {
                0x00 => {
                    check(
                        "non witness utxo",
                        "non witness utxo key is more than one byte type",
                    )?;
                    let (tx, _) = deserialize_partial::<Transaction>(&value)
                        .map_err(|e| HwiError::other(e.to_string()))?;
                    i.non_witness_utxo = Some(tx);
                }
                0x01 => {
                    check(
                        "witness utxo",
                        "witness utxo key is more than one byte type",
                    )?;
                    let (out, _) = deserialize_partial::<TxOut>(&value)
                        .map_err(|e| HwiError::other(e.to_string()))?;
                    i.witness_utxo = Some(out);
                }
                0x02 => {
                    if key.len() != 34 && key.len() != 66 {
                        return Err(ser_error("Size of key was not the expected size for the type partial signature pubkey"));
                    }
                    let pk = key.get(1..).unwrap_or(&[]).to_vec();
                    if i.partial_sigs.iter().any(|(k, _)| *k == pk) {
                        return Err(ser_error(
                            "Duplicate key, input partial signature for pubkey already provided",
                        ));
                    }
                    i.partial_sigs.push((pk, value));
                }
                0x03 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, input sighash type already provided",
                        ));
                    } else if !single {
                        return Err(ser_error("sighash key is more than one byte type"));
                    }
                    i.sighash = Some(u32_value(&value, "unpack requires a buffer of 4 bytes")?);
                }
                0x04 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, input redeemScript already provided",
                        ));
                    } else if !single {
                        return Err(ser_error("redeemScript key is more than one byte type"));
                    }
                    i.redeem_script = value;
                }
                0x05 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, input witnessScript already provided",
                        ));
                    } else if !single {
                        return Err(ser_error("witnessScript key is more than one byte type"));
                    }
                    i.witness_script = value;
                }
                0x06 => hd_keypath(&key, &value, &mut i.hd_keypaths, &[34, 66])?,
                0x07 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, input final scriptSig already provided",
                        ));
                    } else if !single {
                        return Err(ser_error("final scriptSig key is more than one byte type"));
                    }
                    i.final_script_sig = value;
                }
                0x08 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, input final scriptWitness already provided",
                        ));
                    } else if !single {
                        return Err(ser_error(
                            "final scriptWitness key is more than one byte type",
                        ));
                    }
                    let (w, _) = deserialize_partial::<bitcoin::Witness>(&value)
                        .map_err(|e| HwiError::other(e.to_string()))?;
                    i.final_script_witness = w.iter().map(<[u8]>::to_vec).collect();
                }
                0x0e => {
                    if value.len() != 32 {
                        return Err(ser_error("Previous txid is not 32 bytes"));
                    }
                    i.prev_txid = value;
                }
                0x0f => {
                    i.prev_out = Some(u32_value(&value, "Previous output index is not 4 bytes")?)
                }
                0x10 => i.sequence = Some(u32_value(&value, "Input sequence is not 4 bytes")?),
                0x11 => {
                    i.time_locktime = Some(u32_value(
                        &value,
                        "Input time based locktime is not 4 bytes",
                    )?)
                }
                0x12 => {
                    i.height_locktime = Some(u32_value(
                        &value,
                        "Input height based locktime is not 4 bytes",
                    )?)
                }
                0x13 => {
                    if value.len() < 64 {
                        return Err(ser_error(
                            "Input Taproot key path signature is shorter than 64 bytes",
                        ));
                    } else if value.len() > 65 {
                        return Err(ser_error(
                            "Input Taproot key path signature is longer than 65 bytes",
                        ));
                    }
                    i.tap_key_sig = value;
                }
                0x14 => {
                    if key.len() != 65 {
                        return Err(ser_error(
                            "Input Taproot script signature key is not 65 bytes",
                        ));
                    }
                    let xonly = key.get(1..33).unwrap_or(&[]).to_vec();
                    let leaf = key.get(33..65).unwrap_or(&[]).to_vec();
                    let id = (xonly, leaf);
                    match i.tap_script_sigs.iter_mut().find(|(k, _)| *k == id) {
                        Some(e) => e.1 = value,
                        None => i.tap_script_sigs.push((id, value)),
                    }
                }
                0x15 => {
                    if key.len() < 34 {
                        return Err(ser_error(
                            "Input Taproot leaf script key is not at least 34 bytes",
                        ));
                    } else if (key.len() - 2) % 32 != 0 {
                        return Err(ser_error(
                            "Input Taproot leaf script key's control block is not valid",
                        ));
                    }
                    let Some((ver, script)) = value.split_last() else {
                        return Err(ser_error("Input Taproot leaf script cannot be empty"));
                    };
                    let id = (script.to_vec(), *ver);
                    let cb = key.get(1..).unwrap_or(&[]).to_vec();
                    match i.tap_scripts.iter_mut().find(|(k, _)| *k == id) {
                        Some(e) => {
                            if !e.1.contains(&cb) {
                                e.1.push(cb);
                            }
                        }
                        None => i.tap_scripts.push((id, vec![cb])),
                    }
                }
                0x16 => {
                    if key.len() != 33 {
                        return Err(ser_error(
                            "Input Taproot BIP 32 keypath key is not 33 bytes",
                        ));
                    }
                    let xonly = key.get(1..).unwrap_or(&[]).to_vec();
                    let (hashes, origin) = read_tap_origin(&value);
                    match i.tap_bip32_paths.iter_mut().find(|(k, _, _)| *k == xonly) {
                        Some(e) => {
                            e.1 = hashes;
                            e.2 = origin;
                        }
                        None => i.tap_bip32_paths.push((xonly, hashes, origin)),
                    }
                }
                0x17 => {
                    if value.len() != 32 {
                        return Err(ser_error("Input Taproot internal key is not 32 bytes"));
                    }
                    i.tap_internal_key = value;
                }
                0x18 => {
                    if value.len() != 32 {
                        return Err(ser_error("Input Taproot merkle root is not 32 bytes"));
                    }
                    i.tap_merkle_root = value;
                }
                t @ (0x1a..=0x1c) => i.musig2.push((t as u8, key.clone(), value)),
                _ => {
                    if i.unknown.iter().any(|(k, _)| *k == key) {
                        return Err(ser_error(
                            "Duplicate key, key for unknown value already provided",
                        ));
                    }
                    i.unknown.push((key.clone(), value));
                }
            }
            seen.push(key);
        }
        if version >= 2 {
            if i.prev_txid.is_empty() {
                return Err(ser_error("Previous TXID is required in PSBTv2"));
            }
            if i.prev_out.is_none() {
                return Err(ser_error("Previous output's index is required in PSBTv2"));
            }
        }
        Ok(i)
    }

    pub(super) fn write(&self, version: u32, out: &mut Vec<u8>) {
        if let Some(tx) = &self.non_witness_utxo {
            write_pair(out, &[0x00], &serialize(tx));
        }
        if let Some(txo) = &self.witness_utxo {
            write_pair(out, &[0x01], &serialize(txo));
        }
        if self.final_script_sig.is_empty() && self.final_script_witness.is_empty() {
            for (pk, sig) in sorted(&self.partial_sigs, |(k, _)| k.clone()) {
                write_pair(out, &[[0x02].as_slice(), &pk].concat(), &sig);
            }
            if let Some(s) = self.sighash {
                write_pair(out, &[0x03], &s.to_le_bytes());
            }
            if !self.redeem_script.is_empty() {
                write_pair(out, &[0x04], &self.redeem_script);
            }
            if !self.witness_script.is_empty() {
                write_pair(out, &[0x05], &self.witness_script);
            }
            for (pk, origin) in sorted(&self.hd_keypaths, |(k, _)| k.clone()) {
                write_pair(out, &[[0x06].as_slice(), &pk].concat(), &origin.write());
            }
            if !self.tap_key_sig.is_empty() {
                write_pair(out, &[0x13], &self.tap_key_sig);
            }
            for ((xonly, leaf), sig) in &self.tap_script_sigs {
                write_pair(out, &[[0x14].as_slice(), xonly, leaf].concat(), sig);
            }
            for ((script, ver), cbs) in &self.tap_scripts {
                for cb in cbs {
                    let mut v = script.clone();
                    v.push(*ver);
                    write_pair(out, &[[0x15].as_slice(), cb].concat(), &v);
                }
            }
            for (xonly, hashes, origin) in &self.tap_bip32_paths {
                write_pair(
                    out,
                    &[[0x16].as_slice(), xonly].concat(),
                    &write_tap_origin(hashes, origin),
                );
            }
            if !self.tap_internal_key.is_empty() {
                write_pair(out, &[0x17], &self.tap_internal_key);
            }
            if !self.tap_merkle_root.is_empty() {
                write_pair(out, &[0x18], &self.tap_merkle_root);
            }
        }
        if !self.final_script_sig.is_empty() {
            write_pair(out, &[0x07], &self.final_script_sig);
        }
        if !self.final_script_witness.is_empty() {
            let w = bitcoin::Witness::from_slice(&self.final_script_witness);
            write_pair(out, &[0x08], &serialize(&w));
        }
        for t in [0x1a, 0x1b, 0x1c] {
            for (_, key, value) in self.musig2.iter().filter(|(tt, _, _)| *tt == t) {
                write_pair(out, key, value);
            }
        }
        if version >= 2 {
            if !self.prev_txid.is_empty() {
                write_pair(out, &[0x0e], &self.prev_txid);
            }
            if let Some(v) = self.prev_out {
                write_pair(out, &[0x0f], &v.to_le_bytes());
            }
            if let Some(v) = self.sequence {
                write_pair(out, &[0x10], &v.to_le_bytes());
            }
            if let Some(v) = self.time_locktime {
                write_pair(out, &[0x11], &v.to_le_bytes());
            }
            if let Some(v) = self.height_locktime {
                write_pair(out, &[0x12], &v.to_le_bytes());
            }
        }
        for (k, v) in sorted(&self.unknown, |(k, _)| k.clone()) {
            write_pair(out, &k, &v);
        }
        out.push(0x00);
    }

    /// The spent output: `witness_utxo`, or the `non_witness_utxo`'s output (which
    /// HWI prefers when both are there).
    pub fn utxo(&self) -> Option<TxOut> {
        if let (Some(tx), Some(n)) = (&self.non_witness_utxo, self.prev_out) {
            if let Some(o) = tx.output.get(n as usize) {
                return Some(o.clone());
            }
        }
        self.witness_utxo.clone()
    }
}
