//! Multisig descriptions for GetAddress and change: `m` of the keys at one path below
//! each account xpub, in the given order (`multi`) or sorted (`sortedmulti`).

use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::blockdata::script::Instruction;
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
