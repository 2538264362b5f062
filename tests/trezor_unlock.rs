//! PIN and passphrase through the caller's callbacks, against a protected simulator.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::driver::trezor::Status;
use hwsigner::driver::trezor::Trezor;
use hwsigner::protocol::trezor::call::{Interaction, Passphrase};
use hwsigner::sim::seed::TREZOR_TEST_MNEMONIC;
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::Error;
use trezor_support::*;

fn protected() -> TrezorSim {
    TrezorSim::with_test_seed().unwrap().with_pin("1234")
}

#[test]
fn pin_through_the_callback() {
    // No callback: a clear error, no hang.
    let mut t = Trezor::new(protected().into_transport());
    assert!(block_on(t.init()).unwrap().locked);
    let e = block_on(t.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(e.to_string().contains("pin"), "{e}");

    // A wrong PIN.
    let mut t = Trezor::new(protected().into_transport());
    t.set_interaction(Interaction::none().with_pin(|_| Ok("4321".into())));
    let e = block_on(t.master_fingerprint()).unwrap_err();
    assert!(matches!(e, Error::Device { code: 7, .. }), "{e}");

    // The right one, asked once.
    let asked = Rc::new(RefCell::new(0));
    let count = asked.clone();
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let log = statuses.clone();
    let mut t = Trezor::new(protected().into_transport());
    t.on_status(move |s| log.borrow_mut().push(s));
    t.set_interaction(Interaction::none().with_pin(move |kind| {
        assert_eq!(kind, 1, "the current pin");
        *count.borrow_mut() += 1;
        Ok("1234".into())
    }));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    assert_eq!(
        block_on(t.address(&path("m/84'/0'/0'/0/0"), false)).unwrap(),
        "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk"
    );
    assert_eq!(*asked.borrow(), 1);
    assert!(statuses.borrow().contains(&Status::EnterPin));
    assert!(!block_on(t.info()).unwrap().locked);
}

#[test]
fn passphrase_through_the_callback_once_per_session() {
    let sim = TrezorSim::with_test_seed()
        .unwrap()
        .with_passphrase(TREZOR_TEST_MNEMONIC);
    let mut t = Trezor::new(sim.into_transport());
    let asked = Rc::new(RefCell::new(0));
    let count = asked.clone();
    t.set_interaction(Interaction::none().with_passphrase(move || {
        *count.borrow_mut() += 1;
        Ok(Passphrase::Text("TREZOR".into()))
    }));
    let expected = known::TREZOR_FPR_PASSPHRASE_TREZOR;
    assert_eq!(
        block_on(t.master_fingerprint()).unwrap().to_string(),
        expected
    );
    // The session is resumed: no second question.
    block_on(t.init()).unwrap();
    assert_eq!(
        block_on(t.master_fingerprint()).unwrap().to_string(),
        expected
    );
    assert_eq!(*asked.borrow(), 1);
    // Signing in the passphrase wallet is refused by the host: the PSBT's keys are the
    // standard wallet's, so no input is this wallet's.
    let case = cases(SIGN_TX).into_iter().next().unwrap();
    let (raw, _) = psbt_of(&case);
    let e = block_on(t.sign_psbt(&raw, &Default::default())).unwrap_err();
    assert_eq!(e.code(), "unsupported");

    // On-device entry (the simulator types the empty passphrase).
    let sim = TrezorSim::with_test_seed()
        .unwrap()
        .with_passphrase(TREZOR_TEST_MNEMONIC);
    let mut t = Trezor::new(sim.into_transport());
    t.set_interaction(Interaction::none().with_passphrase(|| Ok(Passphrase::OnDevice)));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);

    // No callback.
    let sim = TrezorSim::with_test_seed()
        .unwrap()
        .with_passphrase(TREZOR_TEST_MNEMONIC);
    let mut t = Trezor::new(sim.into_transport());
    assert_eq!(
        block_on(t.master_fingerprint()).unwrap_err().code(),
        "unsupported"
    );
}
