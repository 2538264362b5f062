//! Sighash types: a PSBT asking for NONE, SINGLE or ANYONECANPAY is named in the
//! summary and refused before anything reaches the device unless the caller opts in;
//! a Trezor, whose firmware signs only ALL / DEFAULT, refuses it up front.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use bitcoin::psbt::{Psbt, PsbtSighashType};
use bitcoin::EcdsaSighashType;
use futures::executor::block_on;
use hwsigner::device::{Device, SignOptions};
use hwsigner::protocol::psbt::raw::{self, RawPsbt};
use hwsigner::protocol::psbt::signature::InputSignature;
use hwsigner::protocol::psbt::summary::summarize;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::sample;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::Transport;

fn psbt_of(mnemonic: &str, script: &str) -> Psbt {
    let seed = Seed::from_mnemonic(mnemonic, "").unwrap();
    let policy = sample::standard_policy(&seed, script, true).unwrap();
    sample::funded_psbt(&policy, 2).unwrap()
}

fn with_sighash(mut p: Psbt, input: usize, t: EcdsaSighashType) -> RawPsbt {
    p.inputs[input].sighash_type = Some(PsbtSighashType::from(t));
    raw::decode(&p.serialize()).unwrap()
}

#[test]
fn the_summary_names_every_inputs_sighash() {
    let raw = with_sighash(
        psbt_of(SPECULOS_MNEMONIC, "wpkh"),
        1,
        EcdsaSighashType::NonePlusAnyoneCanPay,
    );
    let s = summarize(&raw, None).unwrap();
    assert_eq!(s.inputs[0].sighash, "ALL");
    assert_eq!(s.inputs[1].sighash, "NONE|ANYONECANPAY");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.starts_with("input 1: it asks for sighash NONE|ANYONECANPAY")),
        "{:?}",
        s.warnings
    );
    let tr = raw::decode(&psbt_of(SPECULOS_MNEMONIC, "tr").serialize()).unwrap();
    let s = summarize(&tr, None).unwrap();
    assert!(s.inputs.iter().all(|i| i.sighash == "DEFAULT"), "{s:?}");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_ledger_signs_a_non_default_sighash_only_when_the_caller_allows_it() {
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let t: Box<dyn Transport> = Box::new(apdu_transport(sim.clone()));
    let mut dev = Device::ledger(t);
    for t in [
        EcdsaSighashType::None,
        EcdsaSighashType::Single,
        EcdsaSighashType::AllPlusAnyoneCanPay,
    ] {
        let raw = with_sighash(psbt_of(SPECULOS_MNEMONIC, "wpkh"), 0, t);
        let before = sim.borrow().exchanges();
        let e = block_on(dev.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
        assert_eq!(e.code(), "invalid-input", "{t}: {e}");
        assert!(e.to_string().starts_with("invalid input 0:"), "{e}");
        assert_eq!(sim.borrow().exchanges(), before, "{t}: nothing was sent");
        // Opted in: signed as asked, and the signature checked for that sighash.
        let signed = block_on(dev.sign_psbt(
            &raw,
            &SignOptions {
                allow_non_default_sighash: true,
                ..Default::default()
            },
        ))
        .unwrap();
        let sig = signed
            .signatures
            .iter()
            .find(|(i, _)| *i == 0)
            .map(|(_, s)| s.clone());
        match sig {
            Some(InputSignature::Ecdsa { sig, .. }) => assert_eq!(sig.sighash_type, t),
            other => panic!("{t}: {other:?}"),
        }
    }
}

#[test]
fn a_trezor_refuses_non_default_sighash_up_front() {
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let sim = Rc::new(RefCell::new(TrezorSim::new(
        seed,
        Confirm::Approve,
        Faults::none(),
    )));
    let mut dev = Device::trezor(Box::new(TrezorSim::shared_transport(sim)));
    let raw = with_sighash(
        psbt_of(TREZOR_TEST_MNEMONIC, "wpkh"),
        1,
        EcdsaSighashType::Single,
    );
    let e = block_on(dev.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    let e = block_on(dev.sign_psbt(
        &raw,
        &SignOptions {
            allow_non_default_sighash: true,
            ..Default::default()
        },
    ))
    .unwrap_err();
    assert_eq!(e.code(), "unsupported", "{e}");
    assert!(
        e.to_string().contains("input 1 asks for sighash SINGLE")
            && e.to_string()
                .contains("trezor firmware signs only sighash all"),
        "{e}"
    );
    // ALL is signed as ever.
    let all = with_sighash(
        psbt_of(TREZOR_TEST_MNEMONIC, "wpkh"),
        1,
        EcdsaSighashType::All,
    );
    block_on(dev.sign_psbt(&all, &SignOptions::default())).unwrap();
}
