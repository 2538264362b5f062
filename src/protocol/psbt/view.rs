//! The PSBT as the host reads it: [`Psbt`], decoded field by field from the raw maps.
//!
//! `bitcoin`'s own `Psbt` brings every field's decoder and encoder, their error type and
//! its formatting, and a B-tree map per field (insert, clone and drop code for each of
//! sixteen key types) into the wasm. The host reads only the fields below, so they are
//! decoded here, with the same checks on their form, into maps kept as sorted vectors
//! ([`SortedMap`]: the same order as a B-tree map, a fraction of the code); every other
//! entry (hash preimages, fields of later BIPs such as MuSig2's) stays in the map's
//! `unknown` entries, byte for byte. The caller's PSBT is never rebuilt from this view:
//! signing edits the raw maps ([`super::raw`]). Where a `bitcoin::Psbt` is needed
//! (miniscript's finalizer, the simulators, tests), [`super::RawPsbt::to_bitcoin`] gives
//! one.
//!
//! | map | fields decoded |
//! |---|---|
//! | global | unsigned tx (given), xpubs |
//! | input | utxos, partial signatures, sighash type, redeem and witness scripts, BIP-32 and taproot derivations, final scriptSig and witness, taproot key and script signatures, leaf scripts, internal key, merkle root, proprietary |
//! | output | redeem and witness scripts, BIP-32 and taproot derivations, internal key, taproot tree (undecoded) |

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource, Xpub};
use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::psbt::{raw, PsbtSighashType};
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::taproot::{self, ControlBlock, LeafVersion, TapLeafHash, TapNodeHash};
use bitcoin::{ecdsa, PublicKey, ScriptBuf, Transaction, TxOut, Witness};

use crate::error::{Error, Result};
use crate::protocol::bytes::Reader;

use super::raw::Map;

/// A map kept as a vector sorted by key: it iterates in key order, as `BTreeMap` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => self
                .0
                .get_mut(at)
                .map(|e| core::mem::replace(&mut e.1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.0
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .and_then(|at| self.0.get(at))
            .map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }
}

impl<K, V> SortedMap<K, V> {
    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.into_iter()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        core::iter::Map<core::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// One input, as the host reads it (the fields keep `bitcoin::psbt::Input`'s names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Input {
    pub non_witness_utxo: Option<Transaction>,
    pub witness_utxo: Option<TxOut>,
    pub partial_sigs: SortedMap<PublicKey, ecdsa::Signature>,
    pub sighash_type: Option<PsbtSighashType>,
    pub redeem_script: Option<ScriptBuf>,
    pub witness_script: Option<ScriptBuf>,
    pub bip32_derivation: SortedMap<bitcoin::secp256k1::PublicKey, KeySource>,
    pub final_script_sig: Option<ScriptBuf>,
    pub final_script_witness: Option<Witness>,
    pub tap_key_sig: Option<taproot::Signature>,
    pub tap_script_sigs: SortedMap<(XOnlyPublicKey, TapLeafHash), taproot::Signature>,
    pub tap_scripts: SortedMap<ControlBlock, (ScriptBuf, LeafVersion)>,
    pub tap_key_origins: SortedMap<XOnlyPublicKey, (Vec<TapLeafHash>, KeySource)>,
    pub tap_internal_key: Option<XOnlyPublicKey>,
    pub tap_merkle_root: Option<TapNodeHash>,
    /// Proprietary entries (BIP-174), in key order.
    pub proprietary: SortedMap<raw::ProprietaryKey, Vec<u8>>,
    /// Every other entry (key type and key data), in key order.
    pub unknown: SortedMap<raw::Key, Vec<u8>>,
}

/// One output, as the host reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Output {
    pub redeem_script: Option<ScriptBuf>,
    pub witness_script: Option<ScriptBuf>,
    pub bip32_derivation: SortedMap<bitcoin::secp256k1::PublicKey, KeySource>,
    pub tap_internal_key: Option<XOnlyPublicKey>,
    /// The taproot tree (BIP-371), as it came: the host only asks whether there is one.
    pub tap_tree: Option<Vec<u8>>,
    pub tap_key_origins: SortedMap<XOnlyPublicKey, (Vec<TapLeafHash>, KeySource)>,
    /// Every other entry, in key order.
    pub unknown: SortedMap<raw::Key, Vec<u8>>,
}

/// A PSBT (any version) as the host reads it: the unsigned transaction and the decoded
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psbt {
    /// The unsigned transaction (built from the v2 fields for a v2 PSBT).
    pub unsigned_tx: Transaction,
    /// The global xpubs.
    pub xpub: SortedMap<Xpub, KeySource>,
    /// One per input.
    pub inputs: Vec<Input>,
    /// One per output.
    pub outputs: Vec<Output>,
}

impl Psbt {
    /// The transaction with each input's final scriptSig and witness.
    pub fn extract_tx(self) -> Transaction {
        let mut tx = self.unsigned_tx;
        for (txin, input) in tx.input.iter_mut().zip(self.inputs) {
            txin.script_sig = input.final_script_sig.unwrap_or_default();
            txin.witness = input.final_script_witness.unwrap_or_default();
        }
        tx
    }
}

fn bad(where_: &str, what: &str) -> Error {
    Error::invalid("psbt", format!("{where_}: {what} does not decode"))
}

/// One entry of a map: where it is (for errors), its key data and value.
struct Entry<'a> {
    at: &'a str,
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> Entry<'a> {
    /// A field that takes no key data.
    fn plain(&self, what: &str) -> Result<&'a [u8]> {
        if self.key.is_empty() {
            Ok(self.value)
        } else {
            Err(Error::invalid(
                "psbt",
                format!("{}: {what} with key data", self.at),
            ))
        }
    }

    fn fail(&self, what: &str) -> Error {
        bad(self.at, what)
    }

    fn script(&self, what: &str) -> Result<ScriptBuf> {
        Ok(ScriptBuf::from_bytes(self.plain(what)?.to_vec()))
    }

    fn xonly_value(&self, what: &str) -> Result<XOnlyPublicKey> {
        XOnlyPublicKey::from_slice(self.plain(what)?).map_err(|_| self.fail(what))
    }

    /// A BIP-32 derivation: the key (33 bytes) and its origin.
    fn bip32(&self) -> Result<(bitcoin::secp256k1::PublicKey, KeySource)> {
        let what = "a bip32 derivation";
        let key =
            bitcoin::secp256k1::PublicKey::from_slice(self.key).map_err(|_| self.fail(what))?;
        Ok((key, key_source(self.value).ok_or_else(|| self.fail(what))?))
    }

    /// A taproot derivation: the x-only key, its leaves and its origin.
    fn tap_origin(&self) -> Result<(XOnlyPublicKey, (Vec<TapLeafHash>, KeySource))> {
        let what = "a taproot bip32 derivation";
        let key = XOnlyPublicKey::from_slice(self.key).map_err(|_| self.fail(what))?;
        let mut r = Reader::new(self.value, "taproot derivation");
        let n = r.varint("leaf count").map_err(|_| self.fail(what))?;
        let mut leaves = Vec::new();
        for _ in 0..n {
            let hash = r.bytes(32, "leaf hash").map_err(|_| self.fail(what))?;
            leaves.push(TapLeafHash::from_slice(hash).map_err(|_| self.fail(what))?);
        }
        let origin = key_source(r.rest()).ok_or_else(|| self.fail(what))?;
        Ok((key, (leaves, origin)))
    }

    fn proprietary(&self) -> Result<raw::ProprietaryKey> {
        let what = "a proprietary key";
        let mut r = Reader::new(self.key, "proprietary key");
        let len = r.varint("prefix length").map_err(|_| self.fail(what))?;
        let len = usize::try_from(len).map_err(|_| self.fail(what))?;
        let prefix = r
            .bytes(len, "prefix")
            .map_err(|_| self.fail(what))?
            .to_vec();
        let subtype = r.u8("subtype").map_err(|_| self.fail(what))?;
        let key = r.rest().to_vec();
        if key.len() > 1024 {
            return Err(self.fail(what));
        }
        Ok(raw::ProprietaryKey {
            prefix,
            subtype,
            key,
        })
    }

    fn unknown(&self, key_type: u8) -> raw::Key {
        raw::Key {
            type_value: key_type,
            key: self.key.to_vec(),
        }
    }
}

/// A key origin: 4 bytes of fingerprint, then 4 bytes (little-endian) per step.
fn key_source(value: &[u8]) -> Option<KeySource> {
    let (fingerprint, path) = value.split_first_chunk::<4>()?;
    if path.len() % 4 != 0 {
        return None;
    }
    let steps = path
        .chunks_exact(4)
        .map(|c| {
            let n = u32::from_le_bytes(c.try_into().ok()?);
            Some(ChildNumber::from(n))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((Fingerprint::from(*fingerprint), DerivationPath::from(steps)))
}

/// The entries of `map` (a v0 map, or a v2 map without the keys `skip`), split into
/// key type and key data.
fn entries<'a>(
    map: &'a Map,
    skip: &'a [u8],
    at: &'a str,
) -> impl Iterator<Item = Result<(u8, Entry<'a>)>> + 'a {
    map.iter()
        .filter(move |(k, _)| !matches!(k.as_slice(), [t] if skip.contains(t)))
        .map(move |(k, v)| match k.split_first() {
            Some((t, key)) => Ok((
                *t,
                Entry {
                    at,
                    key,
                    value: v.as_slice(),
                },
            )),
            None => Err(Error::invalid("psbt", format!("{at}: an empty key"))),
        })
}

fn input(map: &Map, skip: &[u8], at: &str) -> Result<Input> {
    let mut i = Input::default();
    for entry in entries(map, skip, at) {
        let (t, e) = entry?;
        match t {
            0x00 => {
                let v = e.plain("a non-witness utxo")?;
                i.non_witness_utxo = Some(
                    deserialize::<Transaction>(v).map_err(|_| e.fail("its non-witness utxo"))?,
                );
            }
            0x01 => {
                let v = e.plain("a witness utxo")?;
                i.witness_utxo =
                    Some(deserialize::<TxOut>(v).map_err(|_| e.fail("its witness utxo"))?);
            }
            0x02 => {
                let key = PublicKey::from_slice(e.key)
                    .map_err(|_| e.fail("a partial signature's key"))?;
                let sig = ecdsa::Signature::from_slice(e.value)
                    .map_err(|_| e.fail("a partial signature"))?;
                i.partial_sigs.insert(key, sig);
            }
            0x03 => {
                let v: [u8; 4] = e
                    .plain("a sighash type")?
                    .try_into()
                    .map_err(|_| e.fail("its sighash type"))?;
                i.sighash_type = Some(PsbtSighashType::from_u32(u32::from_le_bytes(v)));
            }
            0x04 => i.redeem_script = Some(e.script("a redeem script")?),
            0x05 => i.witness_script = Some(e.script("a witness script")?),
            0x06 => {
                let (key, origin) = e.bip32()?;
                i.bip32_derivation.insert(key, origin);
            }
            0x07 => i.final_script_sig = Some(e.script("a final scriptsig")?),
            0x08 => {
                let v = e.plain("a final witness")?;
                i.final_script_witness =
                    Some(deserialize::<Witness>(v).map_err(|_| e.fail("its final witness"))?);
            }
            0x13 => {
                let v = e.plain("a taproot key signature")?;
                i.tap_key_sig = Some(
                    taproot::Signature::from_slice(v)
                        .map_err(|_| e.fail("its taproot key signature"))?,
                );
            }
            0x14 => {
                let what = "a taproot script signature";
                let (key, leaf) = e.key.split_at_checked(32).ok_or_else(|| e.fail(what))?;
                let key = XOnlyPublicKey::from_slice(key).map_err(|_| e.fail(what))?;
                let leaf = TapLeafHash::from_slice(leaf).map_err(|_| e.fail(what))?;
                let sig = taproot::Signature::from_slice(e.value).map_err(|_| e.fail(what))?;
                i.tap_script_sigs.insert((key, leaf), sig);
            }
            0x15 => {
                let what = "a leaf script";
                let control = ControlBlock::decode(e.key).map_err(|_| e.fail(what))?;
                let (version, script) = e.value.split_last().ok_or_else(|| e.fail(what))?;
                let version = LeafVersion::from_consensus(*version).map_err(|_| e.fail(what))?;
                i.tap_scripts
                    .insert(control, (ScriptBuf::from_bytes(script.to_vec()), version));
            }
            0x16 => {
                let (key, origin) = e.tap_origin()?;
                i.tap_key_origins.insert(key, origin);
            }
            0x17 => i.tap_internal_key = Some(e.xonly_value("a taproot internal key")?),
            0x18 => {
                let v: [u8; 32] = e
                    .plain("a taproot merkle root")?
                    .try_into()
                    .map_err(|_| e.fail("its taproot merkle root"))?;
                i.tap_merkle_root = Some(TapNodeHash::from_byte_array(v));
            }
            0xfc => {
                i.proprietary.insert(e.proprietary()?, e.value.to_vec());
            }
            t => {
                i.unknown.insert(e.unknown(t), e.value.to_vec());
            }
        }
    }
    Ok(i)
}

fn output(map: &Map, skip: &[u8], at: &str) -> Result<Output> {
    let mut o = Output::default();
    for entry in entries(map, skip, at) {
        let (t, e) = entry?;
        match t {
            0x00 => o.redeem_script = Some(e.script("a redeem script")?),
            0x01 => o.witness_script = Some(e.script("a witness script")?),
            0x02 => {
                let (key, origin) = e.bip32()?;
                o.bip32_derivation.insert(key, origin);
            }
            0x05 => o.tap_internal_key = Some(e.xonly_value("a taproot internal key")?),
            0x06 => o.tap_tree = Some(e.plain("a taproot tree")?.to_vec()),
            0x07 => {
                let (key, origin) = e.tap_origin()?;
                o.tap_key_origins.insert(key, origin);
            }
            t => {
                o.unknown.insert(e.unknown(t), e.value.to_vec());
            }
        }
    }
    Ok(o)
}

/// The v0 view of a PSBT's maps: `tx` is its unsigned transaction, `skip` the key
/// types of each map that version 2 carries the transaction in (none for v0).
///
/// # Errors
/// `invalid-input` (field `psbt`) naming the map and field that does not decode.
pub(super) fn decode(
    tx: Transaction,
    global: &Map,
    inputs: &[Map],
    outputs: &[Map],
    skip: [&[u8]; 3],
) -> Result<Psbt> {
    let [skip_global, skip_input, skip_output] = skip;
    let mut psbt = Psbt {
        unsigned_tx: tx,
        xpub: SortedMap::default(),
        inputs: Vec::with_capacity(inputs.len()),
        outputs: Vec::with_capacity(outputs.len()),
    };
    for entry in entries(global, skip_global, "global map") {
        let (t, e) = entry?;
        // The global xpubs; the unsigned transaction is given, the rest not read.
        if t == 0x01 {
            let what = "a global xpub";
            let xpub = Xpub::decode(e.key).map_err(|_| e.fail(what))?;
            let origin = key_source(e.value).ok_or_else(|| e.fail(what))?;
            psbt.xpub.insert(xpub, origin);
        }
    }
    for (index, map) in inputs.iter().enumerate() {
        psbt.inputs
            .push(input(map, skip_input, &format!("input {index}"))?);
    }
    for (index, map) in outputs.iter().enumerate() {
        psbt.outputs
            .push(output(map, skip_output, &format!("output {index}"))?);
    }
    Ok(psbt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sources_are_four_byte_steps() {
        let (f, p) = key_source(&[0xf5, 0xac, 0xc2, 0xfd, 84, 0, 0, 0x80, 1, 0, 0, 0]).unwrap();
        assert_eq!(f.to_string(), "f5acc2fd");
        assert_eq!(p.to_string(), "84'/1");
        assert!(key_source(&[1, 2, 3]).is_none());
        assert!(key_source(&[1, 2, 3, 4, 5]).is_none());
        assert_eq!(key_source(&[1, 2, 3, 4]).unwrap().1.len(), 0);
    }
}
