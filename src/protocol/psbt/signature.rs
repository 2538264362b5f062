//! Checking a device's signature against the sighash, and putting it into a PSBT.
//!
//! A signature a device returns is trusted only after the host has recomputed the
//! sighash of that input from the PSBT, verified the signature under the claimed key,
//! and checked that the key belongs to the input's script: the p2pkh / p2wpkh key, a
//! key the redeem or witness script (hashing to the spent script) holds, the taproot
//! output key, or a key in a leaf that the output commits to. Derivations in the PSBT
//! are not evidence: anyone can write one.

use bitcoin::blockdata::script::Instruction;
use bitcoin::hashes::Hash;
use bitcoin::key::CompressedPublicKey;
use bitcoin::key::{PublicKey, XOnlyPublicKey};
use bitcoin::secp256k1::{Message, Secp256k1, VerifyOnly};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::TapLeafHash;
use bitcoin::{ecdsa, taproot, EcdsaSighashType, Script, ScriptBuf, Transaction, TxOut};

use crate::error::{Error, Result};
use crate::protocol::musig::fields::{
    self as musig_fields, SessionKey, PARTIAL_SIG_LEN, PUB_NONCE_LEN,
};
use crate::protocol::psbt::raw::{self, RawPsbt};
use crate::protocol::psbt::view::Psbt;

/// A signature for one input, with the key it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputSignature {
    /// ECDSA (legacy, nested or native segwit v0), with its sighash byte.
    Ecdsa {
        /// The signing key.
        pubkey: PublicKey,
        /// The signature.
        sig: ecdsa::Signature,
    },
    /// Schnorr, taproot key path: `key` is the tweaked output key.
    TapKey {
        /// The output key.
        key: XOnlyPublicKey,
        /// The signature.
        sig: taproot::Signature,
    },
    /// Schnorr, taproot script path.
    TapScript {
        /// The key in the leaf script.
        key: XOnlyPublicKey,
        /// The leaf that is spent.
        leaf: TapLeafHash,
        /// The signature.
        sig: taproot::Signature,
    },
    /// MuSig2 round 1: a participant's public nonce (BIP-373
    /// `PSBT_IN_MUSIG2_PUB_NONCE`), see [`crate::protocol::musig`].
    MusigPubNonce {
        /// Who, for which aggregate key (after every tweak) and leaf.
        session: SessionKey,
        /// The public nonce (two compressed points).
        nonce: [u8; PUB_NONCE_LEN],
    },
    /// MuSig2 round 2: a participant's partial signature (BIP-373
    /// `PSBT_IN_MUSIG2_PARTIAL_SIG`).
    MusigPartialSig {
        /// Who, for which aggregate key (after every tweak) and leaf.
        session: SessionKey,
        /// The partial signature (a scalar).
        sig: [u8; PARTIAL_SIG_LEN],
    },
}

/// The error for a device's answer that is not what the input allows.
pub(crate) fn lie(index: usize, what: impl core::fmt::Display) -> Error {
    Error::protocol(format!("input {index}: the device returned {what}"))
}

/// Verifies signatures for the inputs of one PSBT, sharing sighash midstates.
pub struct Verifier<'a> {
    psbt: &'a Psbt,
    cache: SighashCache<&'a Transaction>,
    prevouts: Option<Vec<TxOut>>,
    secp: Secp256k1<VerifyOnly>,
}

impl<'a> Verifier<'a> {
    /// A verifier for `psbt`.
    pub fn new(psbt: &'a Psbt) -> Self {
        let prevouts: Option<Vec<TxOut>> = (0..psbt.inputs.len())
            .map(|i| spent_output(psbt, i))
            .collect();
        Verifier {
            psbt,
            cache: SighashCache::new(&psbt.unsigned_tx),
            prevouts,
            secp: Secp256k1::verification_only(),
        }
    }

    /// Checks `sig` for input `index`.
    ///
    /// # Errors
    /// `protocol` naming the input when the signature does not verify, has an
    /// unexpected sighash type, or is for a key the input does not use.
    pub fn verify(&mut self, index: usize, sig: &InputSignature) -> Result<()> {
        let input = self
            .psbt
            .inputs
            .get(index)
            .ok_or_else(|| lie(index, "a signature for an input the psbt does not have"))?;
        match sig {
            InputSignature::Ecdsa { pubkey, sig } => {
                if !ecdsa_key_in_input(self.psbt, index, pubkey) {
                    return Err(lie(
                        index,
                        format!(
                            "a signature by key {pubkey}, which the input's script does not use"
                        ),
                    ));
                }
                let (msg, expected) = ecdsa_sighash(self.psbt, index, &mut self.cache)?;
                if sig.sighash_type != expected {
                    return Err(lie(
                        index,
                        format!(
                            "sighash type {} where {} was expected",
                            sig.sighash_type, expected
                        ),
                    ));
                }
                self.secp
                    .verify_ecdsa(&msg, &sig.signature, &pubkey.inner)
                    .map_err(|_| lie(index, "an ecdsa signature that does not verify"))
            }
            InputSignature::TapKey { key, sig } => {
                let utxo = spent_output(self.psbt, index)
                    .ok_or_else(|| Error::invalid(format!("input {index}"), "no utxo"))?;
                if !utxo.script_pubkey.is_p2tr()
                    || utxo.script_pubkey.as_bytes().get(2..) != Some(&key.serialize()[..])
                {
                    return Err(lie(
                        index,
                        format!("a key-path signature by {key}, which is not the output key"),
                    ));
                }
                let ty = self.tap_sighash_type(index, sig)?;
                let hash = self.tap_sighash(index, None, ty)?;
                self.check_schnorr(index, hash, key, sig)
            }
            InputSignature::TapScript { key, leaf, sig } => {
                let Some((control, (script, ver))) = input
                    .tap_scripts
                    .iter()
                    .find(|(_, (script, ver))| TapLeafHash::from_script(script, *ver) == *leaf)
                else {
                    return Err(lie(
                        index,
                        format!("a signature for leaf {leaf}, which the input does not have"),
                    ));
                };
                // The leaf must be one the spent output commits to (its control block
                // leads to the output key), and hold the key.
                let committed = spent_output(self.psbt, index)
                    .filter(|o| o.script_pubkey.is_p2tr())
                    .and_then(|o| {
                        XOnlyPublicKey::from_slice(o.script_pubkey.as_bytes().get(2..34)?).ok()
                    })
                    .is_some_and(|output_key| {
                        *ver == control.leaf_version
                            && control.verify_taproot_commitment(&self.secp, output_key, script)
                    });
                if !committed {
                    return Err(lie(
                        index,
                        format!("a signature for leaf {leaf}, which the spent output does not commit to"),
                    ));
                }
                if !pushes(script, &key.serialize()) {
                    return Err(lie(
                        index,
                        format!("a script-path signature by {key}, which leaf {leaf} does not use"),
                    ));
                }
                let ty = self.tap_sighash_type(index, sig)?;
                let hash = self.tap_sighash(index, Some(*leaf), ty)?;
                self.check_schnorr(index, hash, key, sig)
            }
            #[cfg(feature = "musig")]
            InputSignature::MusigPubNonce { .. } | InputSignature::MusigPartialSig { .. } => {
                crate::protocol::musig::check(self, index, sig)
            }
            #[cfg(not(feature = "musig"))]
            InputSignature::MusigPubNonce { .. } | InputSignature::MusigPartialSig { .. } => {
                Err(crate::protocol::musig::unsupported())
            }
        }
    }

    /// The PSBT this verifier checks against.
    #[cfg_attr(not(feature = "musig"), allow(dead_code))]
    pub(crate) fn psbt(&self) -> &'a Psbt {
        self.psbt
    }

    /// The BIP-341 sighash of input `index` (key path, or script path of `leaf`) with
    /// the input's sighash type, and that type.
    ///
    /// # Errors
    /// `invalid-input` when it cannot be computed.
    #[cfg_attr(not(feature = "musig"), allow(dead_code))]
    pub(crate) fn tap_message(
        &mut self,
        index: usize,
        leaf: Option<TapLeafHash>,
    ) -> Result<([u8; 32], TapSighashType)> {
        let ty = match self.psbt.inputs.get(index).and_then(|i| i.sighash_type) {
            Some(t) => t
                .taproot_hash_ty()
                .map_err(|e| Error::invalid(format!("input {index}"), e.to_string()))?,
            None => TapSighashType::Default,
        };
        Ok((self.tap_sighash(index, leaf, ty)?, ty))
    }

    /// The BIP-341 sighash of input `index`: key path, or script path of `leaf`.
    fn tap_sighash(
        &mut self,
        index: usize,
        leaf: Option<TapLeafHash>,
        ty: TapSighashType,
    ) -> Result<[u8; 32]> {
        let field = || format!("input {index}");
        let prevouts = self
            .prevouts
            .as_ref()
            .ok_or_else(|| Error::invalid(field(), "taproot needs the utxo of every input"))?;
        let prevouts = Prevouts::All(prevouts);
        let hash = match leaf {
            None => self
                .cache
                .taproot_key_spend_signature_hash(index, &prevouts, ty),
            Some(leaf) => self
                .cache
                .taproot_script_spend_signature_hash(index, &prevouts, leaf, ty),
        };
        hash.map(|h| h.to_byte_array())
            .map_err(|e| Error::invalid(field(), format!("cannot compute its sighash: {e}")))
    }

    fn tap_sighash_type(&self, index: usize, sig: &taproot::Signature) -> Result<TapSighashType> {
        let expected = match self.psbt.inputs.get(index).and_then(|i| i.sighash_type) {
            Some(t) => t
                .taproot_hash_ty()
                .map_err(|e| Error::invalid(format!("input {index}"), e.to_string()))?,
            None => TapSighashType::Default,
        };
        if sig.sighash_type != expected {
            return Err(lie(
                index,
                format!(
                    "sighash type {} where {} was expected",
                    sig.sighash_type, expected
                ),
            ));
        }
        Ok(expected)
    }

    fn check_schnorr(
        &self,
        index: usize,
        digest: [u8; 32],
        key: &XOnlyPublicKey,
        sig: &taproot::Signature,
    ) -> Result<()> {
        let msg = Message::from_digest(digest);
        self.secp
            .verify_schnorr(&sig.signature, &msg, key)
            .map_err(|_| lie(index, "a schnorr signature that does not verify"))
    }
}

/// The output input `index` spends: from its previous transaction (non-witness utxo)
/// when that is the transaction the outpoint names, else from its witness utxo.
///
/// [`RawPsbt::to_bitcoin`](crate::protocol::psbt::raw::RawPsbt::to_bitcoin) refuses a
/// PSBT whose two disagree.
pub fn spent_output(psbt: &Psbt, index: usize) -> Option<TxOut> {
    let input = psbt.inputs.get(index)?;
    verified_output(psbt, index).or_else(|| input.witness_utxo.clone())
}

/// The ECDSA sighash (legacy, or BIP-143 for segwit v0) of input `index`, for the script
/// it spends (the redeem or witness script of a p2sh / p2wsh one), and its sighash type.
///
/// # Errors
/// `invalid-input` naming the input when its utxo or a script is missing, its sighash
/// type is not a standard one, or it spends a script ECDSA does not sign.
fn ecdsa_sighash(
    psbt: &Psbt,
    index: usize,
    cache: &mut SighashCache<&Transaction>,
) -> Result<(Message, EcdsaSighashType)> {
    let fail = |why: &str| {
        Error::invalid(
            format!("input {index}"),
            format!("cannot compute its sighash: {why}"),
        )
    };
    let input = psbt
        .inputs
        .get(index)
        .ok_or_else(|| fail("no such input"))?;
    let utxo = spent_output(psbt, index).ok_or_else(|| fail("no utxo"))?;
    let spk = &utxo.script_pubkey;
    let ty = match input.sighash_type {
        None => EcdsaSighashType::All,
        Some(t) => t
            .ecdsa_hash_ty()
            .map_err(|_| fail("a sighash type that is not a standard one"))?,
    };
    // The script a p2sh output commits to is its redeem script; others are their own.
    let code: &Script = if spk.is_p2sh() {
        input
            .redeem_script
            .as_deref()
            .ok_or_else(|| fail("no redeem script"))?
    } else {
        spk
    };
    let msg = if code.is_p2wpkh() {
        cache
            .p2wpkh_signature_hash(index, code, utxo.value, ty)
            .map(Message::from)
            .map_err(|_| fail("not a segwit v0 script"))?
    } else if code.is_p2wsh() {
        let witness_script = input
            .witness_script
            .as_ref()
            .ok_or_else(|| fail("no witness script"))?;
        cache
            .p2wsh_signature_hash(index, witness_script, utxo.value, ty)
            .map(Message::from)
            .map_err(|_| fail("not a segwit v0 script"))?
    } else if spk.is_witness_program() {
        return Err(fail("a witness program ecdsa does not sign"));
    } else {
        cache
            .legacy_signature_hash(index, code, ty.to_u32())
            .map(Message::from)
            .map_err(|_| fail("no such input"))?
    };
    Ok((msg, ty))
}

/// The output input `index` spends, taken from its previous transaction, whose txid
/// the outpoint commits to: an amount that cannot be a lie.
fn verified_output(psbt: &Psbt, index: usize) -> Option<TxOut> {
    let input = psbt.inputs.get(index)?;
    let prevout = psbt.unsigned_tx.input.get(index)?.previous_output;
    let tx = input.non_witness_utxo.as_ref()?;
    if tx.compute_txid() != prevout.txid {
        return None;
    }
    tx.output.get(usize::try_from(prevout.vout).ok()?).cloned()
}

/// True when the amount input `index` spends is certain before signing: its previous
/// transaction is given (and hashes to the txid it spends), or every input spends a
/// taproot output. BIP-341 signatures commit to the amount and script of every input,
/// so with only taproot inputs a wrong amount makes the signatures invalid rather than
/// the fee higher. Segwit v0 and legacy signatures commit at most to their own input's
/// amount: there, an amount from a witness utxo alone is the PSBT's word (the Ledger
/// app warns "unverified inputs").
pub fn amount_verified(psbt: &Psbt, index: usize) -> bool {
    if verified_output(psbt, index).is_some() {
        return true;
    }
    let all_taproot = !psbt.inputs.is_empty()
        && (0..psbt.inputs.len())
            .all(|i| spent_output(psbt, i).is_some_and(|o| o.script_pubkey.is_p2tr()));
    all_taproot && spent_output(psbt, index).is_some()
}

/// True when `script` pushes `data` (a key, or a key hash) anywhere.
fn pushes(script: &Script, data: &[u8]) -> bool {
    script
        .instructions()
        .any(|i| matches!(i, Ok(Instruction::PushBytes(b)) if b.as_bytes() == data))
}

/// True when the script input `index` spends commits to `key`: p2pkh / p2wpkh of it,
/// or a redeem / witness script that hashes to the spent script and pushes the key (or
/// its hash, as `pkh()` does).
fn ecdsa_key_in_input(psbt: &Psbt, index: usize, key: &PublicKey) -> bool {
    let (Some(input), Some(utxo)) = (psbt.inputs.get(index), spent_output(psbt, index)) else {
        return false;
    };
    let spk = &utxo.script_pubkey;
    let Ok(ck) = CompressedPublicKey::try_from(*key) else {
        // Uncompressed keys: only bare p2pkh of the key itself.
        return *spk == ScriptBuf::new_p2pkh(&key.pubkey_hash());
    };
    let in_script =
        |s: &Script| pushes(s, &key.to_bytes()) || pushes(s, ck.pubkey_hash().as_byte_array());
    let wpkh = ScriptBuf::new_p2wpkh(&ck.wpubkey_hash());
    if *spk == ScriptBuf::new_p2pkh(&ck.pubkey_hash()) || *spk == wpkh {
        return true;
    }
    let witness = input.witness_script.as_ref().filter(|ws| {
        ScriptBuf::new_p2wsh(&ws.wscript_hash()) == *spk
            || ScriptBuf::new_p2wsh(&ws.wscript_hash()).to_p2sh() == *spk
    });
    if let Some(ws) = witness {
        // p2wsh, or p2sh-p2wsh whose redeem script must then be that p2wsh.
        let nested_ok = spk.is_p2wsh()
            || input
                .redeem_script
                .as_ref()
                .is_some_and(|rs| *rs == ScriptBuf::new_p2wsh(&ws.wscript_hash()));
        return nested_ok && in_script(ws);
    }
    match &input.redeem_script {
        Some(rs) if rs.to_p2sh() == *spk => *rs == wpkh || in_script(rs),
        _ => false,
    }
}

/// Adds a (verified) signature to input `index` of `psbt`, replacing one for the same
/// key.
///
/// # Errors
/// `invalid-input` when the input does not exist.
pub fn insert(psbt: &mut RawPsbt, index: usize, sig: &InputSignature) -> Result<()> {
    let map = psbt
        .inputs
        .get_mut(index)
        .ok_or_else(|| Error::invalid(format!("input {index}"), "no such input"))?;
    let (key, value) = match sig {
        InputSignature::Ecdsa { pubkey, sig } => {
            let mut key = vec![raw::input::PARTIAL_SIG];
            key.extend_from_slice(&pubkey.to_bytes());
            (key, sig.to_vec())
        }
        InputSignature::TapKey { sig, .. } => (vec![raw::input::TAP_KEY_SIG], sig.to_vec()),
        InputSignature::TapScript {
            key: xonly,
            leaf,
            sig,
        } => {
            let mut key = vec![raw::input::TAP_SCRIPT_SIG];
            key.extend_from_slice(&xonly.serialize());
            key.extend_from_slice(leaf.as_byte_array());
            (key, sig.to_vec())
        }
        InputSignature::MusigPubNonce { session, nonce } => {
            (session.psbt_key(musig_fields::IN_PUB_NONCE), nonce.to_vec())
        }
        InputSignature::MusigPartialSig { session, sig } => {
            (session.psbt_key(musig_fields::IN_PARTIAL_SIG), sig.to_vec())
        }
    };
    raw::set(map, key, value);
    Ok(())
}
