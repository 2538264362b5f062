//! Where an xpub comes from: [`Device::xpub`] does not take the device's word for it.
//! It checks what the host can check without a prompt the user did not ask for, with
//! the requests the devices answer silently (a real Ledger refuses, and a real Trezor
//! with strict safety checks forbids, keys off the standard paths such as `m/84'`):
//!
//! - Ledger, on a standard single-key account (`m/44'|49'|84'|86'/coin'/account'`, the
//!   coin of the app's network): the device must accept the account xpub, under its
//!   master fingerprint, as its own key in the standard wallet policy. The app checks
//!   that key against its own derivation, so an xpub of another seed is refused, and
//!   the policy's first address is compared with the host's. Steps below the account
//!   (unhardened) are derived on the host (CKDpub) and must equal the device's key.
//! - Trezor: the root fingerprint the firmware reports with the key must be the
//!   master fingerprint it reports for the session.
//! - Both: a key at depth 1 must hang from the master key (its parent fingerprint).
//!
//! The checks live here, above the vendor clients, so the recorded Ledger exchanges of
//! a single GET_EXTENDED_PUBKEY still replay unchanged. Hardened steps cannot be
//! re-derived without the private key: elsewhere (multisig `48'` paths, other
//! purposes) the depth and child number are all the host checks.

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::NetworkKind;

use crate::device::Device;
use crate::driver::ledger::Ledger;
use crate::error::{Error, Result};
use crate::protocol::policy::standard::template_for_purpose;
use crate::protocol::policy::WalletPolicy;
use crate::transport::Transport;

impl Device {
    /// The xpub at `path` (xpub on mainnet paths, tpub on test ones), its provenance
    /// checked as far as the device allows without asking the user (see the module).
    ///
    /// # Errors
    /// `protocol` when the key does not hang from the device's master key or is not
    /// the device's own; transport, device and protocol errors of the calls.
    pub async fn xpub(&mut self, path: &DerivationPath, display: bool) -> Result<Xpub> {
        match self {
            Device::Ledger(l) => ledger_xpub(l, path, display).await,
            Device::Trezor(t) => {
                let x = t.xpub(path, display).await?;
                let master = t.known_fingerprint().await?;
                if let Some(root) = x.root_fingerprint {
                    if root != master {
                        return Err(Error::protocol(format!(
                            "the trezor's key at {path} comes from master key {root}, but its master fingerprint is {master}"
                        )));
                    }
                }
                check_depth_one(&x.xpub, master)?;
                Ok(x.xpub)
            }
        }
    }
}

/// A key at depth 1 is a child of the master key.
fn check_depth_one(xpub: &Xpub, master: Fingerprint) -> Result<()> {
    if xpub.depth == 1 && xpub.parent_fingerprint != master {
        return Err(Error::protocol(format!(
            "the xpub at depth 1 has parent fingerprint {}, but the device's master fingerprint is {master}",
            xpub.parent_fingerprint
        )));
    }
    Ok(())
}

/// The standard single-key template of an account path on `network`, and the number
/// of account steps (3), when `steps` starts with one.
fn standard_account(steps: &[ChildNumber], network: NetworkKind) -> Option<&'static str> {
    let coin = match network {
        NetworkKind::Main => 0,
        NetworkKind::Test => 1,
    };
    match steps {
        [ChildNumber::Hardened { index: purpose }, ChildNumber::Hardened { index: c }, ChildNumber::Hardened { index: account }, rest @ ..]
            if *c == coin
                && *account < 100
                && rest.iter().all(|s| matches!(s, ChildNumber::Normal { .. })) =>
        {
            template_for_purpose(*purpose)
        }
        _ => None,
    }
}

async fn ledger_xpub<T: Transport>(
    l: &mut Ledger<T>,
    path: &DerivationPath,
    display: bool,
) -> Result<Xpub> {
    let xpub = l.xpub(path, display).await?;
    let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
    if xpub.depth == 1 {
        let master = l.known_fingerprint().await?;
        check_depth_one(&xpub, master)?;
    }
    let Some(template) = standard_account(&steps, xpub.network) else {
        return Ok(xpub);
    };
    let account_path = DerivationPath::from(steps.get(..3).unwrap_or_default());
    let tail = DerivationPath::from(steps.get(3..).unwrap_or_default());
    let account = if tail.is_empty() {
        xpub
    } else {
        let account = l.xpub(&account_path, false).await?;
        check_derived(&account, &tail, &xpub, path)?;
        account
    };
    let master = l.known_fingerprint().await?;
    let origin = account_path.to_string();
    let key = format!("[{master}/{}]{account}", origin.trim_start_matches("m/"));
    let policy = WalletPolicy::new("", template, vec![key])?;
    match l.address(&policy, None, false, 0, false).await {
        Ok(_) => Ok(xpub),
        Err(Error::Device { code, .. }) => Err(Error::protocol(format!(
            "the ledger does not accept its own xpub at {account_path} as its key (status {code:04x}): it is not from its seed"
        ))),
        Err(e) => Err(e),
    }
}

/// `child` (the device's key at `path`) must be `account` derived along `tail`.
fn check_derived(
    account: &Xpub,
    tail: &DerivationPath,
    child: &Xpub,
    path: &DerivationPath,
) -> Result<()> {
    let derived = account
        .derive_pub(&Secp256k1::verification_only(), tail)
        .map_err(|e| Error::protocol(format!("the account key cannot be derived: {e}")))?;
    if derived.public_key != child.public_key
        || derived.chain_code != child.chain_code
        || derived.parent_fingerprint != child.parent_fingerprint
    {
        return Err(Error::protocol(format!(
            "the xpub at {path} is not the one the host derives from the device's account key"
        )));
    }
    Ok(())
}

#[cfg(all(test, feature = "simulator"))]
mod tests {
    use super::*;
    use crate::sim::seed::{Seed, FOREIGN_MNEMONIC, TREZOR_TEST_MNEMONIC};
    use std::str::FromStr;

    fn at(seed: &Seed, path: &str) -> Xpub {
        seed.xpub(&DerivationPath::from_str(path).unwrap(), NetworkKind::Test)
            .unwrap()
    }

    fn steps(path: &str) -> Vec<ChildNumber> {
        DerivationPath::from_str(path)
            .unwrap()
            .into_iter()
            .copied()
            .collect()
    }

    #[test]
    fn depth_one_keys_hang_from_the_master_key() {
        let me = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
        let other = Seed::from_mnemonic(FOREIGN_MNEMONIC, "").unwrap();
        check_depth_one(&at(&me, "m/84'"), me.fingerprint()).unwrap();
        let e = check_depth_one(&at(&other, "m/84'"), me.fingerprint()).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("depth 1"), "{e}");
        // Deeper keys are not judged here.
        check_depth_one(&at(&other, "m/84'/1'"), me.fingerprint()).unwrap();
    }

    #[test]
    fn standard_accounts_are_the_ones_the_ledger_takes_silently() {
        let t = NetworkKind::Test;
        assert_eq!(
            standard_account(&steps("m/84'/1'/0'"), t),
            Some("wpkh(@0/**)")
        );
        assert_eq!(
            standard_account(&steps("m/86'/1'/3'/0/7"), t),
            Some("tr(@0/**)")
        );
        assert_eq!(
            standard_account(&steps("m/44'/0'/0'"), NetworkKind::Main),
            Some("pkh(@0/**)")
        );
        assert_eq!(
            standard_account(&steps("m/49'/1'/0'/1"), t),
            Some("sh(wpkh(@0/**))")
        );
        for off in [
            "m/84'/0'/0'",
            "m/84'/1'",
            "m/48'/1'/0'/2'",
            "m/84'/1'/0'/0'",
            "m/84'/1'/100'",
            "m/1'/1'/0'",
        ] {
            assert_eq!(standard_account(&steps(off), t), None, "{off}");
        }
    }

    #[test]
    fn keys_below_the_account_are_derived_on_the_host() {
        let me = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
        let other = Seed::from_mnemonic(FOREIGN_MNEMONIC, "").unwrap();
        let account = at(&me, "m/84'/1'/0'");
        let tail = DerivationPath::from_str("m/0/5").unwrap();
        let path = DerivationPath::from_str("m/84'/1'/0'/0/5").unwrap();
        check_derived(&account, &tail, &at(&me, "m/84'/1'/0'/0/5"), &path).unwrap();
        let e = check_derived(&account, &tail, &at(&other, "m/84'/1'/0'/0/5"), &path).unwrap_err();
        assert_eq!(e.code(), "protocol");
        // A forged parent fingerprint does not help.
        let mut forged = at(&other, "m/84'/1'/0'/0/5");
        forged.parent_fingerprint = at(&me, "m/84'/1'/0'/0").fingerprint();
        assert!(check_derived(&account, &tail, &forged, &path).is_err());
    }
}
