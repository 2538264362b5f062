//! What a PSBT does, for showing before signing: inputs, outputs (with change marked),
//! amounts and fee, and what of it is certain.
//!
//! Nothing a PSBT merely claims is shown as fact: an output is change only when its
//! script is rebuilt from the device's key or the wallet policy (see [`change`]), an
//! amount is verified only when its previous transaction is given (or every input is
//! taproot), and what is claimed but not verified is listed in [`Summary::warnings`].

use bitcoin::bip32::{ChildNumber, Fingerprint};
use bitcoin::{Address, Network};

use crate::error::Result;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::change::{self, Change};
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::sighash;
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
    /// The sighash type it asks for (`ALL`, `DEFAULT`, `NONE|ANYONECANPAY`, ...; see
    /// [`sighash::name`]).
    pub sighash: String,
}

/// One output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSummary {
    /// The address, or `None` for scripts without one (OP_RETURN).
    pub address: Option<String>,
    /// Amount in satoshi.
    pub amount: u64,
    /// True when the output pays back to the device: its script is rebuilt from a key
    /// with the given fingerprint (single-key scripts) or from the given policy.
    pub change: bool,
    /// True when the PSBT marks the output as the device's (a derivation with its
    /// fingerprint), whether or not the script bears it out. `claims_change &&
    /// !change` is a false change label: show the output as a payment.
    pub claims_change: bool,
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
    /// What the PSBT claims that the host could not verify, one sentence each.
    pub warnings: Vec<String>,
}

fn is_ours(fingerprint: Option<Fingerprint>, mut fprs: impl Iterator<Item = Fingerprint>) -> bool {
    fingerprint.is_some_and(|f| fprs.any(|x| x == f))
}

/// Summarizes `psbt`; inputs are "ours" when one of their BIP-32 derivations has
/// `fingerprint`, outputs are change when their script is rebuilt from such a key.
/// Addresses are for testnet when a derivation uses coin type 1', else mainnet.
///
/// # Errors
/// `invalid-input` when the PSBT's fields do not decode or do not hold together (see
/// [`RawPsbt::to_bitcoin`]).
pub fn summarize(psbt: &RawPsbt, fingerprint: Option<Fingerprint>) -> Result<Summary> {
    summarize_with_policy(psbt, fingerprint, None)
}

/// As [`summarize`], and an output is also change when its script is `policy`'s at
/// the branch and index of its derivation (multisig and other policies).
///
/// # Errors
/// As [`summarize`].
pub fn summarize_with_policy(
    psbt: &RawPsbt,
    fingerprint: Option<Fingerprint>,
    policy: Option<&WalletPolicy>,
) -> Result<Summary> {
    let p = psbt.view()?;
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
                sighash: sighash::name(&p, i),
            }
        })
        .collect();
    let outputs: Vec<OutputSummary> = p
        .unsigned_tx
        .output
        .iter()
        .enumerate()
        .map(|(i, txout)| {
            let claim = match (fingerprint, p.outputs.get(i)) {
                (Some(f), Some(o)) => change::check(o, &txout.script_pubkey, f, policy),
                _ => Change::NotClaimed,
            };
            OutputSummary {
                address: Address::from_script(&txout.script_pubkey, network)
                    .ok()
                    .map(|a| a.to_string()),
                amount: txout.value.to_sat(),
                change: claim == Change::Verified,
                claims_change: claim != Change::NotClaimed,
            }
        })
        .collect();
    let mut warnings = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        if input.amount.is_some() && !input.verified {
            warnings.push(format!(
                "input {i}: its amount is the psbt's word (no previous transaction)"
            ));
        }
    }
    for i in (0..inputs.len()).filter(|i| !sighash::is_default(&p, *i)) {
        warnings.push(format!(
            "input {i}: it asks for sighash {}, which does not commit to the whole \
             transaction",
            sighash::name(&p, i)
        ));
    }
    for (i, output) in outputs.iter().enumerate() {
        if output.claims_change && !output.change {
            warnings.push(format!(
                "output {i} claims to be change, but its script is not built from the \
                 device's key: it is a payment"
            ));
        }
    }
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
        warnings,
    })
}
