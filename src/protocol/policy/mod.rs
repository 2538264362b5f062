//! BIP-388 wallet policies as the Ledger Bitcoin app serializes them, and the
//! translation of a policy into a descriptor the host can derive addresses from.

pub mod checksum;
pub mod descriptor;
pub mod forms;
pub mod musig;
pub mod standard;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::Network;
#[cfg(feature = "miniscript")]
use miniscript::descriptor::{Descriptor, DescriptorPublicKey};

use crate::error::{Error, Result};
use crate::protocol::bytes::write_varint;

use crate::protocol::ledger::btc::merkle::{Hash32, MerkleTree};
use crate::protocol::ledger::btc::store::Store;

/// Serialization version of a wallet policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// Version 1 (app 2.0): the template travels inline; key strings end in `/**`.
    V1 = 1,
    /// Version 2 (app 2.1+): the template travels as its SHA-256.
    V2 = 2,
}

/// A BIP-388 wallet policy: a name, a descriptor template and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletPolicy {
    /// Name shown on the device; empty for the standard single-key policies.
    pub name: String,
    /// Descriptor template with `@i` key placeholders, e.g. `wpkh(@0/**)`.
    pub template: String,
    /// Key information strings, e.g. `[f5acc2fd/84'/1'/0']tpub...`.
    pub keys: Vec<String>,
    /// Serialization version.
    pub version: PolicyVersion,
}

/// The zero hmac that standard (unregistered) policies use.
pub const NO_HMAC: [u8; 32] = [0; 32];

const MAX_NAME_LEN: usize = 64;

impl WalletPolicy {
    /// A version-2 policy.
    ///
    /// # Errors
    /// `invalid-input` when the name is over 64 bytes, the template is empty or not
    /// ASCII, or there are no keys.
    pub fn new(name: &str, template: &str, keys: Vec<String>) -> Result<Self> {
        let p = WalletPolicy {
            name: name.to_string(),
            template: template.to_string(),
            keys,
            version: PolicyVersion::V2,
        };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        if self.name.len() > MAX_NAME_LEN {
            return Err(Error::invalid(
                "policy name",
                format!("{} bytes is over {MAX_NAME_LEN}", self.name.len()),
            ));
        }
        if self.template.is_empty() || !self.template.is_ascii() {
            return Err(Error::invalid("policy template", "must be non-empty ascii"));
        }
        if self.keys.is_empty() {
            return Err(Error::invalid("policy keys", "at least one key is needed"));
        }
        if let Some(k) = self.keys.iter().find(|k| !k.is_ascii() || k.is_empty()) {
            return Err(Error::invalid(
                "policy keys",
                format!("key {k:?} is not a non-empty ascii string"),
            ));
        }
        Ok(())
    }

    fn keys_root(&self) -> Hash32 {
        MerkleTree::from_elements(&self.keys).root()
    }

    /// The serialization the app hashes and the host sends.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = vec![self.version as u8, self.name.len() as u8];
        out.extend_from_slice(self.name.as_bytes());
        write_varint(&mut out, self.template.len() as u64);
        match self.version {
            PolicyVersion::V1 => out.extend_from_slice(self.template.as_bytes()),
            PolicyVersion::V2 => {
                out.extend_from_slice(&sha256::Hash::hash(self.template.as_bytes()).to_byte_array())
            }
        }
        write_varint(&mut out, self.keys.len() as u64);
        out.extend_from_slice(&self.keys_root());
        out
    }

    /// The wallet id: SHA-256 of the serialization.
    pub fn id(&self) -> Hash32 {
        sha256::Hash::hash(&self.serialize()).to_byte_array()
    }

    /// Adds what the app may ask about this policy to `store`.
    pub fn add_to(&self, store: &mut Store) {
        store.add_preimage(self.serialize());
        store.add_preimage(self.template.as_bytes().to_vec());
        store.add_list(&self.keys);
    }

    /// The policy as a miniscript descriptor with multipath keys (`/<0;1>/*`).
    ///
    /// # Errors
    /// See [`WalletPolicy::descriptor_text`]; `invalid-input` when the result does not
    /// parse.
    #[cfg(feature = "miniscript")]
    pub fn descriptor(&self) -> Result<Descriptor<DescriptorPublicKey>> {
        Descriptor::<DescriptorPublicKey>::from_str_checked(&self.descriptor_text()?)
    }

    /// The policy as descriptor text, its keys in place of the placeholders with
    /// multipath steps (`@0/**` → `[f5acc2fd/84'/1'/0']tpub…/<0;1>/*`). A
    /// `musig(@i,…)` expression becomes the aggregate xpub of its keys (sorted,
    /// BIP-328), as the Ledger app and its Python client derive it.
    ///
    /// # Errors
    /// `invalid-input` when a placeholder has no key; `unsupported` for `musig()`
    /// without the `musig` add-on.
    pub fn descriptor_text(&self) -> Result<String> {
        self.check()?;
        let mut out = String::with_capacity(self.template.len() + self.keys.len() * 120);
        let mut rest = self.template.as_str();
        while let Some(at) = rest.find('@') {
            // `musig(@i,…)/**`: the aggregate xpub (BIP-328), derived like a key.
            if let Some(m) = rest.find("musig(").filter(|m| *m < at) {
                let (before, after) = rest.split_at(m);
                out.push_str(before);
                let (indexes, tail) =
                    musig::parse_indexes(after.get("musig(".len()..).unwrap_or_default())?;
                out.push_str(&musig::aggregate_xpub(self, &indexes)?.to_string());
                rest = match tail.strip_prefix("/**") {
                    Some(t) => {
                        out.push_str("/<0;1>/*");
                        t
                    }
                    None => tail,
                };
                continue;
            }
            let (before, after) = rest.split_at(at);
            out.push_str(before);
            let after = after.trim_start_matches('@');
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            let (number, tail) = after.split_at(digits);
            let index: usize = number
                .parse()
                .map_err(|_| Error::invalid("policy template", "'@' without a key index"))?;
            let key = self.keys.get(index).ok_or_else(|| {
                Error::invalid(
                    "policy template",
                    format!("@{index} has no key ({} given)", self.keys.len()),
                )
            })?;
            out.push_str(key.trim_end_matches("/**"));
            rest = match tail.strip_prefix("/**") {
                Some(t) => {
                    out.push_str("/<0;1>/*");
                    t
                }
                None => tail,
            };
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The policy as one of the standard forms (single key, multisig), if it is one.
    ///
    /// # Errors
    /// `invalid-input` when a placeholder has no key or a key is malformed.
    pub fn form(&self) -> Result<Option<forms::Form>> {
        forms::Form::parse(&self.descriptor_text()?)
    }
}

#[cfg(feature = "miniscript")]
trait FromStrChecked: Sized {
    fn from_str_checked(s: &str) -> Result<Self>;
}

#[cfg(feature = "miniscript")]
impl FromStrChecked for Descriptor<DescriptorPublicKey> {
    fn from_str_checked(s: &str) -> Result<Self> {
        s.parse().map_err(|e| {
            Error::invalid(
                "policy",
                format!("not a descriptor the host can derive: {e}"),
            )
        })
    }
}

/// What a policy that is not one of the standard forms needs for its host-side
/// address check, change check and finalizing.
pub const NEEDS_MINISCRIPT: &str = "a policy other than the standard single-key and multisig forms is derived on the host by the miniscript add-on (npm: import from \"hwsigner/full\"; rust: cargo feature `miniscript`); or pass allowUnverified to take the device's address";

/// The address of `policy` at `change`/`index`, computed on the host: the standard
/// forms always, other policies with the cargo feature `miniscript`.
///
/// # Errors
/// `invalid-input` when the policy cannot be turned into an address; `unsupported`
/// without the `miniscript` add-on for a policy that is not a standard form, and
/// without the `musig` add-on for `musig()`.
pub fn derive_address(
    policy: &WalletPolicy,
    change: bool,
    index: u32,
    network: Network,
) -> Result<String> {
    if let Some(form) = policy.form()? {
        return form.address(change, index, network);
    }
    derive_other(policy, change, index, network)
}

#[cfg(not(feature = "miniscript"))]
fn derive_other(policy: &WalletPolicy, _: bool, _: u32, _: Network) -> Result<String> {
    let _ = policy;
    Err(Error::Unsupported(NEEDS_MINISCRIPT.into()))
}

#[cfg(feature = "miniscript")]
fn derive_other(
    policy: &WalletPolicy,
    change: bool,
    index: u32,
    network: Network,
) -> Result<String> {
    let descriptor = policy.descriptor()?;
    let singles = descriptor
        .into_single_descriptors()
        .map_err(|e| Error::invalid("policy", e.to_string()))?;
    let branch = singles
        .get(usize::from(change))
        .or_else(|| singles.first())
        .ok_or_else(|| Error::invalid("policy", "no derivation branch"))?;
    let derived = branch
        .at_derivation_index(index)
        .map_err(|e| Error::invalid("address index", e.to_string()))?;
    let address = derived
        .address(network)
        .map_err(|e| Error::invalid("policy", format!("has no address form: {e}")))?;
    Ok(address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_serialization_hashes_the_template() {
        let p =
            WalletPolicy::new("", "wpkh(@0/**)", vec!["[f5acc2fd/84'/1'/0']tpubX".into()]).unwrap();
        let s = p.serialize();
        assert_eq!(&s[..3], &[2, 0, 11]);
        assert_eq!(s.len(), 3 + 32 + 1 + 32);
        assert_eq!(p.id(), sha256::Hash::hash(&s).to_byte_array());
    }

    #[test]
    fn rejects_bad_policies() {
        assert_eq!(
            WalletPolicy::new(&"x".repeat(65), "pkh(@0/**)", vec!["k".into()])
                .unwrap_err()
                .code(),
            "invalid-input"
        );
        assert_eq!(
            WalletPolicy::new("", "", vec!["k".into()])
                .unwrap_err()
                .code(),
            "invalid-input"
        );
        assert_eq!(
            WalletPolicy::new("", "pkh(@0/**)", vec![])
                .unwrap_err()
                .code(),
            "invalid-input"
        );
        let p = WalletPolicy::new("", "pkh(@3/**)", vec!["k".into()]).unwrap();
        assert!(p
            .descriptor_text()
            .unwrap_err()
            .to_string()
            .contains("@3 has no key"));
    }

    #[test]
    fn the_standard_forms_derive_without_miniscript() {
        const TPUB: &str = "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";
        let key = format!("[f5acc2fd/84'/1'/0']{TPUB}");
        let p = WalletPolicy::new("", "wpkh(@0/**)", vec![key.clone()]).unwrap();
        // Known value: tests/common/known.rs (embit), receive address 0 of m/84'/1'/0'.
        assert_eq!(
            derive_address(&p, false, 0, Network::Testnet).unwrap(),
            "tb1qzdr7s2sr0dwmkwx033r4nujzk86u0cy6fmzfjk"
        );
        let decay = WalletPolicy::new(
            "Decay",
            "wsh(or_d(pk(@0/**),and_v(v:pkh(@0/<2;3>/*),older(10))))",
            vec![key],
        )
        .unwrap();
        let r = derive_address(&decay, false, 0, Network::Testnet);
        #[cfg(not(feature = "miniscript"))]
        {
            let e = r.unwrap_err();
            assert_eq!(e.code(), "unsupported");
            assert!(e.to_string().contains("miniscript add-on"), "{e}");
        }
        #[cfg(feature = "miniscript")]
        assert!(r.unwrap().starts_with("tb1q"));
    }
}
