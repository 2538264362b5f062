//! Multisig descriptions for GetAddress and change: `m` of the keys at one path below
//! each account xpub, in the given order (`multi`) or sorted (`sortedmulti`).

use bitcoin::bip32::{ChildNumber, Xpub};

use crate::error::{Error, Result};
use crate::trezor::btc::keys::node_of;
use crate::trezor::messages::{MultisigPubkeysOrder, MultisigRedeemScriptType};

/// A multisig wallet at one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multisig {
    /// Signatures needed.
    pub m: u32,
    /// The account xpubs, in descriptor order.
    pub xpubs: Vec<Xpub>,
    /// The path below every xpub (e.g. `0/5`).
    pub path: Vec<ChildNumber>,
    /// `sortedmulti` (BIP-67) rather than `multi`.
    pub sorted: bool,
}

impl Multisig {
    /// The firmware's description of it.
    ///
    /// # Errors
    /// `invalid-input` for a threshold of 0 or over the number of keys, more than 15
    /// keys, or a hardened step below the xpubs.
    pub fn to_message(&self) -> Result<MultisigRedeemScriptType> {
        let n = self.xpubs.len();
        if self.m == 0 || self.m as usize > n || n > 15 {
            return Err(Error::invalid(
                "multisig",
                format!("{} of {n} keys: expected 1 <= m <= n <= 15", self.m),
            ));
        }
        if self.path.iter().any(|c| c.is_hardened()) {
            return Err(Error::invalid(
                "multisig",
                "hardened steps below the xpubs cannot be derived",
            ));
        }
        Ok(MultisigRedeemScriptType {
            pubkeys: Vec::new(),
            signatures: Vec::new(),
            m: self.m,
            nodes: self.xpubs.iter().map(node_of).collect(),
            address_n: self.path.iter().map(|c| u32::from(*c)).collect(),
            pubkeys_order: Some(if self.sorted {
                MultisigPubkeysOrder::LEXICOGRAPHIC
            } else {
                MultisigPubkeysOrder::PRESERVED
            }),
        })
    }
}
