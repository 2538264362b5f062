//! PSBTs as HWI holds them (`hwilib/psbt.py`): parsed into its fields, with its error
//! texts, and written back in HWI's fixed order (sorted signatures, derivations and
//! unknown keys; taproot maps in the order they were read). `signtx` prints this
//! serialization and compares it with the text it was given, so the bytes must be
//! HWI's.

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::{Transaction, TxOut};

use super::errors::{HwiError, INVALID_TX};
use crate::protocol::bytes::write_varint;

pub(crate) fn ser_error(message: impl Into<String>) -> HwiError {
    HwiError::new(message, INVALID_TX)
}

mod input;
mod output;
mod wire;

pub use wire::{b64decode, b64encode};
use wire::{key_type, read_compact, read_pairs, sorted, u32_value, write_pair};

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
