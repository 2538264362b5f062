//! The standard single-key policies (BIP-44/49/84/86) and how to tell, from a PSBT,
//! which of them its inputs use.
//!
//! The Ledger app signs these without registration (zero hmac). When a caller gives no
//! policy, the host looks at the BIP-32 derivations in the PSBT that carry the device's
//! fingerprint, as HWI does, and signs once per standard account it finds.

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};

use crate::error::{Error, Result};
use crate::protocol::psbt::view::Psbt;

use super::WalletPolicy;

/// The standard single-key purposes (BIP-44, 49, 84, 86): purpose, script name, and
/// the BIP-388 template. The one table of the crate.
pub const PURPOSES: [(u32, &str, &str); 4] = [
    (44, "pkh", "pkh(@0/**)"),
    (49, "sh(wpkh)", "sh(wpkh(@0/**))"),
    (84, "wpkh", "wpkh(@0/**)"),
    (86, "tr", "tr(@0/**)"),
];

/// The single-key template of a standard `purpose`.
pub fn template_for_purpose(purpose: u32) -> Option<&'static str> {
    PURPOSES
        .iter()
        .find(|(p, _, _)| *p == purpose)
        .map(|(_, _, t)| *t)
}

/// The standard purpose of a script name (`pkh`, `sh(wpkh)`, `wpkh`, `tr`).
pub fn purpose_for_script(script: &str) -> Option<u32> {
    PURPOSES
        .iter()
        .find(|(_, name, _)| *name == script)
        .map(|(p, _, _)| *p)
}

/// One standard account: purpose, coin type and account number (all hardened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StandardAccount {
    /// 44, 49, 84 or 86.
    pub purpose: u32,
    /// 0 for mainnet, 1 for test networks.
    pub coin_type: u32,
    /// Account number.
    pub account: u32,
}

impl StandardAccount {
    /// The account path `m/purpose'/coin'/account'`.
    pub fn path(&self) -> DerivationPath {
        let h = |index| ChildNumber::Hardened { index };
        DerivationPath::from(vec![h(self.purpose), h(self.coin_type), h(self.account)])
    }

    /// The descriptor template of this purpose.
    pub fn template(&self) -> &'static str {
        template_for_purpose(self.purpose).unwrap_or("tr(@0/**)")
    }

    /// The policy for this account, given the device's fingerprint and account xpub.
    ///
    /// # Errors
    /// Never for a standard account; the signature keeps policy construction checked.
    pub fn policy(&self, fingerprint: Fingerprint, xpub: &Xpub) -> Result<WalletPolicy> {
        let key = format!(
            "[{fingerprint}/{}'/{}'/{}']{xpub}",
            self.purpose, self.coin_type, self.account
        );
        WalletPolicy::new("", self.template(), vec![key])
    }

    fn from_path(path: &DerivationPath) -> Option<Self> {
        let p: Vec<ChildNumber> = path.into_iter().copied().collect();
        match p.as_slice() {
            [ChildNumber::Hardened { index: purpose }, ChildNumber::Hardened { index: coin_type }, ChildNumber::Hardened { index: account }, ChildNumber::Normal { index: change }, ChildNumber::Normal { .. }]
                if template_for_purpose(*purpose).is_some() && *change <= 1 =>
            {
                Some(StandardAccount {
                    purpose: *purpose,
                    coin_type: *coin_type,
                    account: *account,
                })
            }
            _ => None,
        }
    }
}

/// The standard accounts of the device `fingerprint` that the PSBT's inputs use, in
/// order.
///
/// # Errors
/// `invalid-input` when no input has a standard derivation with that fingerprint.
pub fn accounts_in(psbt: &Psbt, fingerprint: Fingerprint) -> Result<Vec<StandardAccount>> {
    let mut found: Vec<StandardAccount> = Vec::new();
    let mut ours_but_not_standard = false;
    for input in &psbt.inputs {
        let ecdsa = input.bip32_derivation.values().map(|(f, p)| (f, p));
        let tap = input.tap_key_origins.values().map(|(_, (f, p))| (f, p));
        for (fpr, path) in ecdsa.chain(tap) {
            if *fpr != fingerprint {
                continue;
            }
            match StandardAccount::from_path(path) {
                Some(acc) if !found.contains(&acc) => found.push(acc),
                Some(_) => {}
                None => ours_but_not_standard = true,
            }
        }
    }
    if found.is_empty() {
        let why = if ours_but_not_standard {
            format!(
                "the inputs of device {fingerprint} use non-standard paths: pass the wallet policy"
            )
        } else {
            format!("no input has a bip32 derivation with the device's fingerprint {fingerprint}: pass the wallet policy or add derivations")
        };
        return Err(Error::invalid("psbt", why));
    }
    Ok(found)
}
