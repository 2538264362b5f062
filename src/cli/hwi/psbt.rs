//! PSBTs as HWI holds them (`hwilib/psbt.py`): parsed into its fields, with its error
//! texts, and written back in HWI's fixed order (sorted signatures, derivations and
//! unknown keys; taproot maps in the order they were read). `signtx` prints this
//! serialization and compares it with the text it was given, so the bytes must be
//! HWI's.

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::{Transaction, TxOut};

use super::errors::{HwiError, INVALID_TX};
use crate::protocol::bytes::write_varint;

fn ser_error(message: impl Into<String>) -> HwiError {
    HwiError::new(message, INVALID_TX)
}

/// Taproot script signatures: (x-only key, leaf hash) and the signature.
pub type TapScriptSigs = Vec<((Vec<u8>, Vec<u8>), Vec<u8>)>;
/// Leaf scripts: (script, leaf version) and their control blocks.
pub type TapScripts = Vec<((Vec<u8>, u8), Vec<Vec<u8>>)>;

/// A key origin as PSBTs store it: fingerprint, then little-endian indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Master fingerprint.
    pub fingerprint: [u8; 4],
    /// Path.
    pub path: Vec<u32>,
}

impl Origin {
    fn read(v: &[u8]) -> Origin {
        let mut fingerprint = [0u8; 4];
        for (d, s) in fingerprint.iter_mut().zip(v) {
            *d = *s;
        }
        let path = v
            .get(4..)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b.copy_from_slice(c);
                u32::from_le_bytes(b)
            })
            .collect();
        Origin { fingerprint, path }
    }

    fn write(&self) -> Vec<u8> {
        let mut out = self.fingerprint.to_vec();
        for i in &self.path {
            out.extend_from_slice(&i.to_le_bytes());
        }
        out
    }
}

/// One input map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    /// The previous transaction.
    pub non_witness_utxo: Option<Transaction>,
    /// The spent output.
    pub witness_utxo: Option<TxOut>,
    /// Partial signatures by public key.
    pub partial_sigs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Sighash type.
    pub sighash: Option<u32>,
    /// Redeem script (empty: none).
    pub redeem_script: Vec<u8>,
    /// Witness script (empty: none).
    pub witness_script: Vec<u8>,
    /// BIP-32 derivations by public key.
    pub hd_keypaths: Vec<(Vec<u8>, Origin)>,
    /// Final scriptSig.
    pub final_script_sig: Vec<u8>,
    /// Final witness stack.
    pub final_script_witness: Vec<Vec<u8>>,
    /// Previous txid (v2; filled from the transaction for v0).
    pub prev_txid: Vec<u8>,
    /// Previous output index.
    pub prev_out: Option<u32>,
    /// Sequence.
    pub sequence: Option<u32>,
    /// Required time lock.
    pub time_locktime: Option<u32>,
    /// Required height lock.
    pub height_locktime: Option<u32>,
    /// Taproot key-path signature.
    pub tap_key_sig: Vec<u8>,
    /// Taproot script-path signatures by (x-only key, leaf hash), in reading order.
    pub tap_script_sigs: TapScriptSigs,
    /// Leaf scripts (script, leaf version) and their control blocks.
    pub tap_scripts: TapScripts,
    /// Taproot derivations: x-only key, leaf hashes and origin.
    pub tap_bip32_paths: Vec<(Vec<u8>, Vec<Vec<u8>>, Origin)>,
    /// Taproot internal key.
    pub tap_internal_key: Vec<u8>,
    /// Taproot merkle root.
    pub tap_merkle_root: Vec<u8>,
    /// MuSig2 participants, nonces and partial signatures (kept as read).
    pub musig2: Vec<(u8, Vec<u8>, Vec<u8>)>,
    /// Unknown keys.
    pub unknown: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One output map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Redeem script.
    pub redeem_script: Vec<u8>,
    /// Witness script.
    pub witness_script: Vec<u8>,
    /// BIP-32 derivations.
    pub hd_keypaths: Vec<(Vec<u8>, Origin)>,
    /// Amount (v2; filled for v0).
    pub amount: Option<i64>,
    /// Script (v2; filled for v0).
    pub script: Vec<u8>,
    /// Taproot internal key.
    pub tap_internal_key: Vec<u8>,
    /// Taproot tree.
    pub tap_tree: Vec<u8>,
    /// Taproot derivations.
    pub tap_bip32_paths: Vec<(Vec<u8>, Vec<Vec<u8>>, Origin)>,
    /// MuSig2 participants.
    pub musig2: Vec<(Vec<u8>, Vec<u8>)>,
    /// Unknown keys.
    pub unknown: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A PSBT as HWI holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Psbt {
    /// 0 or 2.
    pub version: u32,
    /// Whether PSBT_GLOBAL_VERSION was present.
    pub explicit_version: bool,
    /// The unsigned transaction (v0).
    pub tx: Option<Transaction>,
    /// Global xpubs (serialized key, origin).
    pub xpubs: Vec<(Vec<u8>, Origin)>,
    /// Transaction version (v2; filled for v0).
    pub tx_version: Option<u32>,
    /// Fallback lock time.
    pub fallback_locktime: Option<u32>,
    /// Modifiable flags.
    pub tx_modifiable: Option<u8>,
    /// Unknown global keys.
    pub unknown: Vec<(Vec<u8>, Vec<u8>)>,
    /// Inputs.
    pub inputs: Vec<Input>,
    /// Outputs.
    pub outputs: Vec<Output>,
}

/// Python's lenient `base64.b64decode`: characters outside the alphabet are skipped.
///
/// # Errors
/// `binascii.Error` texts (code -13).
pub fn b64decode(text: &str) -> Result<Vec<u8>, HwiError> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut data: Vec<u8> = Vec::new();
    let mut pads = 0usize;
    for b in text.trim().bytes() {
        if b == b'=' {
            pads += 1;
            if (data.len() + pads) % 4 == 0 || data.len() % 4 == 0 && pads > 0 {
                // Python stops at the padding that completes a quad.
                if (data.len() + pads) % 4 == 0 {
                    break;
                }
            }
            continue;
        }
        if let Some(v) = ALPHABET.iter().position(|a| *a == b) {
            if pads > 0 {
                pads = 0;
            }
            data.push(v as u8);
        }
    }
    if data.len() % 4 == 1 {
        return Err(HwiError::other(format!(
            "Invalid base64-encoded string: number of data characters ({}) cannot be 1 more than a multiple of 4",
            data.len()
        )));
    }
    if data.len() % 4 != 0 && (data.len() + pads) % 4 != 0 {
        return Err(HwiError::other("Incorrect padding"));
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | (u32::from(*d) << (18 - 6 * i)));
        let bytes = v.to_be_bytes();
        out.extend_from_slice(bytes.get(1..chunk.len()).unwrap_or(&[]));
    }
    Ok(out)
}

/// Standard base64 with padding.
pub fn b64encode(bytes: &[u8]) -> String {
    crate::protocol::psbt::raw::encode_base64(bytes)
}

/// Reads one map's key-value pairs as HWI's loop does: the map ends at an empty key or
/// where the bytes end.
fn read_pairs(data: &[u8], pos: &mut usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pairs = Vec::new();
    while let Some(key) = read_string(data, pos) {
        if key.is_empty() {
            break;
        }
        let value = read_string(data, pos).unwrap_or_default();
        pairs.push((key, value));
    }
    pairs
}

fn read_compact(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    *pos += 1;
    let n = match first {
        0xfd => 2,
        0xfe => 4,
        0xff => 8,
        v => return Some(u64::from(v)),
    };
    let bytes = data.get(*pos..*pos + n)?;
    *pos += n;
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(*b) << (8 * i);
    }
    Some(v)
}

/// `deser_string`: a length then up to that many bytes (Python's read is short at the
/// end, never an error).
fn read_string(data: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let n = usize::try_from(read_compact(data, pos)?).ok()?;
    let end = pos.saturating_add(n).min(data.len());
    let s = data.get(*pos..end)?.to_vec();
    *pos = end;
    Some(s)
}

fn key_type(key: &[u8]) -> u64 {
    let mut p = 0;
    read_compact(key, &mut p).unwrap_or(0)
}

fn u32_value(v: &[u8], what: &str) -> Result<u32, HwiError> {
    let b: [u8; 4] = v.try_into().map_err(|_| ser_error(what.to_string()))?;
    Ok(u32::from_le_bytes(b))
}

fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn write_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    write_string(out, key);
    write_string(out, value);
}

fn read_tap_origin(value: &[u8]) -> (Vec<Vec<u8>>, Origin) {
    let mut p = 0;
    let n = read_compact(value, &mut p).unwrap_or(0);
    let mut hashes: Vec<Vec<u8>> = Vec::new();
    for _ in 0..n {
        let end = (p + 32).min(value.len());
        let h = value.get(p..end).unwrap_or(&[]).to_vec();
        p = end;
        if !hashes.contains(&h) {
            hashes.push(h);
        }
    }
    (hashes, Origin::read(value.get(p..).unwrap_or(&[])))
}

fn write_tap_origin(hashes: &[Vec<u8>], origin: &Origin) -> Vec<u8> {
    let mut v = Vec::new();
    write_varint(&mut v, hashes.len() as u64);
    for h in hashes {
        v.extend_from_slice(h);
    }
    v.extend_from_slice(&origin.write());
    v
}

fn hd_keypath(
    key: &[u8],
    value: &[u8],
    paths: &mut Vec<(Vec<u8>, Origin)>,
    sizes: &[usize],
) -> Result<(), HwiError> {
    if !sizes.contains(&key.len()) {
        return Err(ser_error(format!("Size of key was not the expected size for the type partial signature pubkey. Length: {}", key.len())));
    }
    let pubkey = key.get(1..).unwrap_or(&[]).to_vec();
    if paths.iter().any(|(k, _)| *k == pubkey) {
        return Err(ser_error(
            "Duplicate key, input partial signature for pubkey already provided",
        ));
    }
    paths.push((pubkey, Origin::read(value)));
    Ok(())
}

fn sorted<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(key);
    v
}

impl Input {
    fn parse(pairs: Vec<(Vec<u8>, Vec<u8>)>, version: u32) -> Result<Input, HwiError> {
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

    fn write(&self, version: u32, out: &mut Vec<u8>) {
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

impl Output {
    fn parse(pairs: Vec<(Vec<u8>, Vec<u8>)>, version: u32) -> Result<Output, HwiError> {
        let mut o = Output::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for (key, value) in pairs {
            let dup = seen.contains(&key);
            match key_type(&key) {
                0x00 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, output redeemScript already provided",
                        ));
                    }
                    o.redeem_script = value;
                }
                0x01 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, output witnessScript already provided",
                        ));
                    }
                    o.witness_script = value;
                }
                0x02 => hd_keypath(&key, &value, &mut o.hd_keypaths, &[34, 66])?,
                0x03 => {
                    let b: [u8; 8] = value
                        .as_slice()
                        .try_into()
                        .map_err(|_| ser_error("Output amount is not 8 bytes"))?;
                    o.amount = Some(i64::from_le_bytes(b));
                }
                0x04 => o.script = value,
                0x05 => {
                    if value.len() != 32 {
                        return Err(ser_error("Output Taproot internal key is not 32 bytes"));
                    }
                    o.tap_internal_key = value;
                }
                0x06 => o.tap_tree = value,
                0x07 => {
                    if key.len() != 33 {
                        return Err(ser_error(
                            "Output Taproot BIP 32 keypath key is not 33 bytes",
                        ));
                    }
                    let xonly = key.get(1..).unwrap_or(&[]).to_vec();
                    let (hashes, origin) = read_tap_origin(&value);
                    match o.tap_bip32_paths.iter_mut().find(|(k, _, _)| *k == xonly) {
                        Some(e) => {
                            e.1 = hashes;
                            e.2 = origin;
                        }
                        None => o.tap_bip32_paths.push((xonly, hashes, origin)),
                    }
                }
                0x08 => o.musig2.push((key.clone(), value)),
                _ => {
                    if o.unknown.iter().any(|(k, _)| *k == key) {
                        return Err(ser_error(
                            "Duplicate key, key for unknown value already provided",
                        ));
                    }
                    o.unknown.push((key.clone(), value));
                }
            }
            seen.push(key);
        }
        if version >= 2 {
            if o.amount.is_none() {
                return Err(ser_error("PSBT_OUTPUT_AMOUNT is required in PSBTv2"));
            }
            if o.script.is_empty() {
                return Err(ser_error("PSBT_OUTPUT_SCRIPT is required in PSBTv2"));
            }
        }
        Ok(o)
    }

    fn write(&self, version: u32, out: &mut Vec<u8>) {
        if !self.redeem_script.is_empty() {
            write_pair(out, &[0x00], &self.redeem_script);
        }
        if !self.witness_script.is_empty() {
            write_pair(out, &[0x01], &self.witness_script);
        }
        for (pk, origin) in sorted(&self.hd_keypaths, |(k, _)| k.clone()) {
            write_pair(out, &[[0x02].as_slice(), &pk].concat(), &origin.write());
        }
        if version >= 2 {
            if let Some(a) = self.amount {
                write_pair(out, &[0x03], &a.to_le_bytes());
            }
            if !self.script.is_empty() {
                write_pair(out, &[0x04], &self.script);
            }
        }
        if !self.tap_internal_key.is_empty() {
            write_pair(out, &[0x05], &self.tap_internal_key);
        }
        if !self.tap_tree.is_empty() {
            write_pair(out, &[0x06], &self.tap_tree);
        }
        for (xonly, hashes, origin) in &self.tap_bip32_paths {
            write_pair(
                out,
                &[[0x07].as_slice(), xonly].concat(),
                &write_tap_origin(hashes, origin),
            );
        }
        for (k, v) in &self.musig2 {
            write_pair(out, k, v);
        }
        for (k, v) in sorted(&self.unknown, |(k, _)| k.clone()) {
            write_pair(out, &k, &v);
        }
        out.push(0x00);
    }
}

impl Psbt {
    /// Parses a base64 PSBT as HWI's `PSBT.deserialize` does.
    ///
    /// # Errors
    /// `PSBTSerializationError` texts (code -5); base64 and transaction decoding
    /// errors (code -13).
    pub fn from_base64(text: &str) -> Result<Psbt, HwiError> {
        let bytes = b64decode(text)?;
        Self::parse(&bytes)
    }

    fn parse(data: &[u8]) -> Result<Psbt, HwiError> {
        if data.get(..5) != Some(b"psbt\xff".as_slice()) {
            return Err(ser_error("invalid magic"));
        }
        let mut pos = 5;
        let mut p = Psbt::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut input_count = None;
        let mut output_count = None;
        for (key, value) in read_pairs(data, &mut pos) {
            let dup = seen.contains(&key);
            match key_type(&key) {
                0x00 => {
                    if dup {
                        return Err(ser_error("Duplicate key, unsigned tx already provided"));
                    } else if key.len() > 1 {
                        return Err(ser_error(
                            "Global unsigned tx key is more than one byte type",
                        ));
                    }
                    let (tx, _) = deserialize_partial::<Transaction>(&value)
                        .map_err(|e| HwiError::other(e.to_string()))?;
                    if tx
                        .input
                        .iter()
                        .any(|i| !i.script_sig.is_empty() || !i.witness.is_empty())
                    {
                        return Err(ser_error(
                            "Unsigned tx does not have empty scriptSigs and scriptWitnesses",
                        ));
                    }
                    p.tx = Some(tx);
                }
                0x01 => {
                    if key.len() != 79 {
                        return Err(ser_error(format!("Size of key was not the expected size for the type partial signature pubkey. Length: {}", key.len())));
                    }
                    let k = key.get(1..).unwrap_or(&[]).to_vec();
                    if p.xpubs.iter().any(|(x, _)| *x == k) {
                        return Err(ser_error(
                            "Duplicate key, input partial signature for pubkey already provided",
                        ));
                    }
                    p.xpubs.push((k, Origin::read(&value)));
                }
                0x02 => {
                    p.tx_version = Some(u32_value(
                        &value,
                        "Global transaction version is not 4 bytes",
                    )?)
                }
                0x03 => {
                    p.fallback_locktime = Some(u32_value(
                        &value,
                        "Global fallback locktime is not 4 bytes",
                    )?)
                }
                0x04 => {
                    let mut q = 0;
                    input_count = read_compact(&value, &mut q);
                }
                0x05 => {
                    let mut q = 0;
                    output_count = read_compact(&value, &mut q);
                }
                0x06 => {
                    p.tx_modifiable =
                        Some(*value.first().filter(|_| value.len() == 1).ok_or_else(|| {
                            ser_error("Global tx modifiable flags is not 1 bytes")
                        })?)
                }
                0xfb => {
                    p.version = u32_value(&value, "Global PSBT version is not 1 bytes")?;
                    p.explicit_version = true;
                }
                _ => {
                    if p.unknown.iter().any(|(k, _)| *k == key) {
                        return Err(ser_error(
                            "Duplicate key, key for unknown value already provided",
                        ));
                    }
                    p.unknown.push((key.clone(), value));
                }
            }
            seen.push(key);
        }
        if p.version == 0 {
            if p.tx.is_none() {
                return Err(ser_error("No unsigned transaction was provided"));
            }
            let v2 = [
                (p.tx_version.is_some(), "PSBT_GLOBAL_TX_VERSION"),
                (
                    p.fallback_locktime.is_some(),
                    "PSBT_GLOBAL_FALLBACK_LOCKTIME",
                ),
                (input_count.is_some(), "PSBT_GLOBAL_INPUT_COUNT"),
                (output_count.is_some(), "PSBT_GLOBAL_OUTPUT_COUNT"),
                (p.tx_modifiable.is_some(), "PSBT_GLOBAL_TX_MODIFIABLE"),
            ];
            if let Some((_, name)) = v2.iter().find(|(present, _)| *present) {
                return Err(ser_error(format!("{name} is not allowed in PSBTv0")));
            }
        }
        if p.version == 1 {
            return Err(ser_error("There is no PSBT version 1"));
        }
        if p.version >= 2 {
            if p.tx_version.is_none() {
                return Err(ser_error("PSBT_GLOBAL_TX_VERSION is required in PSBTv2"));
            }
            if input_count.is_none() {
                return Err(ser_error("PSBT_GLOBAL_INPUT_COUNT is required in PSBTv2"));
            }
            if output_count.is_none() {
                return Err(ser_error("PSBT_GLOBAL_OUTPUT_COUNT is required in PSBTv2"));
            }
            if p.tx.is_some() {
                return Err(ser_error(
                    "PSBT_GLOBAL_UNSIGNED_TX is not allowed in PSBTv2",
                ));
            }
        }
        let n_in = match (&p.tx, input_count) {
            (Some(tx), _) => tx.input.len() as u64,
            (None, Some(n)) => n,
            (None, None) => 0,
        };
        for i in 0..n_in {
            if pos >= data.len() {
                break;
            }
            let mut input = Input::parse(read_pairs(data, &mut pos), p.version)?;
            if let Some(tx) = &p.tx {
                if let Some(txin) = tx.input.get(i as usize) {
                    input.prev_txid = serialize(&txin.previous_output.txid);
                    input.prev_out = Some(txin.previous_output.vout);
                    input.sequence = Some(txin.sequence.0);
                }
            }
            if let Some(prev) = &input.non_witness_utxo {
                if serialize(&prev.compute_txid()) != input.prev_txid {
                    return Err(ser_error("Non-witness UTXO does not match outpoint hash"));
                }
            }
            p.inputs.push(input);
        }
        if p.inputs.len() as u64 != n_in {
            return Err(ser_error(
                "Inputs provided does not match the number of inputs in transaction",
            ));
        }
        let n_out = match (&p.tx, output_count) {
            (Some(tx), _) => tx.output.len() as u64,
            (None, Some(n)) => n,
            (None, None) => 0,
        };
        for i in 0..n_out {
            if pos >= data.len() {
                break;
            }
            let mut output = Output::parse(read_pairs(data, &mut pos), p.version)?;
            if let Some(tx) = &p.tx {
                if let Some(txo) = tx.output.get(i as usize) {
                    output.amount = Some(txo.value.to_sat() as i64);
                    output.script = txo.script_pubkey.to_bytes();
                }
            }
            p.outputs.push(output);
        }
        if p.outputs.len() as u64 != n_out {
            return Err(ser_error(
                "Outputs provided does not match the number of outputs in transaction",
            ));
        }
        if let Some(tx) = &p.tx {
            p.tx_version = Some(tx.version.0 as u32);
            p.fallback_locktime = Some(tx.lock_time.to_consensus_u32());
        }
        Ok(p)
    }

    /// HWI's serialization, base64.
    pub fn to_base64(&self) -> String {
        b64encode(&self.serialize())
    }

    /// HWI's serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = b"psbt\xff".to_vec();
        if self.version == 0 {
            if let Some(tx) = &self.tx {
                write_pair(&mut out, &[0x00], &serialize(tx));
            }
        }
        for (k, origin) in sorted(&self.xpubs, |(k, _)| k.clone()) {
            write_pair(&mut out, &[[0x01].as_slice(), &k].concat(), &origin.write());
        }
        if self.version >= 2 {
            write_pair(
                &mut out,
                &[0x02],
                &self.tx_version.unwrap_or(0).to_le_bytes(),
            );
            if let Some(v) = self.fallback_locktime {
                write_pair(&mut out, &[0x03], &v.to_le_bytes());
            }
            let mut n = Vec::new();
            write_varint(&mut n, self.inputs.len() as u64);
            write_pair(&mut out, &[0x04], &n);
            let mut n = Vec::new();
            write_varint(&mut n, self.outputs.len() as u64);
            write_pair(&mut out, &[0x05], &n);
            if let Some(v) = self.tx_modifiable {
                write_pair(&mut out, &[0x06], &[v]);
            }
        }
        if self.version > 0 || self.explicit_version {
            write_pair(&mut out, &[0xfb], &self.version.to_le_bytes());
        }
        for (k, v) in sorted(&self.unknown, |(k, _)| k.clone()) {
            write_pair(&mut out, &k, &v);
        }
        out.push(0x00);
        for i in &self.inputs {
            i.write(self.version, &mut out);
        }
        for o in &self.outputs {
            o.write(self.version, &mut out);
        }
        out
    }

    /// HWI's `compute_lock_time`.
    pub fn lock_time(&self) -> u32 {
        let mut time: Option<u32> = Some(0);
        let mut height: Option<u32> = Some(0);
        for i in &self.inputs {
            match (i.time_locktime, i.height_locktime) {
                (Some(_), None) => height = None,
                (None, Some(_)) => time = None,
                _ => {}
            }
            if let (Some(t), Some(cur)) = (i.time_locktime, time) {
                time = Some(cur.max(t));
            }
            if let (Some(h), Some(cur)) = (i.height_locktime, height) {
                height = Some(cur.max(h));
            }
        }
        match (height, time) {
            (Some(h), _) if h > 0 => h,
            (_, Some(t)) if t > 0 => t,
            _ => self.fallback_locktime.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_python() {
        assert_eq!(b64decode("cHNidP8=").unwrap(), b"psbt\xff");
        assert_eq!(b64decode(" cHNi\ndP8= ").unwrap(), b"psbt\xff");
        assert_eq!(
            b64decode("cHNidP8").unwrap_err().message,
            "Incorrect padding"
        );
        assert!(b64decode("cHNid")
            .unwrap_err()
            .message
            .contains("cannot be 1 more"));
        assert_eq!(
            Psbt::from_base64("AAAA").unwrap_err().message,
            "invalid magic"
        );
    }
}
