//! The last MuSig2 step: every participant's partial signature of a session becomes
//! the input's Schnorr signature (BIP-327 PartialSigAgg), checked against the BIP-341
//! sighash before it goes into the PSBT as `PSBT_IN_TAP_KEY_SIG` or
//! `PSBT_IN_TAP_SCRIPT_SIG`.

use bitcoin::taproot;
use musig2::secp::MaybeScalar;
use musig2::{AggNonce, CompactSignature};

use crate::error::{Error, Result};
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::{insert, InputSignature, Verifier};

use super::fields::{self, PARTIAL_SIG_LEN};
use super::spend::{psbt_groups, spends, unknown_map};
use super::verify::nonces_of;

/// A new PSBT where every MuSig2 session whose participants all gave their partial
/// signature has its aggregate Schnorr signature. Sessions without any partial
/// signature are left alone.
///
/// # Errors
/// `invalid-input` naming the input when a session has only some partial signatures,
/// misses a nonce, or its signatures do not aggregate to one that verifies.
pub fn aggregate(psbt: &RawPsbt) -> Result<RawPsbt> {
    let view = psbt.view()?;
    let mut verifier = Verifier::new(&view);
    let mut out = psbt.clone();
    for (index, input) in view.inputs.iter().enumerate() {
        let field = format!("input {index}");
        let partials = fields::session_values::<PARTIAL_SIG_LEN>(
            &unknown_map(input),
            fields::IN_PARTIAL_SIG,
            &field,
        )?;
        if partials.is_empty() {
            continue;
        }
        for spend in spends(&view, index, &psbt_groups(input, index)?)? {
            let mine: Vec<_> = spend
                .group
                .participants
                .iter()
                .filter_map(|p| partials.iter().find(|(k, _)| *k == spend.session_key(*p)))
                .collect();
            if mine.is_empty() {
                continue;
            }
            if mine.len() != spend.group.participants.len() {
                return Err(Error::invalid(
                    field,
                    format!(
                        "musig2 partial signatures of {} of {} participants: the others sign round 2 first",
                        mine.len(),
                        spend.group.participants.len()
                    ),
                ));
            }
            let nonces = nonces_of(&spend, &view)?;
            let aggnonce: AggNonce = nonces.iter().map(|(_, n)| n).sum();
            let psigs = mine
                .iter()
                .map(|(_, s)| MaybeScalar::from_slice(s))
                .collect::<core::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    Error::invalid(field.clone(), "a musig2 partial signature is not a scalar")
                })?;
            let (message, ty) = verifier.tap_message(index, spend.leaf)?;
            let sig: CompactSignature =
                musig2::aggregate_partial_signatures(&spend.context, &aggnonce, psigs, message)
                    .map_err(|_| {
                        Error::invalid(
                            field.clone(),
                            "its musig2 partial signatures do not aggregate to a valid signature",
                        )
                    })?;
            let signature = bitcoin::secp256k1::schnorr::Signature::from_slice(&sig.serialize())
                .map_err(|_| {
                    Error::invalid(field.clone(), "the aggregate signature does not decode")
                })?;
            let sig = taproot::Signature {
                signature,
                sighash_type: ty,
            };
            let key = spend.aggregate.x_only_public_key().0;
            let signed = match spend.leaf {
                None => InputSignature::TapKey { key, sig },
                Some(leaf) => InputSignature::TapScript { key, leaf, sig },
            };
            verifier.verify(index, &signed).map_err(|e| {
                Error::invalid(
                    field.clone(),
                    format!("the aggregate musig2 signature fails: {e}"),
                )
            })?;
            insert(&mut out, index, &signed)?;
        }
    }
    Ok(out)
}

/// True when a MuSig2 session of the PSBT is under way: some participant's nonce is in,
/// but not every participant's partial signature. Such a PSBT is not final yet, and its
/// partial signatures (one per device session) must not be lost.
///
/// # Errors
/// `invalid-input` for malformed MuSig2 fields.
pub fn pending(psbt: &RawPsbt) -> Result<bool> {
    let view = psbt.view()?;
    for (index, input) in view.inputs.iter().enumerate() {
        let field = format!("input {index}");
        let map = unknown_map(input);
        if !fields::has(&map, fields::IN_PUB_NONCE) {
            continue;
        }
        let partials =
            fields::session_values::<PARTIAL_SIG_LEN>(&map, fields::IN_PARTIAL_SIG, &field)?;
        for spend in spends(&view, index, &psbt_groups(input, index)?)? {
            let signed = spend
                .group
                .participants
                .iter()
                .filter(|p| partials.iter().any(|(k, _)| *k == spend.session_key(**p)))
                .count();
            if signed < spend.group.participants.len() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
