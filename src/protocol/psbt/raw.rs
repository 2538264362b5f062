//! PSBTs as raw key-value maps (BIP-174 v0 and BIP-370 v2), kept byte for byte.
//!
//! Signing adds a few keys to a caller's PSBT and must change nothing else, so the
//! PSBT is held as the maps it was parsed from. This module also converts v0 maps into
//! the v2 maps that the Ledger Bitcoin app reads, and gives the host's view of either
//! version ([`super::view`]) for sighashes, checks and finalizing.

use super::view::Psbt;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::transaction::{Transaction, TxIn, TxOut, Version};
use bitcoin::{absolute, Amount, OutPoint, ScriptBuf, Sequence, Txid, Witness};

use crate::error::{Error, Result};
use crate::protocol::bytes::{write_varint, Reader};
use crate::protocol::psbt::signature::spent_output;

/// One key-value map, in the order it was read.
pub type Map = Vec<(Vec<u8>, Vec<u8>)>;

const MAGIC: &[u8; 5] = b"psbt\xff";

/// The key types version 2 carries the unsigned transaction in (global, input, output
/// maps): a v0 PSBT has none of them.
const V2_GLOBAL: &[u8] = &[
    global::TX_VERSION,
    global::FALLBACK_LOCKTIME,
    global::INPUT_COUNT,
    global::OUTPUT_COUNT,
    global::TX_MODIFIABLE,
];
const V2_INPUT: &[u8] = &[
    input::PREVIOUS_TXID,
    input::OUTPUT_INDEX,
    input::SEQUENCE,
    input::REQUIRED_TIME_LOCKTIME,
    input::REQUIRED_HEIGHT_LOCKTIME,
];
const V2_OUTPUT: &[u8] = &[output::AMOUNT, output::SCRIPT];

/// Global key types this module reads or writes.
pub mod global {
    /// PSBT_GLOBAL_UNSIGNED_TX (v0 only).
    pub const UNSIGNED_TX: u8 = 0x00;
    /// PSBT_GLOBAL_TX_VERSION.
    pub const TX_VERSION: u8 = 0x02;
    /// PSBT_GLOBAL_FALLBACK_LOCKTIME.
    pub const FALLBACK_LOCKTIME: u8 = 0x03;
    /// PSBT_GLOBAL_INPUT_COUNT.
    pub const INPUT_COUNT: u8 = 0x04;
    /// PSBT_GLOBAL_OUTPUT_COUNT.
    pub const OUTPUT_COUNT: u8 = 0x05;
    /// PSBT_GLOBAL_TX_MODIFIABLE.
    pub const TX_MODIFIABLE: u8 = 0x06;
    /// PSBT_GLOBAL_VERSION.
    pub const VERSION: u8 = 0xfb;
}

/// Input key types this module reads or writes.
pub mod input {
    /// PSBT_IN_PARTIAL_SIG.
    pub const PARTIAL_SIG: u8 = 0x02;
    /// PSBT_IN_PREVIOUS_TXID.
    pub const PREVIOUS_TXID: u8 = 0x0e;
    /// PSBT_IN_OUTPUT_INDEX.
    pub const OUTPUT_INDEX: u8 = 0x0f;
    /// PSBT_IN_SEQUENCE.
    pub const SEQUENCE: u8 = 0x10;
    /// PSBT_IN_REQUIRED_TIME_LOCKTIME.
    pub const REQUIRED_TIME_LOCKTIME: u8 = 0x11;
    /// PSBT_IN_REQUIRED_HEIGHT_LOCKTIME.
    pub const REQUIRED_HEIGHT_LOCKTIME: u8 = 0x12;
    /// PSBT_IN_TAP_KEY_SIG.
    pub const TAP_KEY_SIG: u8 = 0x13;
    /// PSBT_IN_TAP_SCRIPT_SIG.
    pub const TAP_SCRIPT_SIG: u8 = 0x14;
}

/// Output key types this module reads or writes.
pub mod output {
    /// PSBT_OUT_AMOUNT.
    pub const AMOUNT: u8 = 0x03;
    /// PSBT_OUT_SCRIPT.
    pub const SCRIPT: u8 = 0x04;
}

/// A parsed PSBT: its version and its maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPsbt {
    /// 0 or 2.
    pub version: u32,
    /// The global map.
    pub global: Map,
    /// One map per input.
    pub inputs: Vec<Map>,
    /// One map per output.
    pub outputs: Vec<Map>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("psbt", reason)
}

fn read_map(r: &mut Reader<'_>, what: &str) -> Result<Map> {
    let mut map: Map = Vec::new();
    loop {
        let key_len = r
            .varint("key length")
            .map_err(|_| bad(format!("{what}: truncated")))?;
        if key_len == 0 {
            return Ok(map);
        }
        let key_len = usize::try_from(key_len).map_err(|_| bad(format!("{what}: key too long")))?;
        let key = r
            .bytes(key_len, "key")
            .map_err(|_| bad(format!("{what}: truncated key")))?
            .to_vec();
        let value_len = r
            .varint("value length")
            .map_err(|_| bad(format!("{what}: truncated")))?;
        let value_len =
            usize::try_from(value_len).map_err(|_| bad(format!("{what}: value too long")))?;
        let value = r
            .bytes(value_len, "value")
            .map_err(|_| bad(format!("{what}: truncated value")))?
            .to_vec();
        if map.iter().any(|(k, _)| *k == key) {
            return Err(bad(format!(
                "{what}: duplicate key {}",
                crate::protocol::bytes::to_hex(&key)
            )));
        }
        map.push((key, value));
    }
}

/// The value of the key `[key_type]` (a key with no key data) in `map`.
pub fn get(map: &Map, key_type: u8) -> Option<&[u8]> {
    map.iter()
        .find(|(k, _)| k.as_slice() == [key_type])
        .map(|(_, v)| v.as_slice())
}

/// Sets `key` to `value`, replacing an existing value.
pub fn set(map: &mut Map, key: Vec<u8>, value: Vec<u8>) {
    match map.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => map.push((key, value)),
    }
}

fn u32_le(v: &[u8], what: &str) -> Result<u32> {
    let bytes: [u8; 4] = v
        .try_into()
        .map_err(|_| bad(format!("{what} is not 4 bytes")))?;
    Ok(u32::from_le_bytes(bytes))
}

fn count(map: &Map, key: u8, what: &str) -> Result<usize> {
    let v = get(map, key).ok_or_else(|| bad(format!("v2 psbt without {what}")))?;
    let mut r = Reader::new(v, "count");
    let n = r
        .varint(what)
        .map_err(|_| bad(format!("{what} is not a varint")))?;
    if !r.is_empty() {
        return Err(bad(format!("{what} has trailing bytes")));
    }
    usize::try_from(n).map_err(|_| bad(format!("{what} too large")))
}

impl RawPsbt {
    /// Parses a PSBT from its binary form.
    ///
    /// # Errors
    /// `invalid-input` (field `psbt`) for anything malformed: bad magic, truncated maps,
    /// duplicate keys, a missing or undecodable unsigned transaction, trailing bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "psbt");
        if r.bytes(5, "magic").ok() != Some(MAGIC.as_slice()) {
            return Err(bad("does not start with the psbt magic bytes"));
        }
        let global = read_map(&mut r, "global map")?;
        let version = match get(&global, global::VERSION) {
            Some(v) => u32_le(v, "psbt version")?,
            None => 0,
        };
        let (n_in, n_out) = match version {
            0 => {
                let tx = Self::unsigned_tx_of(&global)?;
                (tx.input.len(), tx.output.len())
            }
            2 => (
                count(&global, global::INPUT_COUNT, "input count")?,
                count(&global, global::OUTPUT_COUNT, "output count")?,
            ),
            v => return Err(bad(format!("version {v} is not supported (0 and 2 are)"))),
        };
        // A map takes at least one byte: reject counts the data cannot hold before
        // allocating for them.
        if n_in.saturating_add(n_out) > bytes.len() {
            return Err(bad("more inputs and outputs than the data holds"));
        }
        let mut inputs = Vec::with_capacity(n_in);
        for i in 0..n_in {
            inputs.push(read_map(&mut r, &format!("input {i}"))?);
        }
        let mut outputs = Vec::with_capacity(n_out);
        for i in 0..n_out {
            outputs.push(read_map(&mut r, &format!("output {i}"))?);
        }
        if !r.is_empty() {
            return Err(bad("trailing bytes after the last output"));
        }
        let psbt = RawPsbt {
            version,
            global,
            inputs,
            outputs,
        };
        // Also check that every known field decodes and holds together, so later
        // steps can trust them (see `view`).
        psbt.view()?;
        Ok(psbt)
    }

    fn unsigned_tx_of(global: &Map) -> Result<Transaction> {
        let raw = get(global, global::UNSIGNED_TX)
            .ok_or_else(|| bad("v0 psbt without an unsigned transaction"))?;
        let tx: Transaction =
            deserialize(raw).map_err(|e| bad(format!("unsigned transaction: {e}")))?;
        if tx
            .input
            .iter()
            .any(|i| !i.script_sig.is_empty() || !i.witness.is_empty())
        {
            return Err(bad("unsigned transaction has scriptSigs or witnesses"));
        }
        Ok(tx)
    }

    /// Serializes the maps back to binary, in their order.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for map in core::iter::once(&self.global)
            .chain(&self.inputs)
            .chain(&self.outputs)
        {
            for (k, v) in map {
                write_varint(&mut out, k.len() as u64);
                out.extend_from_slice(k);
                write_varint(&mut out, v.len() as u64);
                out.extend_from_slice(v);
            }
            out.push(0);
        }
        out
    }

    /// The unsigned transaction (built from the v2 fields for a v2 PSBT).
    ///
    /// # Errors
    /// `invalid-input` when the fields are missing or malformed.
    pub fn unsigned_tx(&self) -> Result<Transaction> {
        if self.version == 0 {
            return Self::unsigned_tx_of(&self.global);
        }
        let tx_version = get(&self.global, global::TX_VERSION)
            .ok_or_else(|| bad("v2 psbt without a tx version"))?;
        let mut input = Vec::with_capacity(self.inputs.len());
        let mut height_lock: Option<u32> = None;
        let mut time_lock: Option<u32> = None;
        let mut all_allow_height = true;
        let mut all_allow_time = true;
        for (i, map) in self.inputs.iter().enumerate() {
            let txid = get(map, input::PREVIOUS_TXID)
                .ok_or_else(|| bad(format!("input {i} has no previous txid")))?;
            let txid: Txid = deserialize(txid)
                .map_err(|_| bad(format!("input {i}: previous txid is not 32 bytes")))?;
            let vout = u32_le(
                get(map, input::OUTPUT_INDEX)
                    .ok_or_else(|| bad(format!("input {i} has no output index")))?,
                "output index",
            )?;
            let sequence = match get(map, input::SEQUENCE) {
                Some(v) => Sequence(u32_le(v, "sequence")?),
                None => Sequence::MAX,
            };
            let t = get(map, input::REQUIRED_TIME_LOCKTIME)
                .map(|v| u32_le(v, "required time locktime"))
                .transpose()?;
            let h = get(map, input::REQUIRED_HEIGHT_LOCKTIME)
                .map(|v| u32_le(v, "required height locktime"))
                .transpose()?;
            all_allow_height &= h.is_some() || t.is_none();
            all_allow_time &= t.is_some() || h.is_none();
            if let Some(h) = h {
                height_lock = Some(height_lock.map_or(h, |x| x.max(h)));
            }
            if let Some(t) = t {
                time_lock = Some(time_lock.map_or(t, |x| x.max(t)));
            }
            input.push(TxIn {
                previous_output: OutPoint { txid, vout },
                script_sig: ScriptBuf::new(),
                sequence,
                witness: Witness::new(),
            });
        }
        let lock_time = match (height_lock, time_lock) {
            (Some(h), _) if all_allow_height => h,
            (_, Some(t)) if all_allow_time => t,
            (None, None) => match get(&self.global, global::FALLBACK_LOCKTIME) {
                Some(v) => u32_le(v, "fallback locktime")?,
                None => 0,
            },
            _ => return Err(bad("inputs require incompatible locktimes")),
        };
        let mut output = Vec::with_capacity(self.outputs.len());
        for (i, map) in self.outputs.iter().enumerate() {
            let amount =
                get(map, output::AMOUNT).ok_or_else(|| bad(format!("output {i} has no amount")))?;
            let amount: [u8; 8] = amount
                .try_into()
                .map_err(|_| bad(format!("output {i}: amount is not 8 bytes")))?;
            let script =
                get(map, output::SCRIPT).ok_or_else(|| bad(format!("output {i} has no script")))?;
            output.push(TxOut {
                value: Amount::from_sat(u64::from_le_bytes(amount)),
                script_pubkey: ScriptBuf::from_bytes(script.to_vec()),
            });
        }
        Ok(Transaction {
            version: Version(u32_le(tx_version, "tx version")? as i32),
            lock_time: absolute::LockTime::from_consensus(lock_time),
            input,
            output,
        })
    }

    /// The PSBT as the host reads it (see [`super::view`]), for sighashes, checks and
    /// finalizing.
    ///
    /// The view is checked to hold together: no amount (output, utxo, output of a
    /// previous transaction) and no sum of them is over 21 million bitcoin, no
    /// outpoint is spent twice, and an input's previous transaction, when given, is the
    /// one it spends and agrees with its witness utxo.
    ///
    /// # Errors
    /// `invalid-input` when a field does not decode or the checks above fail.
    pub fn view(&self) -> Result<Psbt> {
        let skip: [&[u8]; 3] = if self.version == 0 {
            [&[], &[], &[]]
        } else {
            [V2_GLOBAL, V2_INPUT, V2_OUTPUT]
        };
        let psbt = super::view::decode(
            self.unsigned_tx()?,
            &self.global,
            &self.inputs,
            &self.outputs,
            skip,
        )?;
        check_amounts(&psbt)?;
        check_outpoints(&psbt)?;
        check_utxos(&psbt)?;
        Ok(psbt)
    }

    /// A `bitcoin::Psbt` (v0) of this PSBT, every field decoded by `bitcoin`, after the
    /// checks of [`RawPsbt::view`]: for miniscript's finalizer, the simulators and tests.
    /// The host's own code reads the [`RawPsbt::view`] (smaller in the wasm).
    ///
    /// # Errors
    /// `invalid-input` when a field does not decode or the view's checks fail.
    pub fn to_bitcoin(&self) -> Result<bitcoin::psbt::Psbt> {
        self.view()?;
        bitcoin::psbt::Psbt::deserialize(&self.to_v0()?.serialize()).map_err(|e| bad(e.to_string()))
    }

    /// The same PSBT as version 0: a v2 PSBT's transaction fields become its unsigned
    /// transaction; every other entry is kept, in its order.
    ///
    /// # Errors
    /// `invalid-input` when the transaction fields are missing or malformed.
    pub fn to_v0(&self) -> Result<RawPsbt> {
        if self.version == 0 {
            return Ok(self.clone());
        }
        let strip = |map: &Map, types: &[u8]| -> Map {
            map.iter()
                .filter(|(k, _)| !matches!(k.as_slice(), [t] if types.contains(t)))
                .cloned()
                .collect()
        };
        let mut global = vec![(vec![global::UNSIGNED_TX], serialize(&self.unsigned_tx()?))];
        global.extend(strip(
            &self.global,
            &[V2_GLOBAL, &[global::VERSION]].concat(),
        ));
        Ok(RawPsbt {
            version: 0,
            global,
            inputs: self.inputs.iter().map(|m| strip(m, V2_INPUT)).collect(),
            outputs: self.outputs.iter().map(|m| strip(m, V2_OUTPUT)).collect(),
        })
    }

    /// The maps as the Ledger Bitcoin app reads them (PSBTv2).
    ///
    /// # Errors
    /// `invalid-input` when a v0 PSBT's unsigned transaction does not decode.
    pub fn to_v2_maps(&self) -> Result<(Map, Vec<Map>, Vec<Map>)> {
        if self.version == 2 {
            return Ok((
                self.global.clone(),
                self.inputs.clone(),
                self.outputs.clone(),
            ));
        }
        let tx = self.unsigned_tx()?;
        let mut g: Map = self
            .global
            .iter()
            .filter(|(k, _)| {
                k.as_slice() != [global::UNSIGNED_TX] && k.as_slice() != [global::VERSION]
            })
            .cloned()
            .collect();
        let varint = |n: usize| {
            let mut v = Vec::new();
            write_varint(&mut v, n as u64);
            v
        };
        set(
            &mut g,
            vec![global::FALLBACK_LOCKTIME],
            tx.lock_time.to_consensus_u32().to_le_bytes().to_vec(),
        );
        set(&mut g, vec![global::INPUT_COUNT], varint(tx.input.len()));
        set(&mut g, vec![global::OUTPUT_COUNT], varint(tx.output.len()));
        set(
            &mut g,
            vec![global::TX_VERSION],
            (tx.version.0 as u32).to_le_bytes().to_vec(),
        );
        set(&mut g, vec![global::VERSION], 2u32.to_le_bytes().to_vec());
        let mut inputs = self.inputs.clone();
        for (map, txin) in inputs.iter_mut().zip(&tx.input) {
            set(
                map,
                vec![input::PREVIOUS_TXID],
                serialize(&txin.previous_output.txid),
            );
            set(
                map,
                vec![input::OUTPUT_INDEX],
                txin.previous_output.vout.to_le_bytes().to_vec(),
            );
            set(
                map,
                vec![input::SEQUENCE],
                txin.sequence.0.to_le_bytes().to_vec(),
            );
        }
        let mut outputs = self.outputs.clone();
        for (map, txout) in outputs.iter_mut().zip(&tx.output) {
            set(
                map,
                vec![output::AMOUNT],
                txout.value.to_sat().to_le_bytes().to_vec(),
            );
            set(map, vec![output::SCRIPT], txout.script_pubkey.to_bytes());
        }
        Ok((g, inputs, outputs))
    }
}

/// Adds `amounts`, failing when one of them or their sum is over 21 million bitcoin.
fn capped_sum(amounts: impl Iterator<Item = Amount>, what: &dyn Fn() -> String) -> Result<Amount> {
    let mut total = Amount::ZERO;
    for a in amounts {
        if a > Amount::MAX_MONEY {
            return Err(bad(format!(
                "{}: {} sat is over 21 million bitcoin",
                what(),
                a.to_sat()
            )));
        }
        total = total
            .checked_add(a)
            .filter(|t| *t <= Amount::MAX_MONEY)
            .ok_or_else(|| {
                bad(format!(
                    "{}: they add up to over 21 million bitcoin",
                    what()
                ))
            })?;
    }
    Ok(total)
}

/// Every output amount, their sum, every witness utxo amount, and every output of a
/// previous transaction (and their sum) must be at most 21 million bitcoin.
fn check_amounts(p: &Psbt) -> Result<()> {
    capped_sum(p.unsigned_tx.output.iter().map(|o| o.value), &|| {
        "the outputs".to_string()
    })?;
    for (i, input) in p.inputs.iter().enumerate() {
        if let Some(u) = &input.witness_utxo {
            capped_sum(core::iter::once(u.value), &|| {
                format!("input {i} witness utxo")
            })?;
        }
        if let Some(tx) = &input.non_witness_utxo {
            capped_sum(tx.output.iter().map(|o| o.value), &|| {
                format!("input {i}: the outputs of its previous transaction")
            })?;
        }
    }
    // No more than every coin there is can be spent at once.
    capped_sum(
        (0..p.inputs.len()).filter_map(|i| spent_output(p, i).map(|o| o.value)),
        &|| "the inputs".to_string(),
    )?;
    Ok(())
}

/// An input's previous transaction (non-witness utxo) must be the transaction its
/// outpoint names and have that output; with a witness utxo too, both must say the
/// same amount and script. Otherwise the amount a summary shows could differ from the
/// one a device signs for.
fn check_utxos(p: &Psbt) -> Result<()> {
    for (i, (txin, input)) in p.unsigned_tx.input.iter().zip(&p.inputs).enumerate() {
        let Some(tx) = &input.non_witness_utxo else {
            continue;
        };
        let field = || format!("input {i}");
        let prevout = txin.previous_output;
        let txid = tx.compute_txid();
        if txid != prevout.txid {
            return Err(Error::invalid(
                field(),
                format!(
                    "its non-witness utxo is transaction {txid}, not {}, which it spends",
                    prevout.txid
                ),
            ));
        }
        let out = usize::try_from(prevout.vout)
            .ok()
            .and_then(|v| tx.output.get(v))
            .ok_or_else(|| {
                Error::invalid(
                    field(),
                    format!(
                        "its non-witness utxo has no output {} ({} outputs)",
                        prevout.vout,
                        tx.output.len()
                    ),
                )
            })?;
        if let Some(w) = &input.witness_utxo {
            if w != out {
                return Err(Error::invalid(
                    field(),
                    format!(
                        "its witness utxo ({} sat to {}) is not output {} of its previous \
                         transaction ({} sat to {})",
                        w.value.to_sat(),
                        w.script_pubkey.to_hex_string(),
                        prevout.vout,
                        out.value.to_sat(),
                        out.script_pubkey.to_hex_string()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// No two inputs may spend the same outpoint: the transaction would be invalid, and
/// a summary would count the coin twice.
fn check_outpoints(p: &Psbt) -> Result<()> {
    let mut seen = std::collections::BTreeMap::new();
    for (i, txin) in p.unsigned_tx.input.iter().enumerate() {
        if let Some(first) = seen.insert(txin.previous_output, i) {
            return Err(Error::invalid(
                format!("input {i}"),
                format!(
                    "spends {}, which input {first} spends too",
                    txin.previous_output
                ),
            ));
        }
    }
    Ok(())
}

/// Decodes a PSBT given as base64 text or raw bytes.
///
/// # Errors
/// `invalid-input` when it is neither, or malformed.
pub fn decode(input: &[u8]) -> Result<RawPsbt> {
    if input.starts_with(MAGIC) {
        return RawPsbt::parse(input);
    }
    let text =
        core::str::from_utf8(input).map_err(|_| bad("neither psbt bytes nor base64 text"))?;
    RawPsbt::parse(&decode_base64(text.trim())?)
}

/// Decodes base64 text (standard alphabet, padding optional).
///
/// # Errors
/// `invalid-input` on a character outside the alphabet.
pub fn decode_base64(text: &str) -> Result<Vec<u8>> {
    use bitcoin::base64::Engine;
    bitcoin::base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| bad(format!("not base64: {e}")))
}

/// Encodes bytes as standard base64.
pub fn encode_base64(bytes: &[u8]) -> String {
    use bitcoin::base64::Engine;
    bitcoin::base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PSBT: &str = "cHNidP8BAHECAAAAAbiWoY6pOQepFsEGhUPXaulX9rvye2NY+FAdeH4xt3ImAAAAAAD/////AqCGAQAAAAAAFgAU9sGIX6vgPmmTXiyMQI6DwmQyIbRAQg8AAAAAABYAFJ0S4Yy9KrLvmRexQwL3E3ur0t76AAAAAAABAR8QJwAAAAAAABYAFD0CNvA7JBv6dkYuXvQ3qxNgBgyzAAAA";

    #[test]
    fn roundtrips_bytes_exactly_and_converts_to_v2() {
        let bytes = decode_base64(PSBT).unwrap();
        let p = decode(PSBT.as_bytes()).unwrap();
        assert_eq!(p.version, 0);
        assert_eq!(p.serialize(), bytes);
        let (g, ins, outs) = p.to_v2_maps().unwrap();
        assert_eq!(get(&g, global::INPUT_COUNT), Some([1u8].as_slice()));
        assert_eq!(get(&g, global::OUTPUT_COUNT), Some([2u8].as_slice()));
        assert!(get(&g, global::UNSIGNED_TX).is_none());
        assert_eq!(get(&ins[0], input::SEQUENCE), Some([0xff; 4].as_slice()));
        assert_eq!(
            get(&outs[1], output::AMOUNT),
            Some(1_000_000u64.to_le_bytes().as_slice())
        );
        // The v2 form parses, and its bitcoin view equals the v0 one.
        let v2 = RawPsbt {
            version: 2,
            global: g,
            inputs: ins,
            outputs: outs,
        };
        let reparsed = RawPsbt::parse(&v2.serialize()).unwrap();
        assert_eq!(
            reparsed.to_bitcoin().unwrap().unsigned_tx,
            p.to_bitcoin().unwrap().unsigned_tx
        );
    }

    #[test]
    fn malformed_psbts_name_what_is_wrong() {
        let bytes = decode_base64(PSBT).unwrap();
        for cut in [0, 4, 5, 10, bytes.len() - 1] {
            let e = RawPsbt::parse(&bytes[..cut]).unwrap_err();
            assert_eq!(e.code(), "invalid-input", "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(RawPsbt::parse(&extra)
            .unwrap_err()
            .to_string()
            .contains("trailing"));
        assert!(decode(b"!!!").unwrap_err().to_string().contains("base64"));
        // Duplicate key in the first input map.
        let mut p = RawPsbt::parse(&bytes).unwrap();
        let dup = p.inputs[0][0].clone();
        p.inputs[0].push(dup);
        assert!(RawPsbt::parse(&p.serialize())
            .unwrap_err()
            .to_string()
            .contains("duplicate key"));
    }
}
