//! Sample PSBTs for simulated devices: spend made-up coins that a wallet policy
//! received, for demos and tests.

use bitcoin::absolute::LockTime;
use bitcoin::psbt::Psbt;
use bitcoin::transaction::{Transaction, TxIn, TxOut, Version};
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Txid, Witness};
use miniscript::psbt::PsbtExt;

use crate::error::{Error, Result};
use crate::protocol::policy::standard;
use crate::protocol::policy::WalletPolicy;
use crate::sim::seed::Seed;

/// A made-up foreign output script (p2wpkh) that the sample pays to.
const FOREIGN_SCRIPT: [u8; 22] = [
    0x00, 0x14, 0xaa, 0x8e, 0xf3, 0x74, 0xca, 0xfa, 0xdf, 0xca, 0x76, 0x90, 0x2d, 0xdb, 0x5c, 0xf6,
    0x1c, 0x60, 0xbb, 0xfd, 0x9d, 0x85,
];

fn bad(e: impl core::fmt::Display) -> Error {
    Error::invalid("policy", e.to_string())
}

/// The standard single-key segwit policy of `seed`: `wpkh(@0/**)` over its account
/// key at m/84'/1'/0' (a tpub) on testnet, m/84'/0'/0' (an xpub) on mainnet.
///
/// # Errors
/// None in practice (the path is hardened and fixed).
pub fn wpkh_policy(seed: &Seed, testnet: bool) -> Result<WalletPolicy> {
    standard_policy(seed, "wpkh", testnet)
}

/// The standard single-key policy of `seed` for `script`: `wpkh` (`wpkh(@0/**)` at
/// m/84'/coin'/0') or `tr` (`tr(@0/**)` at m/86'/coin'/0'), coin 1 (a tpub) on testnet
/// and 0 (an xpub) on mainnet.
///
/// # Errors
/// `invalid-input` (field `script`) for another script.
pub fn standard_policy(seed: &Seed, script: &str, testnet: bool) -> Result<WalletPolicy> {
    let (purpose, template) = match script {
        "wpkh" | "tr" => standard::purpose_for_script(script)
            .and_then(|p| Some((p, standard::template_for_purpose(p)?)))
            .ok_or_else(|| Error::invalid("script", "no standard purpose"))?,
        other => {
            return Err(Error::invalid(
                "script",
                format!("{other:?} is neither \"wpkh\" nor \"tr\""),
            ))
        }
    };
    let (coin, network) = if testnet {
        (1, bitcoin::NetworkKind::Test)
    } else {
        (0, bitcoin::NetworkKind::Main)
    };
    let path = format!("{purpose}'/{coin}'/0'");
    let derivation: bitcoin::bip32::DerivationPath = format!("m/{path}")
        .parse()
        .map_err(|e: bitcoin::bip32::Error| Error::invalid("path", e.to_string()))?;
    let xpub = seed.xpub(&derivation, network)?;
    let key = format!("[{}/{path}]{xpub}", seed.fingerprint());
    WalletPolicy::new("", template, vec![key])
}

/// A PSBT spending `n` coins (50 000 + i sat) received by `policy` at receive indexes
/// 0..n, paying all but 1 000 sat of fee to a foreign address and 20 000 sat of change
/// back to the policy (index 3 of the change branch), with every field a signer needs
/// (utxos, BIP-32 derivations, scripts; for `musig()` the BIP-328 derivations of the
/// aggregate and the BIP-373 participant lists).
///
/// # Errors
/// `invalid-input` when the policy has no receive and change branches or `n` is 0.
pub fn funded_psbt(policy: &WalletPolicy, n: usize) -> Result<Psbt> {
    if n == 0 {
        return Err(Error::invalid("inputs", "at least one"));
    }
    let branches = policy
        .descriptor()?
        .into_single_descriptors()
        .map_err(bad)?;
    let (Some(receive), Some(change_branch)) = (branches.first(), branches.get(1)) else {
        return Err(bad(
            "the policy needs receive and change branches (/** keys)",
        ));
    };
    let mut inputs = Vec::with_capacity(n);
    let mut prevs = Vec::with_capacity(n);
    let mut total = 0u64;
    for i in 0..n {
        let derived = receive.at_derivation_index(i as u32).map_err(bad)?;
        let value = 50_000 + i as u64;
        total += value;
        let mut seed_txid = [0u8; 32];
        seed_txid[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        let prev = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: Txid::from_byte_array(seed_txid),
                    vout: 0,
                },
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(value),
                script_pubkey: derived.script_pubkey(),
            }],
        };
        inputs.push(TxIn {
            previous_output: OutPoint {
                txid: prev.compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        });
        prevs.push((prev, derived));
    }
    let change = change_branch.at_derivation_index(3).map_err(bad)?;
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: inputs,
        output: vec![
            TxOut {
                value: Amount::from_sat(total - 21_000),
                script_pubkey: ScriptBuf::from_bytes(FOREIGN_SCRIPT.to_vec()),
            },
            TxOut {
                value: Amount::from_sat(20_000),
                script_pubkey: change.script_pubkey(),
            },
        ],
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).map_err(bad)?;
    for (i, (prev, derived)) in prevs.into_iter().enumerate() {
        let taproot = matches!(derived, miniscript::Descriptor::Tr(_));
        let segwit = derived.desc_type().segwit_version().is_some();
        if let Some(input) = psbt.inputs.get_mut(i) {
            input.witness_utxo = if segwit {
                prev.output.first().cloned()
            } else {
                None
            };
            if !taproot {
                input.non_witness_utxo = Some(prev);
            }
        }
        psbt.update_input_with_descriptor(i, &derived)
            .map_err(bad)?;
    }
    psbt.update_output_with_descriptor(1, &change)
        .map_err(bad)?;
    #[cfg(feature = "musig")]
    if policy.template.contains("musig(") {
        // BIP-373: who takes part in each aggregate the inputs derive from.
        let raw = crate::protocol::psbt::raw::RawPsbt::parse(&psbt.serialize())?;
        psbt = crate::protocol::musig::add_participants(&raw, policy)?.to_bitcoin()?;
    }
    Ok(psbt)
}

use bitcoin::hashes::Hash;
