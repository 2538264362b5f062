//! What a signing asks for ([`SignOptions`]) and what it gives back ([`Signed`]): one
//! pair of types for every vendor and every front end.

use std::collections::BTreeMap;

use bitcoin::bip32::KeySource;
use bitcoin::{Network, Transaction};

use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::InputSignature;

/// Options of a PSBT signing. A field a vendor cannot honour is refused (`replaces` on a
/// Ledger), except `policy`, which only a Ledger needs: a Trezor reads each input's
/// script from the PSBT itself, so the same options work for both. Fields will be
/// added: build it with `..Default::default()` or the `with_*` methods.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// The wallet policy and its registration hmac (Ledger; standard policies need
    /// none). Without one, the standard single-key policies are inferred from the
    /// PSBT's derivations. A Trezor does not use it (see above).
    pub policy: Option<(WalletPolicy, Option<Hash32>)>,
    /// Finalize the PSBT and extract the transaction.
    pub finalize: bool,
    /// The network (Trezor's coin); by default the coin type of the first input's path
    /// (0' Bitcoin, else Testnet).
    pub network: Option<Network>,
    /// Sign inputs that ask for another sighash than ALL / DEFAULT (refused with
    /// `invalid-input` otherwise; see [`crate::protocol::psbt::sighash`]). A Trezor
    /// refuses them whatever this says: its firmware signs only ALL.
    pub allow_non_default_sighash: bool,
    /// The transactions this one replaces (BIP-125 fee bump, payjoin, meld), signed as
    /// they were broadcast. A PSBT has no field for them. A Trezor is shown what
    /// changed (fee, outputs) rather than a new transaction: every input of each
    /// replaced transaction must be spent again, in the same order, and its outputs
    /// are matched to the PSBT's by script. A Ledger cannot honour it and refuses.
    pub replaces: Vec<Replaced>,
}

/// A transaction that a signing replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replaced {
    /// The replaced transaction, with its scriptSigs and witnesses.
    pub tx: Transaction,
    /// Its change outputs that the replacement drops (output index → key origin of
    /// the single key the output pays to). Change the replacement keeps is known from
    /// the PSBT's own outputs; any other dropped output is refused by the device.
    pub dropped_change: BTreeMap<u32, KeySource>,
}

impl Replaced {
    /// `tx`, replaced.
    pub fn new(tx: Transaction) -> Self {
        Replaced {
            tx,
            dropped_change: BTreeMap::new(),
        }
    }

    /// Output `index` of the replaced transaction was change to `origin`, and the
    /// replacement drops it.
    pub fn with_dropped_change(mut self, index: u32, origin: KeySource) -> Self {
        self.dropped_change.insert(index, origin);
        self
    }
}

impl Replaced {
    /// A replaced transaction given in consensus hex.
    ///
    /// # Errors
    /// `invalid-input` (`replaces`) when it is not a transaction.
    pub fn from_hex(hex: &str) -> crate::Result<Self> {
        bitcoin::consensus::encode::deserialize_hex::<Transaction>(hex.trim())
            .map(Replaced::new)
            .map_err(|e| {
                crate::Error::invalid(
                    "replaces",
                    format!("not a transaction in hex: {e}").to_lowercase(),
                )
            })
    }
}

impl From<Transaction> for Replaced {
    fn from(tx: Transaction) -> Self {
        Replaced::new(tx)
    }
}

impl SignOptions {
    /// Signs with `policy` and its hmac.
    pub fn with_policy(mut self, policy: WalletPolicy, hmac: Option<Hash32>) -> Self {
        self.policy = Some((policy, hmac));
        self
    }

    /// Finalizes after signing (or not).
    pub fn finalize(mut self, finalize: bool) -> Self {
        self.finalize = finalize;
        self
    }

    /// Signs for `network`.
    pub fn with_network(mut self, network: Network) -> Self {
        self.network = Some(network);
        self
    }

    /// Signs a replacement of `replaced` (call once per replaced transaction).
    pub fn replacing(mut self, replaced: impl Into<Replaced>) -> Self {
        self.replaces.push(replaced.into());
        self
    }
}

/// A signed PSBT.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// A new PSBT: the caller's, byte for byte, plus the verified signatures (finalized
    /// when asked).
    pub psbt: RawPsbt,
    /// `(input index, signature)`, in the order the device gave them.
    pub signatures: Vec<(usize, InputSignature)>,
    /// The transaction: the device's own serialization (Trezor), or the extracted
    /// final transaction when finalizing was asked.
    pub transaction: Option<Transaction>,
}

impl Signed {
    /// The transaction in consensus serialization, when there is one.
    pub fn serialized_transaction(&self) -> Option<Vec<u8>> {
        self.transaction.as_ref().map(bitcoin::consensus::serialize)
    }
}
