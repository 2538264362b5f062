//! What `summarize` tells before signing, for a page or a CLI to show: amounts marked
//! verified or not, change only where the host rebuilds the script, the sighash of
//! every input. Hostile PSBTs that would make it lie are either refused or flagged.
#![cfg(not(target_arch = "wasm32"))]

use bitcoin::bip32::Fingerprint;
use bitcoin::psbt::Psbt;
use hwsigner::protocol::psbt::raw::{self, RawPsbt};
use hwsigner::protocol::psbt::summary::{summarize, Summary};
use hwsigner::sim::sample;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};

fn seed() -> Seed {
    Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap()
}

fn fingerprint() -> Fingerprint {
    seed().fingerprint()
}

/// A PSBT spending `n` coins of the standard `script` ("wpkh" or "tr") policy of the
/// Speculos seed, paying a foreign address with change back.
fn sample_psbt(script: &str, n: usize) -> Psbt {
    let policy = sample::standard_policy(&seed(), script, true).unwrap();
    sample::funded_psbt(&policy, n).unwrap()
}

fn summary_of(p: &Psbt) -> Summary {
    summarize(&raw::decode(&p.serialize()).unwrap(), Some(fingerprint())).unwrap()
}

#[test]
fn amounts_from_the_previous_transaction_are_verified() {
    let s = summary_of(&sample_psbt("wpkh", 2));
    assert!(s.inputs.iter().all(|i| i.verified), "{s:?}");
    assert!(s.fee_verified);
    assert_eq!(s.fee, Some(1_000));
}

#[test]
fn a_segwit_v0_amount_without_its_previous_transaction_is_the_psbts_word() {
    let mut p = sample_psbt("wpkh", 2);
    p.inputs[1].non_witness_utxo = None;
    let s = summary_of(&p);
    assert!(s.inputs[0].verified);
    assert!(!s.inputs[1].verified, "{s:?}");
    assert_eq!(
        s.inputs[1].amount,
        Some(50_001),
        "the amount is still shown"
    );
    assert!(!s.fee_verified);
    assert_eq!(s.fee, Some(1_000));
}

#[test]
fn taproot_amounts_are_committed_by_the_signatures() {
    let p = sample_psbt("tr", 2);
    assert!(p.inputs.iter().all(|i| i.non_witness_utxo.is_none()));
    let s = summary_of(&p);
    assert!(s.inputs.iter().all(|i| i.verified), "{s:?}");
    assert!(s.fee_verified);
}

#[test]
fn utxos_that_disagree_are_refused() {
    // The witness utxo claims another amount than the previous transaction says.
    let mut p = sample_psbt("wpkh", 2);
    let w = p.inputs[0].witness_utxo.as_mut().unwrap();
    w.value = bitcoin::Amount::from_sat(w.value.to_sat() + 1_000_000);
    let e = RawPsbt::parse(&p.serialize()).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    assert!(
        e.to_string().starts_with("invalid input 0:") && e.to_string().contains("witness utxo"),
        "{e}"
    );
    // A previous transaction that is not the one the input spends.
    let mut p = sample_psbt("wpkh", 2);
    p.inputs[0].non_witness_utxo = p.inputs[1].non_witness_utxo.clone();
    let e = RawPsbt::parse(&p.serialize()).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    assert!(e.to_string().contains("not "), "{e}");
    // An outpoint index the previous transaction does not have.
    let mut p = sample_psbt("wpkh", 1);
    p.unsigned_tx.input[0].previous_output.vout = 5;
    p.inputs[0].witness_utxo = None;
    let e = RawPsbt::parse(&p.serialize()).unwrap_err();
    assert!(e.to_string().contains("no output 5"), "{e}");
}

fn key_info(seed: &Seed, path: &str) -> String {
    let p: bitcoin::bip32::DerivationPath = path.parse().unwrap();
    let xpub = seed.xpub(&p, bitcoin::NetworkKind::Test).unwrap();
    format!(
        "[{}/{}]{xpub}",
        seed.fingerprint(),
        path.trim_start_matches("m/")
    )
}

/// A 2-of-2 of the Speculos seed and the Trezor test seed.
fn multisig(threshold: usize, other: &Seed) -> hwsigner::protocol::policy::WalletPolicy {
    hwsigner::protocol::policy::WalletPolicy::new(
        "Multisig",
        &format!("wsh(sortedmulti({threshold},@0/**,@1/**))"),
        vec![
            key_info(&seed(), "m/48'/1'/0'/2'"),
            key_info(other, "m/48'/1'/0'/2'"),
        ],
    )
    .unwrap()
}

fn other_seed() -> Seed {
    Seed::from_mnemonic(hwsigner::sim::seed::TREZOR_TEST_MNEMONIC, "").unwrap()
}

#[test]
fn change_is_what_the_script_rebuilt_from_the_key_says() {
    for script in ["wpkh", "tr"] {
        let s = summary_of(&sample_psbt(script, 2));
        assert!(
            !s.outputs[0].change && !s.outputs[0].claims_change,
            "{script}"
        );
        assert!(
            s.outputs[1].change && s.outputs[1].claims_change,
            "{script}"
        );
        assert!(s.warnings.is_empty(), "{script}: {:?}", s.warnings);
    }
}

#[test]
fn a_change_label_on_a_foreign_output_is_flagged_not_believed() {
    // The attacker's output carries the change output's derivation (our fingerprint).
    let mut p = sample_psbt("wpkh", 2);
    p.outputs[0] = p.outputs[1].clone();
    let s = summary_of(&p);
    assert!(!s.outputs[0].change, "a label is not change: {s:?}");
    assert!(s.outputs[0].claims_change);
    assert!(s.outputs[1].change);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.starts_with("output 0 claims to be change")),
        "{:?}",
        s.warnings
    );
    // The same for taproot: a key origin of ours next to a foreign script.
    let mut p = sample_psbt("tr", 1);
    p.outputs[0] = p.outputs[1].clone();
    let s = summary_of(&p);
    assert!(!s.outputs[0].change && s.outputs[0].claims_change, "{s:?}");
}

#[test]
fn multisig_change_needs_the_policy() {
    let policy = multisig(2, &other_seed());
    let p = sample::funded_psbt(&policy, 1).unwrap();
    let raw = raw::decode(&p.serialize()).unwrap();
    // Without the policy the host cannot tell whose scripts these are.
    let s = summarize(&raw, Some(fingerprint())).unwrap();
    assert!(!s.outputs[1].change && s.outputs[1].claims_change, "{s:?}");
    // With it, the change output is the policy's script at its branch and index.
    let s = hwsigner::protocol::psbt::summary::summarize_with_policy(
        &raw,
        Some(fingerprint()),
        Some(&policy),
    )
    .unwrap();
    assert!(s.outputs[1].change, "{s:?}");
    assert!(!s.outputs[0].change);
    // A 1-of-2 with the attacker's key, labelled with our derivations, is not the
    // 2-of-2 policy's change.
    let attacker = Seed::from_mnemonic(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        "",
    )
    .unwrap();
    let trap = sample::funded_psbt(&multisig(1, &attacker), 1).unwrap();
    let mut p = p.clone();
    p.unsigned_tx.output[1] = trap.unsigned_tx.output[1].clone();
    p.outputs[1] = trap.outputs[1].clone();
    let s = hwsigner::protocol::psbt::summary::summarize_with_policy(
        &raw::decode(&p.serialize()).unwrap(),
        Some(fingerprint()),
        Some(&policy),
    )
    .unwrap();
    assert!(!s.outputs[1].change && s.outputs[1].claims_change, "{s:?}");
}

/// The hostile PSBTs the demo page's end-to-end test pastes
/// (`tests/js/fixtures/*.b64`), for the simulated Ledger's seed: each is what it says
/// (`HWSIGNER_WRITE_FIXTURES=1` writes them anew).
#[test]
fn the_demo_pages_hostile_fixtures_are_what_they_say() {
    use bitcoin::base64::Engine;
    let b64 = |p: &Psbt| bitcoin::base64::engine::general_purpose::STANDARD.encode(p.serialize());
    // A false change label on the payment, and one amount without its previous
    // transaction.
    let mut fake = sample_psbt("wpkh", 2);
    fake.outputs[0] = fake.outputs[1].clone();
    fake.inputs[1].non_witness_utxo = None;
    // A witness utxo that disagrees with the previous transaction.
    let mut mismatch = sample_psbt("wpkh", 2);
    let w = mismatch.inputs[0].witness_utxo.as_mut().unwrap();
    w.value = bitcoin::Amount::from_sat(w.value.to_sat() - 40_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/fixtures");
    for (name, p) in [("fake_change", &fake), ("mismatched_utxos", &mismatch)] {
        let path = dir.join(format!("{name}.b64"));
        if std::env::var_os("HWSIGNER_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, b64(p) + "\n").unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim(), b64(p), "{name}: regenerate the fixture");
    }
    let s = summary_of(&fake);
    assert!(!s.outputs[0].change && s.outputs[0].claims_change);
    assert!(!s.inputs[1].verified && !s.fee_verified);
    let e = RawPsbt::parse(&mismatch.serialize()).unwrap_err();
    assert!(e.to_string().contains("witness utxo"), "{e}");
}
