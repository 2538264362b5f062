//! PIN and passphrase: the simulated Trezor One (PIN on the host's scrambled matrix) and
//! Model T (PIN and passphrase on the device), through the driver's prompts.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::{Device, Passphrase, PinKind, Status};
use hwsigner::driver::PromptFns;
use hwsigner::sim::seed::TREZOR_TEST_MNEMONIC;
use hwsigner::sim::trezor::{pin_positions, Model, TrezorSim};
use trezor_support::*;

/// The "all" x 12 seed's master fingerprint with the passphrase "TREZOR" (computed
/// outside this crate, `tests/common/known.rs`).
const FPR_TREZOR_PASSPHRASE: &str = known::TREZOR_FPR_PASSPHRASE_TREZOR;

type Shared = Rc<RefCell<TrezorSim>>;

fn one(pin: &str) -> Shared {
    Rc::new(RefCell::new(
        TrezorSim::with_test_seed()
            .unwrap()
            .with_model(Model::One)
            .with_matrix_seed(7)
            .with_pin(pin)
            .with_passphrase(TREZOR_TEST_MNEMONIC),
    ))
}

fn device(sim: &Shared) -> Device {
    Device::trezor(Box::new(TrezorSim::shared_transport(sim.clone())))
}

/// Prompts that read the matrix off the simulated screen and enter `pin` (counting the
/// questions), and give `passphrase`.
fn user(
    sim: &Shared,
    pin: &'static str,
    passphrase: &'static str,
    asked: Rc<RefCell<Vec<String>>>,
) -> PromptFns {
    let screen = sim.clone();
    let log = asked.clone();
    PromptFns::none()
        .with_pin(move |kind| {
            log.borrow_mut().push(format!("pin {}", kind.name()));
            let matrix = screen
                .borrow()
                .pin_matrix()
                .expect("the device shows a matrix");
            Ok(pin_positions(pin, &matrix).unwrap())
        })
        .with_passphrase(move |on_device| {
            asked
                .borrow_mut()
                .push(format!("passphrase (on device: {on_device})"));
            Ok(Passphrase::Text(passphrase.into()))
        })
}

#[test]
fn a_power_cycled_trezor_one_unlocks_with_matrix_positions_and_a_passphrase() {
    let sim = one("1234");
    let asked = Rc::new(RefCell::new(Vec::new()));
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let mut dev = device(&sim);
    let log = statuses.clone();
    dev.on_status(move |s| log.borrow_mut().push(s));
    dev.set_prompts(Box::new(user(&sim, "1234", "TREZOR", asked.clone())));
    let info = block_on(dev.info()).unwrap();
    assert_eq!(
        (info.model.as_str(), info.version.as_str()),
        ("1", "1.14.1")
    );
    assert_eq!(
        block_on(dev.master_fingerprint()).unwrap().to_string(),
        FPR_TREZOR_PASSPHRASE
    );
    assert_eq!(
        *asked.borrow(),
        ["pin current", "passphrase (on device: false)"],
        "the pin, then the passphrase (a trezor one cannot take it on the device)"
    );
    assert!(statuses.borrow().contains(&Status::EnterPin));
    assert!(statuses.borrow().contains(&Status::EnterPassphrase));
    // The matrix is gone once answered; the same connection asks nothing again.
    assert_eq!(sim.borrow().pin_matrix(), None);
    block_on(dev.xpub(&path("m/84'/0'/0'"), false)).unwrap();
    assert_eq!(asked.borrow().len(), 2);

    // Power off: both are asked again.
    sim.borrow_mut().power_off();
    let mut dev = device(&sim);
    dev.set_prompts(Box::new(user(&sim, "1234", "", asked.clone())));
    assert_eq!(block_on(dev.master_fingerprint()).unwrap().to_string(), FPR);
    assert_eq!(asked.borrow().len(), 4);
}

#[test]
fn a_wrong_pin_is_typed_never_retried_and_the_next_right_one_works() {
    let sim = one("1234");
    let asked = Rc::new(RefCell::new(Vec::new()));
    let mut dev = device(&sim);
    dev.set_prompts(Box::new(user(&sim, "4321", "", asked.clone())));
    let e = block_on(dev.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "wrong-pin", "{e}");
    assert_eq!(
        asked.borrow().len(),
        1,
        "asked once, never retried behind the user's back"
    );
    assert_eq!(sim.borrow().pin_failures(), 1);
    assert_eq!(
        sim.borrow_mut().take_delay_ms(),
        0,
        "the first attempt has no delay"
    );

    dev.set_prompts(Box::new(user(&sim, "1234", "", asked.clone())));
    assert_eq!(block_on(dev.master_fingerprint()).unwrap().to_string(), FPR);
    assert_eq!(sim.borrow().pin_failures(), 0);
    assert_eq!(
        sim.borrow_mut().take_delay_ms(),
        1000,
        "after one wrong pin the firmware waits 1 s before checking the next"
    );
}

#[test]
fn without_handlers_a_locked_device_says_which_to_set() {
    let sim = one("1234");
    let mut dev = device(&sim);
    let e = block_on(dev.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "device-locked");
    assert!(e.to_string().contains("onPin"), "{e}");
    // The device was taken off its pin screen: a later call with a handler works.
    assert_eq!(sim.borrow().pin_matrix(), None);
    let asked = Rc::new(RefCell::new(Vec::new()));
    dev.set_prompts(Box::new(PromptFns::none().with_pin({
        let sim = sim.clone();
        let asked = asked.clone();
        move |_| {
            asked.borrow_mut().push(());
            Ok(pin_positions("1234", &sim.borrow().pin_matrix().unwrap()).unwrap())
        }
    })));
    let e = block_on(dev.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "device-locked");
    assert!(e.to_string().contains("onPassphrase"), "{e}");
    assert_eq!(asked.borrow().len(), 1);
}

#[test]
fn the_passphrase_is_asked_once_per_session_and_forgotten_on_close_and_lock() {
    let sim = one("1234");
    let asked = Rc::new(RefCell::new(Vec::new()));
    let mut dev = device(&sim);
    dev.set_prompts(Box::new(user(&sim, "1234", "TREZOR", asked.clone())));
    let fpr = block_on(dev.master_fingerprint()).unwrap().to_string();
    assert_eq!(fpr, FPR_TREZOR_PASSPHRASE);
    // The session is resumed by the next calls of this connection.
    block_on(dev.master_fingerprint()).unwrap();
    block_on(dev.as_trezor().unwrap().init()).unwrap();
    block_on(dev.master_fingerprint()).unwrap();
    assert_eq!(asked.borrow().len(), 2);
    // Signing in the passphrase wallet is refused by the host: the PSBT's keys are the
    // standard wallet's, so no input is this wallet's.
    let case = cases(SIGN_TX).into_iter().next().unwrap();
    let (raw, _) = psbt_of(&case);
    let e = block_on(dev.sign_psbt(&raw, &Default::default())).unwrap_err();
    assert_eq!(e.code(), "unsupported", "{e}");
    // Closing ends the session: the next connection asks for the passphrase again,
    // but not for the pin (the device stays unlocked until it is locked or unplugged).
    block_on(dev.close()).unwrap();
    let mut dev = device(&sim);
    dev.set_prompts(Box::new(user(&sim, "1234", "", asked.clone())));
    assert_eq!(block_on(dev.master_fingerprint()).unwrap().to_string(), FPR);
    assert_eq!(asked.borrow()[2..], ["passphrase (on device: false)"]);
    // An explicit lock: both again.
    block_on(dev.lock()).unwrap();
    block_on(dev.master_fingerprint()).unwrap();
    assert_eq!(
        asked.borrow()[3..],
        ["pin current", "passphrase (on device: false)"]
    );
}

#[test]
fn a_model_t_takes_the_pin_and_the_passphrase_on_the_device() {
    let sim: Shared = Rc::new(RefCell::new(
        TrezorSim::with_test_seed()
            .unwrap()
            .with_pin("1234")
            .with_passphrase(TREZOR_TEST_MNEMONIC)
            .with_device_passphrase("TREZOR"),
    ));
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let offered = Rc::new(RefCell::new(Vec::new()));
    let mut dev = device(&sim);
    let log = statuses.clone();
    dev.on_status(move |s| log.borrow_mut().push(s));
    let seen = offered.clone();
    // No pin handler: the pin is entered on the device.
    dev.set_prompts(Box::new(PromptFns::none().with_passphrase(
        move |on_device| {
            seen.borrow_mut().push(on_device);
            Ok(Passphrase::OnDevice)
        },
    )));
    assert_eq!(
        block_on(dev.master_fingerprint()).unwrap().to_string(),
        FPR_TREZOR_PASSPHRASE
    );
    assert_eq!(*offered.borrow(), [true], "the t offers on-device entry");
    let s = statuses.borrow();
    let at = |status: &Status| s.iter().position(|x| x == status).unwrap();
    assert!(at(&Status::EnterPinOnDevice) < at(&Status::EnterPassphrase));
    assert!(at(&Status::EnterPassphrase) < at(&Status::EnterPassphraseOnDevice));
    assert!(!s.contains(&Status::EnterPin), "no host pin prompt on a t");
}

#[test]
fn a_trezor_one_refuses_on_device_passphrase_entry_before_asking_the_device() {
    let sim = one("1234");
    let mut dev = device(&sim);
    dev.set_prompts(Box::new(
        PromptFns::none()
            .with_pin({
                let sim = sim.clone();
                move |kind| {
                    assert_eq!(kind, PinKind::Current);
                    Ok(pin_positions("1234", &sim.borrow().pin_matrix().unwrap()).unwrap())
                }
            })
            .with_passphrase(|_| Ok(Passphrase::OnDevice)),
    ));
    let e = block_on(dev.master_fingerprint()).unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(e.to_string().contains("on the host"), "{e}");
}
