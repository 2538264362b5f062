//! What the host sends for a MuSig2 policy, so that one PSBT can go from device to
//! device: the app takes any public nonce in the PSBT for round 2, so until the nonces
//! of every participant are in, the device gets the PSBT without them (round 1).

use crate::error::{Error, Result};
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::{self, RawPsbt};

use super::fields;
use super::spend::{policy_groups, spends, Group};
use super::verify::nonces_of;

/// Which MuSig2 round a signing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Round 1: the device gives its public nonces.
    Nonces,
    /// Round 2: the device gives its partial signatures.
    PartialSignatures,
}

/// A PSBT made ready for one SIGN_PSBT with a policy.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The caller's PSBT with the participant lists (BIP-373) the policy implies added
    /// where missing: what the device's answers go into.
    pub base: RawPsbt,
    /// What the device gets: `base`, without any nonce or partial signature in round 1.
    pub to_device: RawPsbt,
    /// The round, for a policy with `musig()`.
    pub round: Option<Round>,
}

fn same_participants(
    a: &[bitcoin::secp256k1::PublicKey],
    b: &[bitcoin::secp256k1::PublicKey],
) -> bool {
    super::keys::sorted(a) == super::keys::sorted(b)
}

/// `psbt` with `PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS` for every `musig()` of `policy`
/// that an input derives from (BIP-373, the updater's part), where missing.
///
/// # Errors
/// `invalid-input` when a listed group is not the policy's, or a field is malformed.
pub fn add_participants(psbt: &RawPsbt, policy: &WalletPolicy) -> Result<RawPsbt> {
    with_participants(psbt, &policy_groups(policy)?)
}

fn with_participants(psbt: &RawPsbt, groups: &[Group]) -> Result<RawPsbt> {
    let view = psbt.view()?;
    let mut out = psbt.clone();
    for (index, (input, map)) in view.inputs.iter().zip(out.inputs.iter_mut()).enumerate() {
        let field = format!("input {index}");
        let listed = fields::participants(map, fields::IN_PARTICIPANT_PUBKEYS, &field)?;
        for group in groups {
            let fingerprint = group.fingerprint();
            if !input
                .tap_key_origins
                .values()
                .any(|(_, (f, _))| *f == fingerprint)
            {
                continue;
            }
            match listed
                .iter()
                .find(|(aggregate, _)| *aggregate == group.aggregate)
            {
                Some((_, participants)) if same_participants(participants, &group.participants) => {
                }
                Some(_) => {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "its musig2 participants of {} are not the policy's",
                            group.aggregate
                        ),
                    ))
                }
                None => {
                    let (key, value) =
                        fields::participants_entry(&group.aggregate, &group.participants);
                    raw::set(map, key, value);
                }
            }
        }
    }
    Ok(out)
}

/// Prepares `psbt` for a SIGN_PSBT with `policy`.
///
/// # Errors
/// `invalid-input` when the PSBT's MuSig2 fields contradict the policy or are
/// malformed.
pub fn prepare(psbt: &RawPsbt, policy: &WalletPolicy) -> Result<Prepared> {
    let groups = policy_groups(policy)?;
    if groups.is_empty() {
        return Ok(Prepared {
            base: psbt.clone(),
            to_device: psbt.clone(),
            round: None,
        });
    }
    let base = with_participants(psbt, &groups)?;
    let view = base.view()?;
    let mut all = Vec::new();
    for index in 0..view.inputs.len() {
        all.extend(spends(&view, index, &groups)?);
    }
    let complete = !all.is_empty() && all.iter().all(|s| nonces_of(s, &view).is_ok());
    if complete {
        return Ok(Prepared {
            to_device: base.clone(),
            base,
            round: Some(Round::PartialSignatures),
        });
    }
    let mut to_device = base.clone();
    for map in &mut to_device.inputs {
        *map = fields::without(
            &fields::without(map, fields::IN_PUB_NONCE),
            fields::IN_PARTIAL_SIG,
        );
    }
    Ok(Prepared {
        base,
        to_device,
        round: Some(Round::Nonces),
    })
}
