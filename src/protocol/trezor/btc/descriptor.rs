//! Multisig addresses from a descriptor: `sh(multi)`, `sh(sortedmulti)`, `wsh(...)` and
//! `sh(wsh(...))` over xpubs, turned into the firmware's GetAddress request (script
//! type, multisig description, and the signer's own path), plus the address the host
//! derives itself to check the device's answer against.

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::Network;

use crate::error::{Error, Result};
use crate::protocol::policy::forms::{Form, Wrap};
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
    let form = Form::parse(descriptor)?;
    let Some(Form::Multi {
        wrap,
        sorted,
        k,
        keys,
    }) = &form
    else {
        return Err(bad(
            "not a multisig descriptor (sh, wsh or sh(wsh) of multi or sortedmulti)",
        ));
    };
    let script_type = match wrap {
        Wrap::Sh => InputScriptType::SPENDMULTISIG,
        Wrap::ShWsh => InputScriptType::SPENDP2SHWITNESS,
        Wrap::Wsh => InputScriptType::SPENDWITNESS,
    };
    let mut xpubs: Vec<Xpub> = Vec::new();
    let mut below: Option<Vec<u32>> = None;
    let mut ours = None;
    for key in keys {
        let steps = key.below(change);
        match &below {
            Some(p) if *p != steps => {
                return Err(bad("all keys must have the same path below their xpub"))
            }
            _ => below = Some(steps),
        }
        if let Some((f, origin)) = &key.origin {
            if *f == fpr && ours.is_none() {
                ours = Some(origin.clone());
            }
        }
        xpubs.push(key.xpub);
    }
    let mut path_below = below
        .unwrap_or_default()
        .into_iter()
        .map(ChildNumber::from_normal_idx)
        .collect::<core::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string().to_ascii_lowercase()))?;
    let child =
        ChildNumber::from_normal_idx(index).map_err(|e| bad(e.to_string().to_ascii_lowercase()))?;
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
    let address = form
        .as_ref()
        .map(|f| f.address(change, index, network))
        .transpose()?
        .unwrap_or_default();
    let (k, sorted) = (*k, *sorted);
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
