//! Checking what a device yields in each MuSig2 round before it goes into the PSBT.
//!
//! A public nonce must be for a session the input has (its aggregate key and leaf, one
//! of its participants) and be two points. A partial signature must pass BIP-327
//! `PartialSigVerify` for the input's BIP-341 sighash, with the nonces of every
//! participant that the PSBT the device signed holds.

use musig2::secp::MaybeScalar;
use musig2::{AggNonce, PubNonce};

use crate::error::{Error, Result};
use crate::protocol::psbt::signature::{lie, InputSignature, Verifier};

use super::fields::{self, SessionKey, PUB_NONCE_LEN};
use super::keys::point;
use super::spend::{psbt_groups, spends, unknown_map, Spend};

fn session<'s>(spends: &'s [Spend], index: usize, key: &SessionKey) -> Result<&'s Spend> {
    spends.iter().find(|s| s.has(key)).ok_or_else(|| {
        lie(
            index,
            format!(
                "musig2 data of {} for aggregate key {}{}, a session the input does not have",
                key.participant,
                key.aggregate,
                key.leaf
                    .map(|l| format!(" in leaf {l}"))
                    .unwrap_or_default()
            ),
        )
    })
}

/// The public nonce of every participant of `spend`, in KeyAgg order, from the PSBT.
///
/// # Errors
/// `invalid-input` naming the input when one is missing or malformed.
pub fn nonces_of(
    spend: &Spend,
    psbt: &crate::protocol::psbt::view::Psbt,
) -> Result<Vec<(SessionKey, PubNonce)>> {
    let field = format!("input {}", spend.input);
    let input = psbt
        .inputs
        .get(spend.input)
        .ok_or_else(|| Error::invalid(field.clone(), "no such input"))?;
    let all =
        fields::session_values::<PUB_NONCE_LEN>(&unknown_map(input), fields::IN_PUB_NONCE, &field)?;
    spend
        .group
        .participants
        .iter()
        .map(|p| {
            let key = spend.session_key(*p);
            let (_, bytes) = all.iter().find(|(k, _)| *k == key).ok_or_else(|| {
                Error::invalid(field.clone(), format!("no musig2 nonce of participant {p}"))
            })?;
            let nonce = PubNonce::from_bytes(bytes).map_err(|_| {
                Error::invalid(
                    field.clone(),
                    format!("the musig2 nonce of {p} is not two points"),
                )
            })?;
            Ok((key, nonce))
        })
        .collect()
}

/// Checks a yielded MuSig2 nonce or partial signature for input `index` against the
/// PSBT the verifier holds.
///
/// # Errors
/// `protocol` naming the input when it is not for a session of the input, malformed,
/// or (a partial signature) does not verify; `invalid-input` when the PSBT lacks what
/// the check needs.
pub(crate) fn check(verifier: &mut Verifier<'_>, index: usize, sig: &InputSignature) -> Result<()> {
    let psbt = verifier.psbt();
    let input = psbt
        .inputs
        .get(index)
        .ok_or_else(|| lie(index, "musig2 data for an input the psbt does not have"))?;
    let spends = spends(psbt, index, &psbt_groups(input, index)?)?;
    match sig {
        InputSignature::MusigPubNonce {
            session: key,
            nonce,
        } => {
            session(&spends, index, key)?;
            PubNonce::from_bytes(nonce)
                .map_err(|_| lie(index, "a musig2 nonce that is not two points"))?;
            Ok(())
        }
        InputSignature::MusigPartialSig { session: key, sig } => {
            let spend = session(&spends, index, key)?;
            let nonces = nonces_of(spend, psbt)?;
            let own = nonces
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, n)| n.clone())
                .ok_or_else(|| lie(index, "a partial signature without its nonce"))?;
            let aggnonce: AggNonce = nonces.iter().map(|(_, n)| n).sum();
            let (message, _) = verifier.tap_message(index, spend.leaf)?;
            let psig = MaybeScalar::from_slice(sig)
                .map_err(|_| lie(index, "a musig2 partial signature that is not a scalar"))?;
            musig2::verify_partial(
                &spend.context,
                psig,
                &aggnonce,
                point(&key.participant)?,
                &own,
                message,
            )
            .map_err(|_| lie(index, "a musig2 partial signature that does not verify"))
        }
        _ => Err(lie(index, "a signature that is not musig2 data")),
    }
}
