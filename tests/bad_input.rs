//! Bad input from the caller: each a clear `invalid-input` naming the field, never a
//! panic, and nothing sent to the device.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::{Device, SignOptions};
use hwsigner::protocol::psbt::raw::{self, RawPsbt};
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::transport::Transport;

fn sample() -> Vec<u8> {
    let seed = hwsigner::sim::seed::Seed::from_mnemonic(hwsigner::sim::seed::SPECULOS_MNEMONIC, "")
        .unwrap();
    let policy = hwsigner::protocol::policy::WalletPolicy::new(
        "",
        "wpkh(@0/**)",
        vec![common::fund::key_info(&seed, "m/84'/1'/0'")],
    )
    .unwrap();
    common::fund::funded_psbt(&policy, 2).serialize()
}

#[test]
fn bad_psbts_are_invalid_input_naming_what_is_wrong() {
    let good = sample();
    let good_raw = RawPsbt::parse(&good).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    cases.push(("truncated", good[..good.len() / 2].to_vec(), "truncated"));
    cases.push((
        "no magic",
        good[5..].to_vec(),
        "neither psbt bytes nor base64",
    ));
    cases.push((
        "trailing bytes",
        [good.clone(), vec![0]].concat(),
        "trailing",
    ));
    let mut dup = good_raw.clone();
    let first = dup.inputs[0][0].clone();
    dup.inputs[0].push(first);
    cases.push(("duplicate key", dup.serialize(), "duplicate key"));
    let mut huge = good_raw.clone();
    // An output amount over 21 million BTC (in the unsigned tx of a v0 PSBT).
    let (g, ins, mut outs) = huge.to_v2_maps().unwrap();
    raw::set(
        &mut outs[0],
        vec![raw::output::AMOUNT],
        u64::MAX.to_le_bytes().to_vec(),
    );
    huge = RawPsbt {
        version: 2,
        global: g,
        inputs: ins,
        outputs: outs,
    };
    cases.push(("amount overflow", huge.serialize(), "psbt"));
    cases.push(("not base64", b"cHNidP8B!!!".to_vec(), "base64"));
    for (name, bytes, why) in cases {
        let e = raw::decode(&bytes)
            .and_then(|p| p.to_bitcoin().map(|_| p))
            .err();
        let e = e.unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!(e.code(), "invalid-input", "{name}: {e}");
        assert!(e.to_string().starts_with("invalid psbt"), "{name}: {e}");
        assert!(e.to_string().to_lowercase().contains(why), "{name}: {e}");
    }
}

#[test]
fn psbts_the_device_cannot_sign_fail_before_any_signature() {
    // Inputs that are not ours: a PSBT without our fingerprint's derivations.
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let t: Box<dyn Transport> = Box::new(apdu_transport(sim.clone()));
    let mut dev = Device::ledger(t);
    let mut p = RawPsbt::parse(&sample()).unwrap().to_bitcoin().unwrap();
    for input in &mut p.inputs {
        input.bip32_derivation.clear();
    }
    let not_ours = RawPsbt::parse(&p.serialize()).unwrap();
    let e = block_on(dev.sign_psbt(&not_ours, &SignOptions::default())).unwrap_err();
    assert_eq!(e.code(), "invalid-input");
    assert!(
        e.to_string()
            .contains("no input has a bip32 derivation with the device's fingerprint"),
        "{e}"
    );
    // Missing utxo: nothing to compute a sighash from.
    let mut p = RawPsbt::parse(&sample()).unwrap().to_bitcoin().unwrap();
    p.inputs[1].witness_utxo = None;
    p.inputs[1].non_witness_utxo = None;
    let missing = RawPsbt::parse(&p.serialize()).unwrap();
    let before = sim.borrow().exchanges();
    let e = block_on(dev.sign_psbt(&missing, &SignOptions::default())).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    assert!(e.to_string().starts_with("invalid input 1:"), "{e}");
    assert_eq!(sim.borrow().exchanges(), before, "nothing was sent");
}

#[test]
fn bad_paths_and_policies_say_what_is_wrong() {
    for (text, why) in [
        ("m/84'/0'/x", "step 3"),
        ("", ""),
        ("m/84/0'/0'", "must be hardened"),
    ] {
        match hwsigner::protocol::path::parse(text) {
            Ok(p) => assert!(text.is_empty() && p.is_empty()),
            Err(e) => {
                assert_eq!(e.code(), "invalid-input");
                assert!(e.to_string().contains(why), "{text}: {e}");
            }
        }
    }
    use hwsigner::protocol::policy::descriptor::policy_from_descriptor;
    use hwsigner::protocol::policy::WalletPolicy;
    let e = policy_from_descriptor("wsh(multi(2,@0/**))", "").unwrap_err();
    assert_eq!(e.to_string().split(':').next(), Some("invalid descriptor"));
    let e = WalletPolicy::new("", "wpkh(@1/**)", vec!["[f5acc2fd]tpubX".into()])
        .unwrap()
        .descriptor()
        .unwrap_err();
    assert!(e.to_string().contains("@1 has no key"), "{e}");
}

/// The sample PSBT as a `bitcoin::Psbt`, to bend.
fn sample_view() -> bitcoin::psbt::Psbt {
    RawPsbt::parse(&sample()).unwrap().to_bitcoin().unwrap()
}

fn refused(p: &bitcoin::psbt::Psbt) -> hwsigner::Error {
    let e = raw::decode(&p.serialize()).expect_err("accepted");
    assert_eq!(e.code(), "invalid-input", "{e}");
    e
}

#[test]
fn amounts_beyond_every_coin_there_is_and_spent_twice_outpoints_are_refused() {
    use bitcoin::Amount;
    // The same outpoint spent by two inputs: the coin would be counted twice.
    let mut p = sample_view();
    p.unsigned_tx.input[1].previous_output = p.unsigned_tx.input[0].previous_output;
    p.inputs[1] = p.inputs[0].clone();
    let e = refused(&p);
    assert!(
        e.to_string().starts_with("invalid input 1:") && e.to_string().contains("input 0"),
        "{e}"
    );
    // An output of a previous transaction over 21 million bitcoin.
    let mut p = sample_view();
    let prev = p.inputs[0].non_witness_utxo.as_mut().unwrap();
    prev.output[0].value = Amount::from_sat(Amount::MAX_MONEY.to_sat() + 1);
    let e = refused(&p);
    assert!(e.to_string().contains("previous transaction"), "{e}");
    // Two previous outputs that each fit, but not together.
    let mut p = sample_view();
    let prev = p.inputs[0].non_witness_utxo.as_mut().unwrap();
    let big = Amount::from_sat(Amount::MAX_MONEY.to_sat() / 2 + 1);
    prev.output[0].value = big;
    prev.output.push(prev.output[0].clone());
    let e = refused(&p);
    assert!(e.to_string().contains("add up"), "{e}");
    // Inputs whose amounts each fit but add up to more than every coin there is.
    let mut p = sample_view();
    for input in &mut p.inputs {
        input.non_witness_utxo = None;
        input.witness_utxo.as_mut().unwrap().value = big;
    }
    let e = refused(&p);
    assert!(e.to_string().contains("the inputs"), "{e}");
}

#[test]
fn a_summary_of_thousands_of_inputs_never_overflows() {
    // 9 000 inputs of 21 million bitcoin each: more than a u64 of satoshi.
    use bitcoin::hashes::Hash;
    use bitcoin::{Amount, OutPoint, Txid};
    let mut p = sample_view();
    let txin = p.unsigned_tx.input[0].clone();
    let mut input = p.inputs[0].clone();
    input.non_witness_utxo = None;
    input.witness_utxo.as_mut().unwrap().value = Amount::MAX_MONEY;
    p.unsigned_tx.input.clear();
    p.inputs.clear();
    for i in 0..9_000u32 {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&i.to_le_bytes());
        let mut t = txin.clone();
        t.previous_output = OutPoint {
            txid: Txid::from_byte_array(id),
            vout: 0,
        };
        p.unsigned_tx.input.push(t);
        p.inputs.push(input.clone());
    }
    // Refused as over every coin there is, or summarized without a fee: never a panic.
    match raw::decode(&p.serialize())
        .and_then(|r| hwsigner::protocol::psbt::summary::summarize(&r, None))
    {
        Ok(s) => assert_eq!(s.fee, None),
        Err(e) => {
            assert_eq!(e.code(), "invalid-input", "{e}");
            assert!(e.to_string().contains("the inputs"), "{e}");
        }
    }
}
