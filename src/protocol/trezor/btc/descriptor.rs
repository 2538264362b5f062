//! Multisig addresses from a descriptor: `sh(multi)`, `sh(sortedmulti)`, `wsh(...)` and
//! `sh(wsh(...))` over xpubs, turned into the firmware's GetAddress request (script
//! type, multisig description, and the signer's own path), plus the address the host
//! derives itself to check the device's answer against.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::Network;
use miniscript::descriptor::{DescriptorPublicKey, ShInner, Wildcard, WshInner};
use miniscript::{Descriptor, Terminal};

use crate::error::{Error, Result};
use crate::protocol::trezor::btc::multisig::Multisig;
use crate::protocol::trezor::messages::InputScriptType;

/// What GetAddress needs for one address of a multisig descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultisigAddress {
    /// The input script type (SPENDMULTISIG, SPENDP2SHWITNESS, SPENDWITNESS).
    pub script_type: i32,
    /// The keys, threshold and order.
    pub multisig: Multisig,
    /// The device's own key path (its key origin + the path below its xpub).
    pub path: DerivationPath,
    /// The address, as the host derives it from the descriptor.
    pub address: String,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("descriptor", reason)
}

/// Reads `descriptor` at `change`/`index` for the device whose fingerprint is `fpr`.
///
/// # Errors
/// `invalid-input` for a descriptor that does not parse, is not a multisig over xpubs
/// with a common path and a `/*` wildcard, or has no `<0;1>` branch `change`;
/// `unsupported` when no key has the device's fingerprint.
pub fn multisig_address(
    descriptor: &str,
    change: bool,
    index: u32,
    fpr: Fingerprint,
    network: Network,
) -> Result<MultisigAddress> {
    let desc = Descriptor::<DescriptorPublicKey>::from_str(descriptor)
        .map_err(|e| bad(e.to_string().to_lowercase()))?;
    let desc = if desc.is_multipath() {
        desc.into_single_descriptors()
            .map_err(|e| bad(e.to_string().to_lowercase()))?
            .into_iter()
            .nth(usize::from(change))
            .ok_or_else(|| bad("no change branch in its <0;1> key paths"))?
    } else {
        desc
    };
    let (script_type, k, keys, sorted) = match &desc {
        Descriptor::Sh(sh) => match sh.as_inner() {
            ShInner::SortedMulti(smv) => (
                InputScriptType::SPENDMULTISIG,
                smv.k(),
                smv.pks().to_vec(),
                true,
            ),
            ShInner::Ms(ms) => match ms.as_inner() {
                Terminal::Multi(t) => (
                    InputScriptType::SPENDMULTISIG,
                    t.k(),
                    t.data().to_vec(),
                    false,
                ),
                _ => return Err(bad("only multi and sortedmulti are supported")),
            },
            ShInner::Wsh(wsh) => match wsh.as_inner() {
                WshInner::SortedMulti(smv) => (
                    InputScriptType::SPENDP2SHWITNESS,
                    smv.k(),
                    smv.pks().to_vec(),
                    true,
                ),
                WshInner::Ms(ms) => match ms.as_inner() {
                    Terminal::Multi(t) => (
                        InputScriptType::SPENDP2SHWITNESS,
                        t.k(),
                        t.data().to_vec(),
                        false,
                    ),
                    _ => return Err(bad("only multi and sortedmulti are supported")),
                },
            },
            ShInner::Wpkh(_) => return Err(bad("not a multisig descriptor")),
        },
        Descriptor::Wsh(wsh) => match wsh.as_inner() {
            WshInner::SortedMulti(smv) => (
                InputScriptType::SPENDWITNESS,
                smv.k(),
                smv.pks().to_vec(),
                true,
            ),
            WshInner::Ms(ms) => match ms.as_inner() {
                Terminal::Multi(t) => (
                    InputScriptType::SPENDWITNESS,
                    t.k(),
                    t.data().to_vec(),
                    false,
                ),
                _ => return Err(bad("only multi and sortedmulti are supported")),
            },
        },
        _ => {
            return Err(bad(
                "not a multisig descriptor (sh, wsh or sh(wsh) of multi)",
            ))
        }
    };
    let mut xpubs: Vec<Xpub> = Vec::new();
    let mut below: Option<DerivationPath> = None;
    let mut ours = None;
    for key in &keys {
        let DescriptorPublicKey::XPub(x) = key else {
            return Err(bad("every key must be an xpub"));
        };
        if x.wildcard != Wildcard::Unhardened {
            return Err(bad("every key must end with an unhardened /*"));
        }
        match &below {
            Some(p) if *p != x.derivation_path => {
                return Err(bad("all keys must have the same path below their xpub"))
            }
            _ => below = Some(x.derivation_path.clone()),
        }
        if let Some((f, origin)) = &x.origin {
            if *f == fpr && ours.is_none() {
                ours = Some(origin.clone());
            }
        }
        xpubs.push(x.xkey);
    }
    let below = below.unwrap_or_default();
    let child =
        ChildNumber::from_normal_idx(index).map_err(|e| bad(e.to_string().to_lowercase()))?;
    let mut path_below: Vec<ChildNumber> = below.into_iter().copied().collect();
    path_below.push(child);
    let origin = ours.ok_or_else(|| {
        Error::Unsupported(format!(
            "no key of the descriptor has this trezor's fingerprint {fpr}"
        ))
    })?;
    let path: DerivationPath = origin
        .into_iter()
        .chain(path_below.iter())
        .copied()
        .collect();
    let address = desc
        .at_derivation_index(index)
        .map_err(|e| bad(e.to_string().to_lowercase()))?
        .address(network)
        .map_err(|e| bad(e.to_string().to_lowercase()))?
        .to_string();
    Ok(MultisigAddress {
        script_type,
        multisig: Multisig {
            m: u32::try_from(k).map_err(|_| bad("threshold too large"))?,
            xpubs,
            path: path_below,
            sorted,
        },
        path,
        address,
    })
}
