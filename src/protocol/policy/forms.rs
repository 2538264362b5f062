//! The standard descriptor forms, read and derived without miniscript: `pkh`,
//! `sh(wpkh)`, `wpkh` and `tr` (key only) of one key, and `multi` / `sortedmulti` in
//! `sh`, `wsh` and `sh(wsh)`. Keys are extended keys with an optional origin and a
//! ranged path (`[f5acc2fd/84'/1'/0']tpub…/<0;1>/*`, `xpub…/0/*`).
//!
//! These are what the default npm entry derives addresses for and what its change
//! check and finalizer know; other policies (miniscript, taproot trees) still register
//! and sign on a Ledger, which does the policy work, and the host derives them with the
//! cargo feature `miniscript`.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::blockdata::opcodes::all::OP_CHECKMULTISIG;
use bitcoin::blockdata::script::Builder;
use bitcoin::secp256k1::{Secp256k1, Verification};
use bitcoin::{Address, Network, PublicKey, ScriptBuf};

use crate::error::{Error, Result};
use crate::protocol::path::{self, StepError};

fn bad(why: impl Into<String>) -> Error {
    Error::invalid("descriptor", why)
}

/// One step below an extended key: a plain index or `<a;b>` alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    One(u32),
    Multi(Vec<u32>),
}

/// A ranged extended key: `[origin]xpub/steps/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyExpr {
    /// The key origin: master fingerprint and path, when given.
    pub origin: Option<(Fingerprint, DerivationPath)>,
    /// The extended key.
    pub xpub: Xpub,
    steps: Vec<Step>,
}

fn index(text: &str) -> Result<ChildNumber> {
    path::step(text).map_err(|e| match e {
        StepError::NotANumber | StepError::TooLarge => {
            bad(format!("{text:?} is not a derivation step"))
        }
        StepError::NotBelow2To31(_) => bad(format!("{text:?} is out of range")),
    })
}

fn normal(text: &str) -> Result<u32> {
    match index(text)? {
        ChildNumber::Normal { index } => Ok(index),
        ChildNumber::Hardened { .. } => Err(bad(
            "a hardened step cannot be derived from an xpub".to_string()
        )),
    }
}

impl KeyExpr {
    /// Reads a key expression.
    ///
    /// # Errors
    /// `invalid-input` for anything but an extended key with an unhardened `/*` range
    /// (at most one `<a;b>` step).
    pub fn parse(text: &str) -> Result<Self> {
        let (origin, rest) = match text.strip_prefix('[') {
            Some(inner) => {
                let (o, rest) = inner
                    .split_once(']')
                    .ok_or_else(|| bad(format!("key origin of {text} has no ']'")))?;
                let mut parts = o.split('/');
                let fpr = parts.next().unwrap_or_default();
                let fpr = Fingerprint::from_str(fpr)
                    .map_err(|_| bad(format!("{fpr:?} is not a fingerprint (8 hex digits)")))?;
                let path: DerivationPath = parts.map(index).collect::<Result<Vec<_>>>()?.into();
                (Some((fpr, path)), rest)
            }
            None => (None, text),
        };
        let mut parts = rest.split('/');
        let encoded = parts.next().unwrap_or_default();
        let xpub = Xpub::from_str(encoded).map_err(|_| {
            bad(format!(
                "key {text} is not a ranged extended key (xpub…/0/*)"
            ))
        })?;
        let mut steps = Vec::new();
        let mut ranged = false;
        for part in parts {
            if ranged {
                return Err(bad(format!("key {text} has steps after its /*")));
            }
            if part == "*" {
                ranged = true;
            } else if let Some(alts) = part.strip_prefix('<').and_then(|p| p.strip_suffix('>')) {
                let alts = alts.split(';').map(normal).collect::<Result<Vec<_>>>()?;
                if alts.len() < 2 || steps.iter().any(|s| matches!(s, Step::Multi(_))) {
                    return Err(bad(format!("key {text} has a bad <a;b> step")));
                }
                steps.push(Step::Multi(alts));
            } else {
                steps.push(Step::One(normal(part)?));
            }
        }
        if !ranged {
            return Err(bad(format!(
                "key {text} is not a ranged extended key (xpub…/0/*)"
            )));
        }
        Ok(KeyExpr {
            origin,
            xpub,
            steps,
        })
    }

    /// The alternatives of the `<a;b>` step, if any.
    pub fn alternatives(&self) -> Option<&[u32]> {
        self.steps.iter().find_map(|s| match s {
            Step::Multi(a) => Some(a.as_slice()),
            Step::One(_) => None,
        })
    }

    /// The steps between the xpub and the index, on branch `change` of a `<a;b>` step
    /// (its first alternative when there is no second).
    pub fn below(&self, change: bool) -> Vec<u32> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::One(i) => *i,
                Step::Multi(a) => a
                    .get(usize::from(change))
                    .or_else(|| a.first())
                    .copied()
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The public key at `index` on branch `change`.
    ///
    /// # Errors
    /// `invalid-input` for an index that is not a normal child number.
    pub fn derive<C: Verification>(
        &self,
        secp: &Secp256k1<C>,
        change: bool,
        index: u32,
    ) -> Result<PublicKey> {
        let mut path: Vec<ChildNumber> = Vec::new();
        for i in self.below(change).into_iter().chain([index]) {
            path.push(
                ChildNumber::from_normal_idx(i)
                    .map_err(|_| Error::invalid("address index", format!("{i} is out of range")))?,
            );
        }
        let child = self
            .xpub
            .derive_pub(secp, &path)
            .map_err(|e| Error::invalid("descriptor", e.to_string()))?;
        Ok(PublicKey::new(child.public_key))
    }
}

/// Which script wraps a multisig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// `sh(multi)` (legacy P2SH).
    Sh,
    /// `wsh(multi)`.
    Wsh,
    /// `sh(wsh(multi))`.
    ShWsh,
}

/// A standard descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `pkh(K)`
    Pkh(KeyExpr),
    /// `sh(wpkh(K))`
    ShWpkh(KeyExpr),
    /// `wpkh(K)`
    Wpkh(KeyExpr),
    /// `tr(K)`, key path only.
    Tr(KeyExpr),
    /// `multi` / `sortedmulti` of `keys` with threshold `k`.
    Multi {
        /// The wrapping.
        wrap: Wrap,
        /// `sortedmulti`.
        sorted: bool,
        /// The threshold.
        k: usize,
        /// The keys, in descriptor order.
        keys: Vec<KeyExpr>,
    },
}

/// `name(inner)` → `inner`.
fn call<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn multi(inner: &str, wrap: Wrap) -> Result<Option<Form>> {
    let (sorted, args) = match (call(inner, "multi"), call(inner, "sortedmulti")) {
        (Some(a), _) => (false, a),
        (None, Some(a)) => (true, a),
        (None, None) => return Ok(None),
    };
    let mut parts = args.split(',');
    let k: usize = parts
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad("the multisig threshold is not a number"))?;
    let keys = parts.map(KeyExpr::parse).collect::<Result<Vec<_>>>()?;
    let limit = if wrap == Wrap::Sh { 15 } else { 20 };
    if k == 0 || k > keys.len() || keys.len() > limit {
        return Err(bad(format!(
            "a multisig of {k} of {} keys is not allowed here",
            keys.len()
        )));
    }
    Ok(Some(Form::Multi {
        wrap,
        sorted,
        k,
        keys,
    }))
}

impl Form {
    /// Reads `descriptor` (checksum optional) if it is one of the standard forms;
    /// `None` for any other descriptor (miniscript, taproot trees, raw scripts).
    ///
    /// # Errors
    /// `invalid-input` for a bad checksum or a standard form with a bad key or threshold.
    pub fn parse(descriptor: &str) -> Result<Option<Self>> {
        let text = super::checksum::strip(descriptor.trim())?;
        let single = |inner: &str, make: fn(KeyExpr) -> Form| -> Result<Option<Form>> {
            if inner.contains(['(', ',']) {
                return Ok(None);
            }
            KeyExpr::parse(inner).map(|k| Some(make(k)))
        };
        if let Some(inner) = call(text, "pkh") {
            return single(inner, Form::Pkh);
        }
        if let Some(inner) = call(text, "wpkh") {
            return single(inner, Form::Wpkh);
        }
        if let Some(inner) = call(text, "tr") {
            return single(inner, Form::Tr);
        }
        if let Some(inner) = call(text, "wsh") {
            return multi(inner, Wrap::Wsh);
        }
        if let Some(inner) = call(text, "sh") {
            if let Some(key) = call(inner, "wpkh") {
                return single(key, Form::ShWpkh);
            }
            if let Some(ms) = call(inner, "wsh") {
                return multi(ms, Wrap::ShWsh);
            }
            return multi(inner, Wrap::Sh);
        }
        Ok(None)
    }

    /// The keys.
    pub fn keys(&self) -> &[KeyExpr] {
        match self {
            Form::Pkh(k) | Form::ShWpkh(k) | Form::Wpkh(k) | Form::Tr(k) => {
                core::slice::from_ref(k)
            }
            Form::Multi { keys, .. } => keys,
        }
    }

    /// The multisig witness or redeem script at `index` on branch `change`.
    fn multisig_script<C: Verification>(
        secp: &Secp256k1<C>,
        sorted: bool,
        k: usize,
        keys: &[KeyExpr],
        change: bool,
        index: u32,
    ) -> Result<ScriptBuf> {
        let mut pks = keys
            .iter()
            .map(|key| key.derive(secp, change, index))
            .collect::<Result<Vec<_>>>()?;
        if sorted {
            pks.sort_unstable_by_key(|pk| pk.inner.serialize());
        }
        let mut b = Builder::new().push_int(k as i64);
        for pk in &pks {
            b = b.push_key(pk);
        }
        Ok(b.push_int(pks.len() as i64)
            .push_opcode(OP_CHECKMULTISIG)
            .into_script())
    }

    /// The output script at `index` on branch `change`.
    ///
    /// # Errors
    /// `invalid-input` for an index out of range.
    pub fn script_pubkey(&self, change: bool, index: u32) -> Result<ScriptBuf> {
        let secp = Secp256k1::verification_only();
        let compressed = |k: &KeyExpr| -> Result<bitcoin::CompressedPublicKey> {
            Ok(bitcoin::CompressedPublicKey(
                k.derive(&secp, change, index)?.inner,
            ))
        };
        Ok(match self {
            Form::Pkh(k) => ScriptBuf::new_p2pkh(&k.derive(&secp, change, index)?.pubkey_hash()),
            Form::Wpkh(k) => ScriptBuf::new_p2wpkh(&compressed(k)?.wpubkey_hash()),
            Form::ShWpkh(k) => {
                let redeem = ScriptBuf::new_p2wpkh(&compressed(k)?.wpubkey_hash());
                ScriptBuf::new_p2sh(&redeem.script_hash())
            }
            Form::Tr(k) => {
                let internal = k.derive(&secp, change, index)?.inner.x_only_public_key().0;
                ScriptBuf::new_p2tr(&secp, internal, None)
            }
            Form::Multi {
                wrap,
                sorted,
                k,
                keys,
            } => {
                let script = Self::multisig_script(&secp, *sorted, *k, keys, change, index)?;
                match wrap {
                    Wrap::Sh => ScriptBuf::new_p2sh(&script.script_hash()),
                    Wrap::Wsh => ScriptBuf::new_p2wsh(&script.wscript_hash()),
                    Wrap::ShWsh => {
                        let redeem = ScriptBuf::new_p2wsh(&script.wscript_hash());
                        ScriptBuf::new_p2sh(&redeem.script_hash())
                    }
                }
            }
        })
    }

    /// The address at `index` on branch `change`.
    ///
    /// # Errors
    /// `invalid-input` for an index out of range.
    pub fn address(&self, change: bool, index: u32, network: Network) -> Result<String> {
        let spk = self.script_pubkey(change, index)?;
        Address::from_script(&spk, network)
            .map(|a| a.to_string())
            .map_err(|e| bad(format!("has no address form: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XPUB: &str = "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";

    #[test]
    fn reads_the_standard_forms_and_nothing_else() {
        let key = format!("[f5acc2fd/84h/1'/0']{XPUB}/<0;1>/*");
        assert!(matches!(
            Form::parse(&format!("wpkh({key})")).unwrap(),
            Some(Form::Wpkh(_))
        ));
        assert!(matches!(
            Form::parse(&format!("sh(wsh(sortedmulti(1,{key},{key})))")).unwrap(),
            Some(Form::Multi {
                wrap: Wrap::ShWsh,
                sorted: true,
                k: 1,
                ..
            })
        ));
        assert_eq!(
            Form::parse(&format!("wsh(or_d(pk({key}),older(10)))")).unwrap(),
            None
        );
        assert_eq!(Form::parse(&format!("tr({key},pk({key}))")).unwrap(), None);
        for bad in [
            format!("wpkh({XPUB}/0/5)"),
            format!("wpkh({XPUB}/0h/*)"),
            format!("wsh(multi(3,{key},{key}))"),
            "wpkh(02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9)".into(),
        ] {
            assert_eq!(
                Form::parse(&bad).unwrap_err().code(),
                "invalid-input",
                "{bad}"
            );
        }
    }

    #[test]
    fn branches_of_a_multipath_key() {
        let k = KeyExpr::parse(&format!("{XPUB}/<2;3>/*")).unwrap();
        assert_eq!(k.below(false), vec![2]);
        assert_eq!(k.below(true), vec![3]);
        assert_eq!(k.alternatives(), Some(&[2, 3][..]));
        let k = KeyExpr::parse(&format!("{XPUB}/1/*")).unwrap();
        assert_eq!(k.below(false), vec![1]);
        assert_eq!(k.alternatives(), None);
    }
}
