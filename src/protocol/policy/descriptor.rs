//! Output descriptors as BIP-388 wallet policies: the keys become `@i` placeholders.
//!
//! `wpkh([f5acc2fd/84'/0'/0']xpub…/0/*)` is the policy `wpkh(@0/**)` with key
//! `[f5acc2fd/84'/0'/0']xpub…`, on the receive branch; `/<0;1>/*` keys give both
//! branches.

use crate::error::{Error, Result};

use super::forms::KeyExpr;
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

/// The script fragments a descriptor starts with.
const TOP_LEVEL: [&str; 5] = ["pkh(", "wpkh(", "sh(", "wsh(", "tr("];

/// Fragments whose argument is a hash, not a key.
const HASHES: [&str; 4] = ["sha256", "hash256", "ripemd160", "hash160"];

/// `[fingerprint/path']xpub` of a key, the origin's hardened steps written `'`.
fn key_info(key: &KeyExpr) -> String {
    match &key.origin {
        Some((fpr, path)) if path.is_empty() => format!("[{fpr}]{}", key.xpub),
        Some((fpr, path)) => format!("[{fpr}/{path}]{}", key.xpub),
        None => key.xpub.to_string(),
    }
}

/// Turns `descriptor` (checksum optional) into a wallet policy named `name`: every
/// key expression becomes a placeholder, whatever the script around it (single key,
/// multisig, miniscript, taproot trees). Only the standard forms' structure is checked
/// here without the cargo feature `miniscript`; a Ledger checks the rest on
/// registration.
///
/// # Errors
/// `invalid-input` (field `descriptor`) when it does not parse, uses keys that are not
/// ranged extended keys (`xpub…/0/*` or `xpub…/<0;1>/*`), or mixes branches.
pub fn policy_from_descriptor(descriptor: &str, name: &str) -> Result<DescriptorPolicy> {
    let text = super::checksum::strip(descriptor.trim())?;
    if !TOP_LEVEL.iter().any(|t| text.starts_with(t)) || !text.ends_with(')') {
        return Err(bad(format!(
            "{text:?} is not a descriptor (pkh, wpkh, sh, wsh or tr)"
        )));
    }
    #[cfg(feature = "miniscript")]
    {
        text.parse::<miniscript::Descriptor<miniscript::DescriptorPublicKey>>()
            .map_err(|e| bad(format!("{e}")))?;
    }
    super::forms::Form::parse(text)?;
    let mut template = String::with_capacity(text.len());
    let mut infos: Vec<String> = Vec::new();
    let mut branch: Option<u32> = None;
    // The fragment names of the open parentheses.
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['(', ')', ',', '{', '}']).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        let delimiter = tail.chars().next();
        if delimiter == Some('(') {
            open.push(token);
            template.push_str(token);
        } else if token.starts_with('[') || token.starts_with("xpub") || token.starts_with("tpub") {
            let key = KeyExpr::parse(token)?;
            let suffix = match (key.alternatives(), key.below(false).as_slice()) {
                (Some([0, 1]), [_]) => "/**".to_string(),
                (Some([a, b]), [_]) => format!("/<{a};{b}>/*"),
                (None, [b]) => {
                    if branch.is_some_and(|other| other != *b) {
                        return Err(bad("keys on different branches"));
                    }
                    branch = Some(*b);
                    "/**".to_string()
                }
                _ => {
                    return Err(bad(format!(
                        "key {token} must end in /0/* or /1/* (or /<0;1>/*)"
                    )))
                }
            };
            let info = key_info(&key);
            let index = match infos.iter().position(|i| *i == info) {
                Some(i) => i,
                None => {
                    infos.push(info);
                    infos.len() - 1
                }
            };
            template.push_str(&format!("@{index}{suffix}"));
        } else {
            let hex_key = matches!(token.len(), 64 | 66 | 130)
                && token.bytes().all(|b| b.is_ascii_hexdigit());
            let in_hash = open
                .last()
                .is_some_and(|f| HASHES.contains(&f.rsplit(':').next().unwrap_or(f)));
            if hex_key && !in_hash {
                return Err(bad(format!(
                    "key {token} is not a ranged extended key (xpub…/0/*)"
                )));
            }
            template.push_str(token);
        }
        if delimiter == Some(')') {
            open.pop();
        }
        if let Some(d) = delimiter {
            template.push(d);
        }
        rest = tail.get(1..).unwrap_or_default();
    }
    let policy = WalletPolicy::new(name, &template, infos)?;
    Ok(DescriptorPolicy { policy, branch })
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
