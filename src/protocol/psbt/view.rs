//! The `bitcoin::Psbt` view of raw maps, decoded field by field.
//!
//! `bitcoin`'s own PSBT deserializer brings every field's decoder, its error type and
//! their formatting into the wasm (about 60 KB before compression). The host reads only
//! the fields below, so they are decoded here, with the same checks on their form;
//! every other entry (hash preimages without the `miniscript` add-on, an output's
//! taproot tree, fields of later BIPs such as MuSig2's) goes into the map's `unknown`
//! entries, byte for byte. The caller's PSBT itself is never rebuilt from this view:
//! signing edits the raw maps ([`super::raw`]).
//!
//! | map | fields decoded |
//! |---|---|
//! | global | unsigned tx (given), xpubs, proprietary |
//! | input | utxos, partial signatures, sighash type, redeem and witness scripts, BIP-32 and taproot derivations, final scriptSig and witness, taproot key and script signatures, leaf scripts, internal key, merkle root, proprietary; hash preimages with `miniscript` |
//! | output | redeem and witness scripts, BIP-32 and taproot derivations, internal key, proprietary |

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource, Xpub};
use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::psbt::{raw, Input, Output, Psbt, PsbtSighashType};
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::taproot::{self, ControlBlock, LeafVersion, TapLeafHash, TapNodeHash};
use bitcoin::{ecdsa, PublicKey, ScriptBuf, Transaction, TxOut, Witness};

use crate::error::{Error, Result};
use crate::protocol::bytes::Reader;

use super::raw::Map;

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
            #[cfg(feature = "miniscript")]
            0x0a..=0x0d => preimage(&mut i, t, &e)?,
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

/// A hash preimage (RIPEMD-160, SHA-256, HASH160, HASH256), checked against its hash:
/// what miniscript's finalizer satisfies hash locks with.
#[cfg(feature = "miniscript")]
fn preimage(i: &mut Input, t: u8, e: &Entry<'_>) -> Result<()> {
    use bitcoin::hashes::{hash160, ripemd160, sha256, sha256d, Hash};
    let what = "a hash preimage";
    let v = e.value.to_vec();
    let ok = match t {
        0x0a => {
            let h = ripemd160::Hash::from_slice(e.key).map_err(|_| e.fail(what))?;
            let ok = ripemd160::Hash::hash(&v) == h;
            i.ripemd160_preimages.insert(h, v);
            ok
        }
        0x0b => {
            let h = sha256::Hash::from_slice(e.key).map_err(|_| e.fail(what))?;
            let ok = sha256::Hash::hash(&v) == h;
            i.sha256_preimages.insert(h, v);
            ok
        }
        0x0c => {
            let h = hash160::Hash::from_slice(e.key).map_err(|_| e.fail(what))?;
            let ok = hash160::Hash::hash(&v) == h;
            i.hash160_preimages.insert(h, v);
            ok
        }
        _ => {
            let h = sha256d::Hash::from_slice(e.key).map_err(|_| e.fail(what))?;
            let ok = sha256d::Hash::hash(&v) == h;
            i.hash256_preimages.insert(h, v);
            ok
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "psbt",
            format!("{}: a preimage does not hash to its key", e.at),
        ))
    }
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
            0x07 => {
                let (key, origin) = e.tap_origin()?;
                o.tap_key_origins.insert(key, origin);
            }
            0xfc => {
                o.proprietary.insert(e.proprietary()?, e.value.to_vec());
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
        version: 0,
        xpub: Default::default(),
        proprietary: Default::default(),
        unknown: Default::default(),
        inputs: Vec::with_capacity(inputs.len()),
        outputs: Vec::with_capacity(outputs.len()),
    };
    for entry in entries(global, skip_global, "global map") {
        let (t, e) = entry?;
        match t {
            // The unsigned transaction and the version are given.
            0x00 | 0xfb => {}
            0x01 => {
                let what = "a global xpub";
                let xpub = Xpub::decode(e.key).map_err(|_| e.fail(what))?;
                let origin = key_source(e.value).ok_or_else(|| e.fail(what))?;
                psbt.xpub.insert(xpub, origin);
            }
            0xfc => {
                psbt.proprietary.insert(e.proprietary()?, e.value.to_vec());
            }
            t => {
                psbt.unknown.insert(e.unknown(t), e.value.to_vec());
            }
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
