//! The simulated Ledger asks what the Bitcoin app asks (LedgerHQ/app-bitcoin-new,
//! sign_psbt): the external outputs and the fee, change that the policy accounts for
//! hidden, an output with the device's derivation that the policy does not account for
//! shown like any payment, and the app's warnings (external inputs, unverified inputs,
//! non-default sighash, high fee).
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use bitcoin::psbt::Psbt;
use futures::executor::block_on;
use hwsigner::device::{Device, SignOptions};
use hwsigner::protocol::psbt::raw;
use hwsigner::sim::confirm::{Confirm, Prompt};
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::sample;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};

/// Signs `psbt` on a simulated Ledger that approves, and returns what it asked.
fn asked(psbt: &Psbt) -> (String, Result<(), hwsigner::Error>) {
    let prompts = Rc::new(RefCell::new(Vec::new()));
    let seen = prompts.clone();
    let sim = SimLedger::new(SimLedgerOptions {
        confirm: Confirm::Ask(Rc::new(move |p: &Prompt| {
            seen.borrow_mut().push(p.clone());
            true
        })),
        ..SimLedgerOptions::default()
    });
    let mut dev = Device::ledger(Box::new(apdu_transport(Rc::new(RefCell::new(sim)))));
    let raw = raw::decode(&psbt.serialize()).unwrap();
    let r = block_on(dev.sign_psbt(&raw, &SignOptions::default())).map(drop);
    let text = prompts
        .borrow()
        .iter()
        .find_map(|p| match p {
            Prompt::SignTransaction(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default();
    (text, r)
}

fn sample_psbt(n: usize) -> Psbt {
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let policy = sample::wpkh_policy(&seed, true).unwrap();
    sample::funded_psbt(&policy, n).unwrap()
}

#[test]
fn the_sample_shows_the_payment_and_the_fee_not_the_change() {
    let (text, r) = asked(&sample_psbt(3));
    r.unwrap();
    assert_eq!(
        text,
        "0.00129003 BTC to tb1q4280xax2lt0u5a5s9hd4easuvzalm8v9ege9ge, fee 0.00001000 BTC"
    );
}

#[test]
fn change_the_policy_does_not_account_for_is_shown_as_a_payment() {
    // A foreign script under the change output's derivation: shown, with its amount.
    let mut p = sample_psbt(2);
    p.unsigned_tx.output[1].script_pubkey = p.unsigned_tx.output[0].script_pubkey.clone();
    let (text, r) = asked(&p);
    r.unwrap();
    assert_eq!(
        text,
        "0.00079001 BTC to tb1q4280xax2lt0u5a5s9hd4easuvzalm8v9ege9ge, \
         0.00020000 BTC to tb1q4280xax2lt0u5a5s9hd4easuvzalm8v9ege9ge, fee 0.00001000 BTC"
    );
}

#[test]
fn the_apps_warnings_come_first() {
    // A segwit v0 input without its previous transaction.
    let mut p = sample_psbt(2);
    p.inputs[1].non_witness_utxo = None;
    let (text, r) = asked(&p);
    r.unwrap();
    assert!(text.starts_with("warning: unverified inputs, "), "{text}");
    // A non-default sighash, allowed by the caller.
    let mut p = sample_psbt(2);
    p.inputs[0].sighash_type = Some(bitcoin::EcdsaSighashType::Single.into());
    let prompts = Rc::new(RefCell::new(String::new()));
    let seen = prompts.clone();
    let sim = SimLedger::new(SimLedgerOptions {
        confirm: Confirm::Ask(Rc::new(move |p: &Prompt| {
            if let Prompt::SignTransaction(s) = p {
                *seen.borrow_mut() = s.clone();
            }
            true
        })),
        ..SimLedgerOptions::default()
    });
    let mut dev = Device::ledger(Box::new(apdu_transport(Rc::new(RefCell::new(sim)))));
    let raw = raw::decode(&p.serialize()).unwrap();
    block_on(dev.sign_psbt(
        &raw,
        &SignOptions {
            allow_non_default_sighash: true,
            ..Default::default()
        },
    ))
    .unwrap();
    assert!(
        prompts
            .borrow()
            .starts_with("warning: non-default sighash, "),
        "{}",
        prompts.borrow()
    );
    // A fee of over a tenth of more than 100 000 sat.
    let mut p = sample_psbt(3);
    p.unsigned_tx.output[0].value = bitcoin::Amount::from_sat(50_000);
    let (text, r) = asked(&p);
    r.unwrap();
    assert!(
        text.ends_with("warning: high fee, fee 0.00080003 BTC"),
        "{text}"
    );
}
