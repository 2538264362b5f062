//! Where an xpub comes from: [`Device::xpub`] does not take the device's word for it,
//! but walks the path from the master key, one level at a time, and checks that every
//! level hangs from the one above it.
//!
//! A device that answers keys of another seed while reporting its own master
//! fingerprint is caught at the first level whose parent fingerprint does not match;
//! unhardened levels are re-derived on the host (CKDpub) and must equal the device's.
//! Hardened steps cannot be re-derived without the private key, so their link is the
//! parent fingerprint alone. The walk lives here, above the vendor clients, so the
//! recorded Ledger exchanges of a single GET_EXTENDED_PUBKEY still replay unchanged.

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::secp256k1::Secp256k1;

use crate::device::Device;
use crate::error::{Error, Result};

impl Device {
    /// The xpub at `path` (xpub on mainnet paths, tpub on test ones), its provenance
    /// checked: the master fingerprint, then the xpub of every prefix of `path`, each
    /// the child of the one before (only the last is shown when `display`).
    ///
    /// # Errors
    /// `protocol` naming the depth where a key does not hang from its parent (depth,
    /// child number, parent fingerprint, or an unhardened key the host derives
    /// otherwise); transport, device and protocol errors of the calls.
    pub async fn xpub(&mut self, path: &DerivationPath, display: bool) -> Result<Xpub> {
        let master = self.master_fingerprint().await?;
        let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
        if steps.is_empty() {
            let root = self.device_xpub(path, display).await?;
            return check_root(&root, master).map(|()| root);
        }
        let mut parent: Option<Xpub> = None;
        for (at, step) in steps.iter().enumerate() {
            let depth = at + 1;
            let prefix = DerivationPath::from(steps.get(..depth).unwrap_or_default());
            let child = self
                .device_xpub(&prefix, display && depth == steps.len())
                .await?;
            check_child(&child, depth, *step, parent.as_ref(), master)?;
            parent = Some(child);
        }
        parent.ok_or_else(|| Error::protocol("no xpub was returned"))
    }
}

/// The master xpub: depth 0, and the key whose fingerprint the device reports.
fn check_root(root: &Xpub, master: Fingerprint) -> Result<()> {
    if root.depth != 0 || root.fingerprint() != master {
        return Err(Error::protocol(format!(
            "the master xpub is at depth {} with fingerprint {}, the device's master fingerprint is {master}",
            root.depth,
            root.fingerprint()
        )));
    }
    Ok(())
}

/// Checks that `child`, the device's xpub at `depth` (step `step`), is the child of
/// `parent` (the xpub at `depth - 1`; `None` for depth 1, whose parent is the master
/// key of fingerprint `master`).
///
/// # Errors
/// `protocol` naming the depth and what does not match.
pub fn check_child(
    child: &Xpub,
    depth: usize,
    step: ChildNumber,
    parent: Option<&Xpub>,
    master: Fingerprint,
) -> Result<()> {
    if usize::from(child.depth) != depth || child.child_number != step {
        return Err(Error::protocol(format!(
            "the xpub at depth {depth} says depth {} child {}, expected child {step}",
            child.depth, child.child_number
        )));
    }
    let expected = parent.map_or(master, Xpub::fingerprint);
    if child.parent_fingerprint != expected {
        let above = match parent {
            Some(_) => format!("the xpub at depth {}", depth - 1),
            None => "the master key".to_string(),
        };
        return Err(Error::protocol(format!(
            "the xpub at depth {depth} has parent fingerprint {}, but {above} has fingerprint {expected}: the device's keys are not one seed's",
            child.parent_fingerprint
        )));
    }
    if let (Some(parent), ChildNumber::Normal { .. }) = (parent, step) {
        let derived = parent
            .ckd_pub(&Secp256k1::verification_only(), step)
            .map_err(|e| {
                Error::protocol(format!(
                    "the xpub at depth {} cannot be derived from: {e}",
                    depth - 1
                ))
            })?;
        if derived.public_key != child.public_key || derived.chain_code != child.chain_code {
            return Err(Error::protocol(format!(
                "the xpub at depth {depth} is not the child {step} of the xpub at depth {}",
                depth - 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::seed::{Seed, FOREIGN_MNEMONIC, TREZOR_TEST_MNEMONIC};
    use bitcoin::NetworkKind;
    use std::str::FromStr;

    fn at(seed: &Seed, path: &str) -> Xpub {
        seed.xpub(&DerivationPath::from_str(path).unwrap(), NetworkKind::Test)
            .unwrap()
    }

    #[test]
    fn a_true_chain_passes_and_every_break_names_its_depth() {
        let me = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
        let other = Seed::from_mnemonic(FOREIGN_MNEMONIC, "").unwrap();
        let fp = me.fingerprint();
        let h = |i| ChildNumber::Hardened { index: i };
        let n = |i| ChildNumber::Normal { index: i };
        let p1 = at(&me, "m/84'");
        let p2 = at(&me, "m/84'/1'");
        let p4 = at(&me, "m/84'/1'/0'/0");
        check_child(&p1, 1, h(84), None, fp).unwrap();
        check_child(&p2, 2, h(1), Some(&p1), fp).unwrap();
        check_child(&at(&me, "m/84'/1'/0'/0/5"), 5, n(5), Some(&p4), fp).unwrap();
        check_root(&at(&me, "m"), fp).unwrap();
        // A foreign seed's key under our master fingerprint.
        let e = check_child(&at(&other, "m/84'"), 1, h(84), None, fp).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("depth 1"), "{e}");
        // The wrong child number or depth.
        let e = check_child(&p2, 2, h(2), Some(&p1), fp).unwrap_err();
        assert!(e.to_string().contains("depth 2"), "{e}");
        let e = check_child(&p2, 3, h(1), Some(&p1), fp).unwrap_err();
        assert!(e.to_string().contains("depth 3"), "{e}");
        // An unhardened child whose parent fingerprint is forged to fit.
        let mut forged = at(&other, "m/84'/1'/0'/0/5");
        forged.parent_fingerprint = p4.fingerprint();
        let e = check_child(&forged, 5, n(5), Some(&p4), fp).unwrap_err();
        assert!(e.to_string().contains("not the child 5"), "{e}");
        assert!(check_root(&at(&other, "m"), fp).is_err());
    }
}
