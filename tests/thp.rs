//! hwsigner's THP host against the simulated Trezor Safe 7, in memory: it is found by
//! its codec v1 refusal, pairs with the code the screen shows, reconnects with the
//! stored credential without pairing again, and signs the Trezor vectors' transactions
//! byte for byte inside the encrypted channel.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::credentials::MemoryCredentials;
use hwsigner::driver::trezor::Trezor;
use hwsigner::driver::PromptFns;
use hwsigner::protocol::machine::{Passphrase, Status};
use hwsigner::sim::trezor::{Safe7Sim, Safe7Transport, TrezorSim};
use trezor_support::*;

/// A host for `sim` whose pairing-code handler reads the simulated screen, keeping
/// credentials in `store`; it counts the codes asked.
fn host(
    sim: &Rc<RefCell<Safe7Sim>>,
    store: &MemoryCredentials,
    asked: &Rc<RefCell<usize>>,
) -> Trezor<Safe7Transport> {
    let mut t = Trezor::new(Safe7Sim::shared_transport(sim.clone()));
    t.set_credential_store(Box::new(store.clone()));
    let screen = sim.clone();
    let count = asked.clone();
    t.set_prompts(Box::new(PromptFns::none().with_pairing_code(move || {
        *count.borrow_mut() += 1;
        Ok(screen
            .borrow()
            .pairing_code()
            .expect("a code on the screen"))
    })));
    t
}

fn safe7() -> Rc<RefCell<Safe7Sim>> {
    Rc::new(RefCell::new(Safe7Sim::with_test_seed().unwrap()))
}

#[test]
fn pairs_then_reconnects_with_the_credential_then_signs_the_vectors() {
    let sim = safe7();
    let store = MemoryCredentials::new();
    let asked = Rc::new(RefCell::new(0));
    let mut t = host(&sim, &store, &asked);
    let events = Rc::new(RefCell::new(Vec::new()));
    let seen = events.clone();
    t.on_status(move |s| seen.borrow_mut().push(s));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    assert!(t.is_thp(), "found by its codec v1 refusal");
    assert!(t.paired_now());
    assert_eq!(*asked.borrow(), 1);
    assert!(events.borrow().contains(&Status::EnterPairingCode));
    assert!(
        events.borrow().contains(&Status::ConfirmOnDevice),
        "pairing is allowed on the device"
    );
    let creds = store.credentials();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].trezor_static, sim.borrow().static_public_key());
    assert_eq!(
        sim.borrow().pairing_code(),
        None,
        "the code is gone from the screen"
    );
    let info = block_on(t.info()).unwrap();
    assert_eq!(info.model, "Safe 7");
    assert_eq!(info.internal_model.as_deref(), Some("T3W1"));

    // A new connection (a new simulator instance: the device restarted) with the
    // stored credential: no pairing.
    let sim2 = safe7();
    sim2.borrow_mut().power_off();
    let mut t2 = host(&sim2, &store, &asked);
    assert_eq!(block_on(t2.master_fingerprint()).unwrap().to_string(), FPR);
    assert!(!t2.paired_now(), "reconnected with the credential");
    assert_eq!(*asked.borrow(), 1, "no second code");

    // The 18 SignTx vectors, inside THP, byte for byte.
    let mut failures = Vec::new();
    for case in cases(SIGN_TX) {
        let name = case["name"].as_str().unwrap().to_string();
        let (raw, _) = psbt_of(&case);
        let options = SignOptions {
            network: Some(coin(&case).network()),
            ..Default::default()
        };
        match block_on(t2.sign_psbt(&raw, &options)) {
            Ok(signed) => {
                let got = to_hex(&signed.serialized_transaction().unwrap());
                if got != case["expected_serialized_tx"].as_str().unwrap() {
                    failures.push(format!("{name}: serialized tx differs"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(*asked.borrow(), 1);
}

#[test]
fn a_wrong_code_is_refused_and_nothing_is_stored() {
    let sim = safe7();
    let store = MemoryCredentials::new();
    let mut t = Trezor::new_thp(Safe7Sim::shared_transport(sim.clone()));
    t.set_credential_store(Box::new(store.clone()));
    let screen = sim.clone();
    t.set_prompts(Box::new(PromptFns::none().with_pairing_code(move || {
        let shown: u32 = screen.borrow().pairing_code().unwrap().parse().unwrap();
        Ok(format!("{:06}", (shown + 1) % 1_000_000))
    })));
    let e = block_on(t.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    assert!(e.to_string().contains("pairing code"), "{e}");
    assert!(store.credentials().is_empty());
    // Malformed codes never reach the device.
    t.set_prompts(Box::new(
        PromptFns::none().with_pairing_code(|| Ok("12a456".into())),
    ));
    let e = block_on(t.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "invalid-input");
    // Without a handler: the error names the one to set.
    t.set_prompts(Box::new(PromptFns::none()));
    let e = block_on(t.master_fingerprint()).unwrap_err();
    assert!(e.to_string().contains("onPairingCode"), "{e}");
    // And the right code pairs on the next try.
    let screen = sim.clone();
    t.set_prompts(Box::new(PromptFns::none().with_pairing_code(move || {
        Ok(screen.borrow().pairing_code().unwrap())
    })));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    assert_eq!(store.credentials().len(), 1);
}

#[test]
fn a_passphrase_opens_its_own_wallet_session() {
    let inner = TrezorSim::with_test_seed()
        .unwrap()
        .with_passphrase(hwsigner::sim::seed::TREZOR_TEST_MNEMONIC)
        .with_device_passphrase("TREZOR");
    let sim = Rc::new(RefCell::new(Safe7Sim::new(inner)));
    let store = MemoryCredentials::new();
    let asked = Rc::new(RefCell::new(0));
    let mut t = host(&sim, &store, &asked);
    let screen = sim.clone();
    let passphrases = Rc::new(RefCell::new(Vec::new()));
    let seen = passphrases.clone();
    t.set_prompts(Box::new(
        PromptFns::none()
            .with_pairing_code(move || Ok(screen.borrow().pairing_code().unwrap()))
            .with_passphrase(move |on_device| {
                seen.borrow_mut().push(on_device);
                Ok(Passphrase::Text("TREZOR".into()))
            }),
    ));
    let with_passphrase = block_on(t.master_fingerprint()).unwrap();
    assert_ne!(with_passphrase.to_string(), FPR, "another wallet");
    assert_eq!(
        *passphrases.borrow(),
        vec![true],
        "asked once, on-device offered"
    );
    // The same session: not asked again.
    block_on(t.address(&path("m/84h/0h/0h/0/0"), false)).unwrap();
    assert_eq!(passphrases.borrow().len(), 1);
    // Typed on the device: the same wallet ("TREZOR" is what the simulated user types).
    let mut t2 = host(&sim, &store, &asked);
    t2.set_prompts(Box::new(
        PromptFns::none().with_passphrase(|_| Ok(Passphrase::OnDevice)),
    ));
    assert_eq!(block_on(t2.master_fingerprint()).unwrap(), with_passphrase);
}
