//! What a PSBT does, for showing before signing: inputs, outputs (with change marked),
//! amounts and fee.

use bitcoin::bip32::{ChildNumber, Fingerprint};
use bitcoin::{Address, Network};

use crate::error::Result;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::{amount_verified, spent_output};

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSummary {
    /// The spent outpoint, `txid:vout`.
    pub outpoint: String,
    /// The spent amount in satoshi, when the PSBT carries the utxo.
    pub amount: Option<u64>,
    /// True when the amount is certain (see [`amount_verified`]): the previous
    /// transaction is given, or every input is taproot. Otherwise it is the PSBT's word.
    pub verified: bool,
    /// True when a BIP-32 derivation of the input has the given fingerprint.
    pub ours: bool,
}

/// One output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSummary {
    /// The address, or `None` for scripts without one (OP_RETURN).
    pub address: Option<String>,
    /// Amount in satoshi.
    pub amount: u64,
    /// True when the output pays back to the given fingerprint's keys.
    pub change: bool,
}

/// A PSBT's effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Inputs in order.
    pub inputs: Vec<InputSummary>,
    /// Outputs in order.
    pub outputs: Vec<OutputSummary>,
    /// Inputs minus outputs, when every input amount is known.
    pub fee: Option<u64>,
    /// True when the fee is certain: every input amount is verified.
    pub fee_verified: bool,
    /// The network the addresses are shown for.
    pub network: Network,
}

fn is_ours(fingerprint: Option<Fingerprint>, mut fprs: impl Iterator<Item = Fingerprint>) -> bool {
    fingerprint.is_some_and(|f| fprs.any(|x| x == f))
}

/// Summarizes `psbt`; inputs and outputs are "ours" / change when one of their BIP-32
/// derivations has `fingerprint`. Addresses are for testnet when a derivation uses
/// coin type 1', else mainnet.
///
/// # Errors
/// `invalid-input` when the PSBT's fields do not decode.
pub fn summarize(psbt: &RawPsbt, fingerprint: Option<Fingerprint>) -> Result<Summary> {
    let p = psbt.to_bitcoin()?;
    let testnet = p
        .inputs
        .iter()
        .flat_map(|i| {
            i.bip32_derivation
                .values()
                .map(|(_, path)| path)
                .chain(i.tap_key_origins.values().map(|(_, (_, path))| path))
        })
        .any(|path| path.into_iter().nth(1) == Some(&ChildNumber::Hardened { index: 1 }));
    let network = if testnet {
        Network::Testnet
    } else {
        Network::Bitcoin
    };
    let inputs: Vec<InputSummary> = p
        .unsigned_tx
        .input
        .iter()
        .enumerate()
        .map(|(i, txin)| {
            let input = p.inputs.get(i);
            let ours = input.is_some_and(|inp| {
                is_ours(
                    fingerprint,
                    inp.bip32_derivation
                        .values()
                        .map(|(f, _)| *f)
                        .chain(inp.tap_key_origins.values().map(|(_, (f, _))| *f)),
                )
            });
            InputSummary {
                outpoint: txin.previous_output.to_string(),
                amount: spent_output(&p, i).map(|o| o.value.to_sat()),
                verified: amount_verified(&p, i),
                ours,
            }
        })
        .collect();
    let outputs: Vec<OutputSummary> = p
        .unsigned_tx
        .output
        .iter()
        .enumerate()
        .map(|(i, txout)| {
            let change = p.outputs.get(i).is_some_and(|o| {
                is_ours(
                    fingerprint,
                    o.bip32_derivation
                        .values()
                        .map(|(f, _)| *f)
                        .chain(o.tap_key_origins.values().map(|(_, (f, _))| *f)),
                )
            });
            OutputSummary {
                address: Address::from_script(&txout.script_pubkey, network)
                    .ok()
                    .map(|a| a.to_string()),
                amount: txout.value.to_sat(),
                change,
            }
        })
        .collect();
    // Checked sums: `to_bitcoin` caps every amount and sum, but the summary must not
    // rely on a check made elsewhere to stay panic-free.
    let spent = inputs
        .iter()
        .try_fold(0u64, |sum, i| sum.checked_add(i.amount?));
    let sent = outputs
        .iter()
        .try_fold(0u64, |sum, o| sum.checked_add(o.amount));
    let fee_verified = inputs.iter().all(|i| i.verified);
    Ok(Summary {
        fee_verified,
        fee: spent
            .zip(sent)
            .and_then(|(spent, sent)| spent.checked_sub(sent)),
        inputs,
        outputs,
        network,
    })
}
