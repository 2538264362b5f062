//! Test PSBTs: spend made-up coins that a wallet policy received.

use bitcoin::absolute::LockTime;
use bitcoin::bip32::DerivationPath;
use bitcoin::psbt::Psbt;
use bitcoin::transaction::{Transaction, TxIn, TxOut, Version};
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Witness};
use hwsigner::ledger::btc::policy::WalletPolicy;
use hwsigner::sim::seed::Seed;
use miniscript::psbt::PsbtExt;
use std::str::FromStr;

/// The key string `[fpr/path]xpub` of `seed` at `path` (testnet).
pub fn key_info(seed: &Seed, path: &str) -> String {
    let p = DerivationPath::from_str(path).unwrap();
    let xpub = seed.xpub(&p, bitcoin::NetworkKind::Test).unwrap();
    format!(
        "[{}/{}]{}",
        seed.fingerprint(),
        path.trim_start_matches("m/"),
        xpub
    )
}

/// A PSBT spending `n` coins received by `policy` at receive indexes 0..n, paying all
/// but a fee to a foreign address and some change back to the policy.
pub fn funded_psbt(policy: &WalletPolicy, n: usize) -> Psbt {
    let receive = policy
        .descriptor()
        .unwrap()
        .into_single_descriptors()
        .unwrap();
    let mut inputs = Vec::new();
    let mut prevs = Vec::new();
    let mut total = 0u64;
    for i in 0..n {
        let derived = receive[0].at_derivation_index(i as u32).unwrap();
        let value = 50_000 + i as u64;
        total += value;
        let prev = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: bitcoin::Txid::from_str(&format!("{:064x}", i + 1)).unwrap(),
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
    let change = receive[1].at_derivation_index(3).unwrap();
    let foreign = ScriptBuf::from_hex("0014aa8ef374cafadfca76902ddb5cf61c60bbfd9d85").unwrap();
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: inputs,
        output: vec![
            TxOut {
                value: Amount::from_sat(total - 20_000 - 1_000),
                script_pubkey: foreign,
            },
            TxOut {
                value: Amount::from_sat(20_000),
                script_pubkey: change.script_pubkey(),
            },
        ],
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    for (i, (prev, derived)) in prevs.into_iter().enumerate() {
        let is_taproot = matches!(derived, miniscript::Descriptor::Tr(_));
        let segwit = derived.desc_type().segwit_version().is_some();
        psbt.inputs[i].witness_utxo = segwit.then(|| prev.output[0].clone());
        if !is_taproot {
            psbt.inputs[i].non_witness_utxo = Some(prev);
        }
        psbt.update_input_with_descriptor(i, &derived).unwrap();
    }
    psbt.update_output_with_descriptor(1, &change).unwrap();
    psbt
}

/// The policies the simulated Ledger signs for: each standard single-key one, and
/// registered ones mixing this device's key with a foreign one. `(label, policy,
/// needs registration)`.
pub fn test_policies() -> Vec<(&'static str, WalletPolicy, bool)> {
    use hwsigner::sim::seed::{SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let other = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let k = |s: &Seed, p: &str| key_info(s, p);
    let p = |name: &str, t: &str, keys: Vec<String>| WalletPolicy::new(name, t, keys).unwrap();
    let shared = || vec![k(&me, "m/48'/1'/0'/2'"), k(&other, "m/48'/1'/0'/2'")];
    vec![
        (
            "wpkh",
            p("", "wpkh(@0/**)", vec![k(&me, "m/84'/1'/0'")]),
            false,
        ),
        (
            "sh(wpkh)",
            p("", "sh(wpkh(@0/**))", vec![k(&me, "m/49'/1'/0'")]),
            false,
        ),
        (
            "pkh",
            p("", "pkh(@0/**)", vec![k(&me, "m/44'/1'/0'")]),
            false,
        ),
        ("tr", p("", "tr(@0/**)", vec![k(&me, "m/86'/1'/0'")]), false),
        (
            "wsh(sortedmulti)",
            p("Multisig", "wsh(sortedmulti(2,@0/**,@1/**))", shared()),
            true,
        ),
        (
            "miniscript",
            p(
                "Decaying",
                "wsh(or_d(pk(@0/**),and_v(v:pkh(@1/**),older(100))))",
                shared(),
            ),
            true,
        ),
        (
            "tr script path",
            p("Tapscript", "tr(@1/**,pk(@0/**))", shared()),
            true,
        ),
    ]
}
