//! Which outputs the simulated Trezor hides as change, by the firmware's rules
//! (`sign_tx/change_detector.py`, `matchcheck.py`): an output is change when its
//! wallet path (all but the last two steps), its script type and, for a multisig
//! output, its multisig wallet (threshold and cosigner nodes) match those of every
//! internal input, it is on a change or receive chain, its index is reasonable and
//! its amount not zero.

use bitcoin::hashes::{sha256, Hash, HashEngine};

use crate::protocol::trezor::messages::{
    HdNodeType, InputScriptType, MultisigRedeemScriptType, OutputScriptType, TxInput, TxOutput,
};

/// The last two steps of a wallet path (chain and index).
const WALLET_DEPTH: usize = 2;
/// The highest chain of change (0 receive, 1 change).
const MAX_CHAIN: u32 = 1;
/// The highest address index of change.
const MAX_INDEX: u32 = 1_000_000;

/// What every input shares, or a mismatch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Match<T> {
    /// No input yet.
    #[default]
    Undefined,
    /// Every input so far has this.
    Value(T),
    /// Inputs differ, or one has none: no output is change.
    Mismatch,
}

impl<T: PartialEq> Match<T> {
    fn add(&mut self, value: Option<T>) {
        *self = match (core::mem::take(self), value) {
            (Match::Mismatch, _) | (_, None) => Match::Mismatch,
            (Match::Undefined, Some(v)) => Match::Value(v),
            (Match::Value(a), Some(b)) if a == b => Match::Value(a),
            (Match::Value(_), Some(_)) => Match::Mismatch,
        };
    }

    fn matches(&self, value: Option<&T>) -> bool {
        match self {
            Match::Value(a) => value == Some(a),
            Match::Undefined | Match::Mismatch => false,
        }
    }
}

/// Tells change from payments, from the internal inputs of one transaction.
#[derive(Debug, Clone, Default)]
pub struct ChangeDetector {
    wallet_path: Match<Vec<u32>>,
    script_type: Match<i32>,
    multisig: Match<[u8; 32]>,
}

fn wallet_path(address_n: &[u32]) -> Option<Vec<u32>> {
    let keep = address_n.len().checked_sub(WALLET_DEPTH)?;
    address_n.get(..keep).map(<[u32]>::to_vec)
}

/// SPENDMULTISIG signs like SPENDADDRESS; multisig is told by the multisig structure.
fn normalized(input_type: i32) -> i32 {
    if input_type == InputScriptType::SPENDMULTISIG {
        InputScriptType::SPENDADDRESS
    } else {
        input_type
    }
}

/// The input script type a change output of `output_type` is spent with.
pub fn change_input_type(output_type: i32) -> Option<i32> {
    match output_type {
        OutputScriptType::PAYTOADDRESS => Some(InputScriptType::SPENDADDRESS),
        OutputScriptType::PAYTOMULTISIG => Some(InputScriptType::SPENDMULTISIG),
        OutputScriptType::PAYTOWITNESS => Some(InputScriptType::SPENDWITNESS),
        OutputScriptType::PAYTOP2SHWITNESS => Some(InputScriptType::SPENDP2SHWITNESS),
        OutputScriptType::PAYTOTAPROOT => Some(InputScriptType::SPENDTAPROOT),
        _ => None,
    }
}

/// The nodes a multisig description is built from.
fn nodes(ms: &MultisigRedeemScriptType) -> Vec<&HdNodeType> {
    if ms.nodes.is_empty() {
        ms.pubkeys.iter().filter_map(|p| p.node.as_ref()).collect()
    } else {
        ms.nodes.iter().collect()
    }
}

/// The firmware's fingerprint of a multisig wallet: SHA-256 of the threshold, the
/// number of nodes and each node (sorted by public key); `None` when malformed.
pub fn multisig_fingerprint(ms: &MultisigRedeemScriptType) -> Option<[u8; 32]> {
    let mut nodes = nodes(ms);
    let n = nodes.len();
    if !(1..=15).contains(&n) || !(1..=15).contains(&ms.m) {
        return None;
    }
    if nodes
        .iter()
        .any(|d| d.public_key.len() != 33 || d.chain_code.len() != 32)
    {
        return None;
    }
    nodes.sort_by(|a, b| a.public_key.cmp(&b.public_key));
    let mut engine = sha256::Hash::engine();
    engine.input(&ms.m.to_le_bytes());
    engine.input(&(n as u32).to_le_bytes());
    for d in nodes {
        engine.input(&d.depth.to_le_bytes());
        engine.input(&d.fingerprint.to_le_bytes());
        engine.input(&d.child_num.to_le_bytes());
        engine.input(&d.chain_code);
        engine.input(&d.public_key);
    }
    Some(sha256::Hash::from_engine(engine).to_byte_array())
}

/// Whether every key of a multisig description is at the same path below its node.
fn single_path(ms: &MultisigRedeemScriptType) -> bool {
    if !ms.nodes.is_empty() {
        return true;
    }
    let mut paths = ms.pubkeys.iter().map(|p| &p.address_n);
    match paths.next() {
        Some(first) => paths.all(|p| p == first),
        None => true,
    }
}

impl ChangeDetector {
    /// Takes an internal input into account.
    pub fn add_input(&mut self, txi: &TxInput) {
        self.wallet_path.add(wallet_path(&txi.address_n));
        self.script_type.add(Some(normalized(
            txi.script_type.unwrap_or(InputScriptType::SPENDADDRESS),
        )));
        self.multisig
            .add(txi.multisig.as_ref().and_then(multisig_fingerprint));
    }

    /// Whether `txo` is change back to the inputs' wallet.
    pub fn is_change(&self, txo: &TxOutput) -> bool {
        let output_type = txo.script_type.unwrap_or(OutputScriptType::PAYTOADDRESS);
        let Some(input_type) = change_input_type(output_type) else {
            return false;
        };
        if let Some(ms) = &txo.multisig {
            if !single_path(ms) || !self.multisig.matches(multisig_fingerprint(ms).as_ref()) {
                return false;
            }
        }
        let n = txo.address_n.len();
        let (Some(chain), Some(index)) = (
            n.checked_sub(2).and_then(|i| txo.address_n.get(i)),
            n.checked_sub(1).and_then(|i| txo.address_n.get(i)),
        ) else {
            return false;
        };
        self.wallet_path
            .matches(wallet_path(&txo.address_n).as_ref())
            && self.script_type.matches(Some(&normalized(input_type)))
            && *chain <= MAX_CHAIN
            && *index <= MAX_INDEX
            && txo.amount > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &[u32], ty: i32) -> TxInput {
        TxInput {
            address_n: path.to_vec(),
            script_type: Some(ty),
            ..Default::default()
        }
    }

    fn output(path: &[u32], ty: i32, amount: u64) -> TxOutput {
        TxOutput {
            address_n: path.to_vec(),
            script_type: Some(ty),
            amount,
            ..Default::default()
        }
    }

    const H: u32 = 0x8000_0000;

    #[test]
    fn change_shares_the_wallet_path_and_script_type() {
        let mut d = ChangeDetector::default();
        d.add_input(&input(&[84 | H, H, H, 0, 3], InputScriptType::SPENDWITNESS));
        d.add_input(&input(&[84 | H, H, H, 1, 9], InputScriptType::SPENDWITNESS));
        let path = [84 | H, H, H, 1, 2];
        assert!(d.is_change(&output(&path, OutputScriptType::PAYTOWITNESS, 1)));
        // Another script type, another account, chain 2, zero amount: shown.
        assert!(!d.is_change(&output(&path, OutputScriptType::PAYTOP2SHWITNESS, 1)));
        assert!(!d.is_change(&output(
            &[84 | H, H, 1 | H, 1, 2],
            OutputScriptType::PAYTOWITNESS,
            1
        )));
        assert!(!d.is_change(&output(
            &[84 | H, H, H, 2, 2],
            OutputScriptType::PAYTOWITNESS,
            1
        )));
        assert!(!d.is_change(&output(&path, OutputScriptType::PAYTOWITNESS, 0)));
        // Inputs of two accounts: nothing is change.
        d.add_input(&input(
            &[84 | H, H, 1 | H, 0, 0],
            InputScriptType::SPENDWITNESS,
        ));
        assert!(!d.is_change(&output(&path, OutputScriptType::PAYTOWITNESS, 1)));
    }
}
