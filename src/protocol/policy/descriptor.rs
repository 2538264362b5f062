//! Output descriptors as BIP-388 wallet policies: the keys become `@i` placeholders.
//!
//! `wpkh([f5acc2fd/84'/0'/0']xpub…/0/*)` is the policy `wpkh(@0/**)` with key
//! `[f5acc2fd/84'/0'/0']xpub…`, on the receive branch; `/<0;1>/*` keys give both
//! branches.

use miniscript::descriptor::{Descriptor, DescriptorPublicKey, Wildcard};
use miniscript::ForEachKey;

use bitcoin::bip32::ChildNumber;

use crate::error::{Error, Result};

use super::WalletPolicy;

/// A descriptor turned into a policy, and the branch its keys were on (`Some(1)` for
/// change, `Some(0)` for receive, `None` for multipath keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorPolicy {
    /// The wallet policy.
    pub policy: WalletPolicy,
    /// The branch single-path keys were on.
    pub branch: Option<u32>,
}

fn bad(why: impl Into<String>) -> Error {
    Error::invalid("descriptor", why)
}

fn normal(step: &ChildNumber) -> Option<u32> {
    match step {
        ChildNumber::Normal { index } => Some(*index),
        ChildNumber::Hardened { .. } => None,
    }
}

/// Turns `descriptor` (checksum optional) into a wallet policy named `name`.
///
/// # Errors
/// `invalid-input` (field `descriptor`) when it does not parse, uses keys that are not
/// ranged extended keys (`xpub…/0/*` or `xpub…/<0;1>/*`), or mixes branches.
pub fn policy_from_descriptor(descriptor: &str, name: &str) -> Result<DescriptorPolicy> {
    let parsed: Descriptor<DescriptorPublicKey> =
        descriptor.trim().parse().map_err(|e| bad(format!("{e}")))?;
    let mut keys: Vec<DescriptorPublicKey> = Vec::new();
    parsed.for_each_key(|k| {
        keys.push(k.clone());
        true
    });
    let text = parsed.to_string();
    let mut rest = text.split('#').next().unwrap_or_default();
    let mut template = String::with_capacity(rest.len());
    let mut infos: Vec<String> = Vec::new();
    let mut branch: Option<u32> = None;
    for key in &keys {
        let shown = key.to_string();
        let at = rest
            .find(&shown)
            .ok_or_else(|| bad("could not place a key in the template"))?;
        let (info, suffix) = match key {
            DescriptorPublicKey::XPub(x) if x.wildcard == Wildcard::Unhardened => {
                let steps: Vec<ChildNumber> = x.derivation_path.into_iter().copied().collect();
                let b = match steps.as_slice() {
                    [step] => normal(step).ok_or_else(|| {
                        bad("a hardened branch step cannot be derived from an xpub")
                    })?,
                    _ => {
                        return Err(bad(format!(
                            "key {shown} must end in /0/* or /1/* (or /<0;1>/*)"
                        )))
                    }
                };
                if branch.is_some_and(|other| other != b) {
                    return Err(bad("keys on different branches"));
                }
                branch = Some(b);
                (origin_and_xpub(&shown), "/**".to_string())
            }
            DescriptorPublicKey::MultiXPub(x) if x.wildcard == Wildcard::Unhardened => {
                let paths: Vec<Option<u32>> = x
                    .derivation_paths
                    .paths()
                    .iter()
                    .map(|p| match p.as_ref() {
                        [step] => normal(step),
                        _ => None,
                    })
                    .collect();
                let suffix = match paths.as_slice() {
                    [Some(0), Some(1)] => "/**".to_string(),
                    [Some(a), Some(b)] => format!("/<{a};{b}>/*"),
                    _ => return Err(bad(format!("key {shown} must end in /<a;b>/*"))),
                };
                (origin_and_xpub(&shown), suffix)
            }
            _ => {
                return Err(bad(format!(
                    "key {shown} is not a ranged extended key (xpub…/0/*)"
                )))
            }
        };
        let index = match infos.iter().position(|i| *i == info) {
            Some(i) => i,
            None => {
                infos.push(info);
                infos.len() - 1
            }
        };
        let (before, after) = rest.split_at(at);
        template.push_str(before);
        template.push_str(&format!("@{index}{suffix}"));
        rest = after.get(shown.len()..).unwrap_or_default();
    }
    template.push_str(rest);
    let policy = WalletPolicy::new(name, &template, infos)?;
    Ok(DescriptorPolicy { policy, branch })
}

/// `[origin]xpub` without the derivation after the xpub.
fn origin_and_xpub(shown: &str) -> String {
    let start = shown.find(']').map_or(0, |i| i + 1);
    let tail = shown.get(start..).unwrap_or_default();
    let end = tail.find('/').map_or(shown.len(), |i| start + i);
    shown.get(..end).unwrap_or(shown).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const XPUB: &str = "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";

    #[test]
    fn single_key_descriptors() {
        let d =
            policy_from_descriptor(&format!("wpkh([f5acc2fd/84h/1h/0h]{XPUB}/1/*)"), "").unwrap();
        assert_eq!(d.policy.template, "wpkh(@0/**)");
        assert_eq!(d.policy.keys, vec![format!("[f5acc2fd/84'/1'/0']{XPUB}")]);
        assert_eq!(d.branch, Some(1));
        let d =
            policy_from_descriptor(&format!("tr([f5acc2fd/86'/1'/0']{XPUB}/<0;1>/*)"), "").unwrap();
        assert_eq!(d.policy.template, "tr(@0/**)");
        assert_eq!(d.branch, None);
    }

    #[test]
    fn multisig_and_repeated_keys() {
        let other = "tpubDE7NQymr4AFtewpAsWtnreyq9ghkzQBXpCZjWLFVRAvnbf7vya2eMTvT2fPapNqL8SuVvLQdbUbMfWLVDCZKnsEBqp6UK93QEzL8Ck23AwF";
        let text = format!("wsh(sortedmulti(2,[f5acc2fd/48'/1'/0'/2']{XPUB}/<0;1>/*,[76223a6e/48'/1'/0'/2']{other}/<0;1>/*))");
        let d = policy_from_descriptor(&text, "Cold").unwrap();
        assert_eq!(d.policy.template, "wsh(sortedmulti(2,@0/**,@1/**))");
        assert_eq!(d.policy.keys.len(), 2);
        let text = format!("wsh(or_d(pk([f5acc2fd]{XPUB}/<0;1>/*),and_v(v:pkh([f5acc2fd]{XPUB}/<2;3>/*),older(10))))");
        let d = policy_from_descriptor(&text, "Decay").unwrap();
        assert_eq!(
            d.policy.template,
            "wsh(or_d(pk(@0/**),and_v(v:pkh(@0/<2;3>/*),older(10))))"
        );
        assert_eq!(d.policy.keys.len(), 1);
    }

    #[test]
    fn rejects_what_is_not_a_policy() {
        for text in [
            "wpkh(02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9)".to_string(),
            format!("wpkh({XPUB}/0/5)"),
            format!("wpkh({XPUB}/0/1/*)"),
            "nonsense".to_string(),
        ] {
            assert_eq!(
                policy_from_descriptor(&text, "").unwrap_err().code(),
                "invalid-input",
                "{text}"
            );
        }
    }
}
