//! Multisig descriptions for GetAddress and change: `m` of the keys at one path below
//! each account xpub, in the given order (`multi`) or sorted (`sortedmulti`).

use crate::protocol::psbt::view::SortedMap;

use bitcoin::bip32::{ChildNumber, KeySource, Xpub};
use bitcoin::blockdata::script::Instruction;
use bitcoin::key::Secp256k1;
use bitcoin::Script;

use crate::error::{Error, Result};
use crate::protocol::trezor::btc::keys::node_of;
use crate::protocol::trezor::messages::{
    HdNodePathType, HdNodeType, MultisigPubkeysOrder, MultisigRedeemScriptType,
};

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

/// The threshold and keys of a bare `OP_m <keys> OP_n OP_CHECKMULTISIG` script.
pub fn multisig_of(script: &Script) -> Option<(u32, Vec<bitcoin::PublicKey>)> {
    let mut ins: Vec<Instruction> = script.instructions().collect::<Result<_, _>>().ok()?;
    let last = ins.pop()?;
    if last != Instruction::Op(bitcoin::opcodes::all::OP_CHECKMULTISIG) {
        return None;
    }
    let n_op = ins.pop()?;
    let first = *ins.first()?;
    let small = |i: &Instruction| -> Option<u32> {
        match i {
            Instruction::Op(op) => {
                let v = op.to_u8();
                (0x51..=0x60).contains(&v).then(|| u32::from(v - 0x50))
            }
            Instruction::PushBytes(_) => None,
        }
    };
    let m = small(&first)?;
    let n = small(&n_op)?;
    let keys: Vec<bitcoin::PublicKey> = ins
        .get(1..)?
        .iter()
        .map(|i| match i {
            Instruction::PushBytes(b) => bitcoin::PublicKey::from_slice(b.as_bytes()).ok(),
            Instruction::Op(_) => None,
        })
        .collect::<Option<_>>()?;
    (keys.len() == n as usize && m >= 1 && m <= n).then_some((m, keys))
}

/// The firmware's description of a multisig script given by its keys (no xpubs).
pub fn multisig_type(m: u32, keys: &[bitcoin::PublicKey]) -> MultisigRedeemScriptType {
    MultisigRedeemScriptType {
        pubkeys: keys
            .iter()
            .map(|k| HdNodePathType {
                node: Some(HdNodeType {
                    depth: 0,
                    fingerprint: 0,
                    child_num: 0,
                    chain_code: vec![0; 32],
                    private_key: None,
                    public_key: k.to_bytes(),
                }),
                address_n: Vec::new(),
            })
            .collect(),
        signatures: vec![Vec::new(); keys.len()],
        m,
        nodes: Vec::new(),
        address_n: Vec::new(),
        pubkeys_order: Some(MultisigPubkeysOrder::PRESERVED),
    }
}

/// A multisig script described by the account xpubs its keys are derived from (the
/// PSBT's global xpubs and the keys' BIP-32 origins): what lets the device tell change
/// back to the same multisig wallet.
#[derive(Debug, Clone, PartialEq)]
pub struct XpubMultisig {
    /// The firmware's description.
    pub message: MultisigRedeemScriptType,
    /// The cosigners' xpubs, in script order.
    pub xpubs: Vec<Xpub>,
    /// The same path below every xpub (`None` when the keys use different paths).
    pub path: Option<Vec<u32>>,
}

impl XpubMultisig {
    /// The wallet: the threshold and the cosigners' xpubs as a set.
    pub fn wallet(&self) -> (u32, Vec<Xpub>) {
        let mut xpubs = self.xpubs.clone();
        xpubs.sort_unstable();
        xpubs.dedup();
        (self.message.m, xpubs)
    }
}

/// Rebuilds the `m`-of-`keys` multisig from `xpubs` (xpub → origin) and the keys'
/// `origins` (key → origin): each key must be derived, by unhardened steps, from an
/// xpub whose origin is a prefix of the key's. `None` when a key has no such xpub.
pub fn from_xpubs(
    m: u32,
    keys: &[bitcoin::PublicKey],
    origins: &SortedMap<bitcoin::secp256k1::PublicKey, KeySource>,
    xpubs: &SortedMap<Xpub, KeySource>,
) -> Option<XpubMultisig> {
    let secp = Secp256k1::verification_only();
    let mut found = Vec::new();
    for key in keys {
        let (fingerprint, path) = origins.get(&key.inner)?;
        let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
        let hit = xpubs.iter().find_map(|(xpub, (f, prefix))| {
            let prefix: Vec<ChildNumber> = prefix.into_iter().copied().collect();
            if f != fingerprint || !steps.starts_with(&prefix) {
                return None;
            }
            let rest = steps.get(prefix.len()..)?;
            if rest.iter().any(ChildNumber::is_hardened) {
                return None;
            }
            let child = xpub.derive_pub(&secp, &rest).ok()?;
            (child.public_key == key.inner).then(|| {
                (
                    *xpub,
                    rest.iter().map(|c| u32::from(*c)).collect::<Vec<u32>>(),
                )
            })
        })?;
        found.push(hit);
    }
    let first = found.first()?.1.clone();
    let same_path = found.iter().all(|(_, p)| *p == first);
    let message = if same_path {
        MultisigRedeemScriptType {
            pubkeys: Vec::new(),
            signatures: vec![Vec::new(); found.len()],
            m,
            nodes: found.iter().map(|(x, _)| node_of(x)).collect(),
            address_n: first.clone(),
            pubkeys_order: Some(MultisigPubkeysOrder::PRESERVED),
        }
    } else {
        MultisigRedeemScriptType {
            pubkeys: found
                .iter()
                .map(|(x, p)| HdNodePathType {
                    node: Some(node_of(x)),
                    address_n: p.clone(),
                })
                .collect(),
            signatures: vec![Vec::new(); found.len()],
            m,
            nodes: Vec::new(),
            address_n: Vec::new(),
            pubkeys_order: Some(MultisigPubkeysOrder::PRESERVED),
        }
    };
    Some(XpubMultisig {
        message,
        xpubs: found.iter().map(|(x, _)| *x).collect(),
        path: same_path.then_some(first),
    })
}
