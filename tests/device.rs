//! One API for both vendors: the same calls on the simulated Ledger and Trezor.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::known;
use futures::executor::block_on;
use hwsigner::device::{AddressRequest, AddressSource, Device, SignOptions, Status, Vendor};
use hwsigner::protocol::path;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::hid_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::Transport;

/// The known values (`common::known`) of a simulated device's seed.
struct Known {
    fingerprint: &'static str,
    /// The tpub at m/84'/1'/0'.
    account: &'static str,
    /// The wpkh receive address 4 of that account.
    address_4: &'static str,
    /// The BIP-137 signature of "hello" by m/84'/1'/0'/0/0.
    hello: &'static str,
}

fn simulated(vendor: Vendor) -> (Device, Known) {
    match vendor {
        Vendor::Ledger => {
            let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
            let t: Box<dyn Transport> = Box::new(hid_transport(sim));
            (
                Device::open(t).unwrap(),
                Known {
                    fingerprint: known::SPECULOS_FPR,
                    account: known::SPECULOS_84_1_0,
                    address_4: known::SPECULOS_WPKH_0_4,
                    hello: known::SPECULOS_HELLO_84_1_0_0_0,
                },
            )
        }
        Vendor::Trezor => {
            let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
            let t: Box<dyn Transport> =
                Box::new(TrezorSim::new(seed, Confirm::Approve, Faults::none()).into_transport());
            (
                Device::trezor(t),
                Known {
                    fingerprint: known::TREZOR_FPR,
                    account: known::TREZOR_84_1_0,
                    address_4: known::TREZOR_WPKH_0_4,
                    hello: known::TREZOR_HELLO_84_1_0_0_0,
                },
            )
        }
        other => unreachable!("no simulated {other:?}"),
    }
}

#[test]
fn the_same_calls_work_on_both_vendors() {
    for vendor in [Vendor::Ledger, Vendor::Trezor] {
        let (mut dev, known) = simulated(vendor);
        assert_eq!(dev.vendor(), vendor);
        let events = Rc::new(RefCell::new(Vec::new()));
        let ev = events.clone();
        dev.on_status(move |s| ev.borrow_mut().push(s));
        let info = block_on(dev.info()).unwrap();
        assert_eq!(info.vendor, vendor);
        assert_eq!(
            block_on(dev.master_fingerprint()).unwrap().to_string(),
            known.fingerprint
        );
        let account = path::parse("m/84'/1'/0'").unwrap();
        let xpub = block_on(dev.xpub(&account, false)).unwrap();
        assert_eq!(xpub.to_string(), known.account);

        let key = format!("[{}/84'/1'/0']{}", known.fingerprint, known.account);
        let descriptor = format!("wpkh({key}/0/*)");
        let request = AddressRequest {
            source: AddressSource::Descriptor(descriptor),
            change: false,
            index: 4,
            display: true,
            allow_unverified: false,
        };
        assert_eq!(
            block_on(dev.address(&request)).unwrap(),
            known.address_4,
            "{vendor:?}"
        );

        let policy = WalletPolicy::new("", "wpkh(@0/**)", vec![key]).unwrap();
        let psbt = RawPsbt::parse(&common::fund::funded_psbt(&policy, 2).serialize()).unwrap();
        let signed = block_on(dev.sign_psbt(
            &psbt,
            &SignOptions {
                policy: None,
                finalize: true,
                ..Default::default()
            },
        ))
        .unwrap();
        assert_eq!(signed.signatures.len(), 2, "{vendor:?}");
        let tx = signed.transaction.expect("finalized");
        assert!(tx.input.iter().all(|i| i.witness.len() == 2), "{vendor:?}");

        let sig =
            block_on(dev.sign_message(&path::parse("m/84'/1'/0'/0/0").unwrap(), b"hello")).unwrap();
        assert_eq!(sig, known.hello, "{vendor:?}");
        assert!(
            events.borrow().contains(&Status::ConfirmOnDevice),
            "{vendor:?}: {:?}",
            events.borrow()
        );
        assert!(
            events
                .borrow()
                .iter()
                .any(|s| matches!(s, Status::Signing { total: 2, .. })),
            "{vendor:?}"
        );
    }
}

#[test]
fn vendor_specific_limits_are_clear_errors() {
    let (mut trezor, _) = simulated(Vendor::Trezor);
    let policy = WalletPolicy::new(
        "W",
        "wsh(multi(1,@0/**))",
        vec![format!("[5c9e228d/48'/1'/0'/2']{}", known::TREZOR_48_1_0_2)],
    )
    .unwrap();
    assert_eq!(
        block_on(trezor.register_policy(&policy))
            .unwrap_err()
            .code(),
        "unsupported"
    );
    let request = AddressRequest {
        source: AddressSource::Policy(policy, None),
        change: false,
        index: 0,
        display: false,
        allow_unverified: false,
    };
    assert_eq!(
        block_on(trezor.address(&request)).unwrap_err().code(),
        "unsupported"
    );
    let (mut ledger, _) = simulated(Vendor::Ledger);
    let bad = AddressRequest {
        source: AddressSource::Descriptor("wpkh(nonsense)".into()),
        change: false,
        index: 0,
        display: false,
        allow_unverified: false,
    };
    assert_eq!(
        block_on(ledger.address(&bad)).unwrap_err().code(),
        "invalid-input"
    );
}

#[test]
fn ledger_xpubs_and_message_keys_off_the_standard_paths() {
    let (mut ledger, _) = simulated(Vendor::Ledger);
    // Off the standard paths the app gives a key only while showing it.
    let odd = path::parse("m/44'/0'/0'/0/0").unwrap();
    let e = block_on(ledger.xpub(&odd, false)).unwrap_err();
    assert_eq!(e.code(), "device", "{e}");
    assert!(e.to_string().contains("6a82"), "{e}");
    assert_eq!(
        block_on(ledger.xpub(&odd, true)).unwrap().to_string(),
        known::SPECULOS_44_0_0_0_0_TEST
    );
    // A message signed there is checked as far as it can be (it recovers a key), and
    // given; on a standard path it is checked against the device's key.
    assert_eq!(
        block_on(ledger.sign_message(&odd, b"hello")).unwrap(),
        known::SPECULOS_HELLO_44_0_0_0_0
    );
    let below = path::parse("m/84'/1'/0'/1/9").unwrap();
    assert_eq!(
        block_on(ledger.xpub(&below, false)).unwrap().to_string(),
        known::SPECULOS_84_1_0_1_9
    );
    assert_eq!(
        block_on(ledger.sign_message(&below, b"hello")).unwrap(),
        known::SPECULOS_HELLO_84_1_0_1_9
    );
}
