//! Whether an output pays back to the device: rebuilt from the key, never taken from
//! a label.
//!
//! A PSBT marks an output as the signer's by giving a BIP-32 derivation with its
//! fingerprint, but anyone can write that derivation next to any script. An output is
//! change only when its script is rebuilt from such a key: a single-key script of that
//! key (p2pkh, p2wpkh, p2sh-p2wpkh, or a BIP-86 taproot output without scripts), or,
//! given the wallet policy, the policy's own script at the derivation's change and
//! index (multisig, miniscript, taproot trees), as the Ledger app checks change. The
//! same single-key check decides which outputs the Trezor plan sends as change.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint};
use bitcoin::key::{CompressedPublicKey, Secp256k1};
use bitcoin::{Script, ScriptBuf};

use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::view::Output;

/// What an output's derivations with the device's fingerprint come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// No derivation with the fingerprint: an ordinary output.
    NotClaimed,
    /// Its script is rebuilt from the device's key (or the policy): change.
    Verified,
    /// It carries the fingerprint, but its script is not rebuilt from that key: it
    /// must be shown as a payment, and flagged.
    Unverified,
}

/// The derivations of `output` with `fingerprint`: ECDSA keys as compressed keys,
/// taproot ones as x-only keys with whether they sit in leaves.
fn our_paths(output: &Output, fingerprint: Fingerprint) -> Vec<DerivationPath> {
    let ecdsa = output
        .bip32_derivation
        .values()
        .filter(|(f, _)| *f == fingerprint)
        .map(|(_, p)| p.clone());
    let tap = output
        .tap_key_origins
        .values()
        .filter(|(_, (f, _))| *f == fingerprint)
        .map(|(_, (_, p))| p.clone());
    ecdsa.chain(tap).collect()
}

/// The single-key script kind of `spk` when it is built from a key of `fingerprint`
/// alone: `Some(path)` of that key.
pub fn single_key(
    output: &Output,
    spk: &Script,
    fingerprint: Fingerprint,
) -> Option<(SingleKey, DerivationPath)> {
    for (key, (f, path)) in &output.bip32_derivation {
        if *f != fingerprint {
            continue;
        }
        let ck = CompressedPublicKey(*key);
        let p2wpkh = ScriptBuf::new_p2wpkh(&ck.wpubkey_hash());
        let kind = if *spk == ScriptBuf::new_p2pkh(&ck.pubkey_hash()) {
            SingleKey::P2pkh
        } else if *spk == p2wpkh {
            SingleKey::P2wpkh
        } else if *spk == p2wpkh.to_p2sh() {
            SingleKey::P2shP2wpkh
        } else {
            continue;
        };
        return Some((kind, path.clone()));
    }
    // BIP-86: the key tweaked with no script tree. An output key that also commits to
    // scripts could be spent by whoever those scripts name.
    let secp = Secp256k1::verification_only();
    for (xonly, (leaves, (f, path))) in &output.tap_key_origins {
        if *f == fingerprint
            && leaves.is_empty()
            && output.tap_tree.is_none()
            && *spk == ScriptBuf::new_p2tr(&secp, *xonly, None)
        {
            return Some((SingleKey::P2tr, path.clone()));
        }
    }
    None
}

/// A single-key script type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleKey {
    /// Pay to public key hash.
    P2pkh,
    /// Native segwit v0.
    P2wpkh,
    /// Segwit v0 nested in p2sh.
    P2shP2wpkh,
    /// Taproot key path (BIP-86).
    P2tr,
}

/// The origin path (`[fpr/path]`) of each key of `policy` with `fingerprint`.
fn policy_origins(policy: &WalletPolicy, fingerprint: Fingerprint) -> Vec<DerivationPath> {
    policy
        .keys
        .iter()
        .filter_map(|k| {
            let inner = k.strip_prefix('[')?;
            let (origin, _) = inner.split_once(']')?;
            let (fpr, path) = origin.split_once('/').unwrap_or((origin, ""));
            if Fingerprint::from_str(fpr).ok()? != fingerprint {
                return None;
            }
            DerivationPath::from_str(&format!("m/{path}")).ok()
        })
        .collect()
}

/// The policy's script at the branch and index that `path` names below one of the
/// device's key origins in `policy`.
fn policy_script(
    policy: &WalletPolicy,
    origins: &[DerivationPath],
    path: &DerivationPath,
) -> Option<ScriptBuf> {
    let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
    let (head, tail) = steps.split_last_chunk::<2>()?;
    let [ChildNumber::Normal { index: branch }, ChildNumber::Normal { index }] = *tail else {
        return None;
    };
    if !origins.iter().any(|o| o.as_ref() == head) {
        return None;
    }
    match policy.form().ok()? {
        Some(form) => {
            // The branch is the key's alternative: `<0;1>` keys have 0 and 1 only.
            let alternatives = form.keys().first()?.alternatives()?.to_vec();
            let change = alternatives.iter().position(|a| *a == branch)?;
            form.script_pubkey(change == 1, index).ok()
        }
        None => other_policy_script(policy, branch, index),
    }
}

#[cfg(feature = "miniscript")]
fn other_policy_script(policy: &WalletPolicy, branch: u32, index: u32) -> Option<ScriptBuf> {
    let singles = policy.descriptor().ok()?.into_single_descriptors().ok()?;
    let descriptor = singles.get(usize::try_from(branch).ok()?)?;
    Some(descriptor.at_derivation_index(index).ok()?.script_pubkey())
}

/// Without miniscript a policy that is not a standard form is not rebuilt: its change
/// stays unverified (a payment, as far as the summary says).
#[cfg(not(feature = "miniscript"))]
fn other_policy_script(_: &WalletPolicy, _: u32, _: u32) -> Option<ScriptBuf> {
    None
}

/// Whether `output` (with script `spk`) is change of the device `fingerprint`, checked
/// against its key and, when given, against `policy`.
pub fn check(
    output: &Output,
    spk: &Script,
    fingerprint: Fingerprint,
    policy: Option<&WalletPolicy>,
) -> Change {
    let paths = our_paths(output, fingerprint);
    if paths.is_empty() {
        return Change::NotClaimed;
    }
    if single_key(output, spk, fingerprint).is_some() {
        return Change::Verified;
    }
    if let Some(policy) = policy {
        let origins = policy_origins(policy, fingerprint);
        if paths
            .iter()
            .any(|p| policy_script(policy, &origins, p).as_deref() == Some(spk))
        {
            return Change::Verified;
        }
    }
    Change::Unverified
}
