//! Fault injection: each misbehaviour of the simulated Ledger gives the right typed
//! error, without a panic or a hang, and the next call succeeds once the device behaves
//! again. (The caller's PSBT is only borrowed: nothing to check there.)
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::str::FromStr;

use bitcoin::bip32::DerivationPath;
use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::ledger::serve::{apdu_transport, hid_transport};
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::Error;

#[derive(Clone, Copy, Debug)]
enum Op {
    Fingerprint,
    Xpub,
    Address,
    Register,
    SignPsbt,
    SignMessage,
}

struct Rig {
    sim: Rc<RefCell<SimLedger>>,
    dev: Ledger<MemoryTransport>,
    wpkh: WalletPolicy,
    multisig: WalletPolicy,
    psbt: RawPsbt,
}

fn rig(hid: bool) -> Rig {
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let transport = if hid {
        hid_transport(sim.clone())
    } else {
        apdu_transport(sim.clone())
    };
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let other = Seed::from_mnemonic(hwsigner::sim::seed::TREZOR_TEST_MNEMONIC, "").unwrap();
    let wpkh = WalletPolicy::new(
        "",
        "wpkh(@0/**)",
        vec![common::fund::key_info(&me, "m/84'/1'/0'")],
    )
    .unwrap();
    let multisig = WalletPolicy::new(
        "Multisig",
        "wsh(sortedmulti(1,@0/**,@1/**))",
        vec![
            common::fund::key_info(&me, "m/48'/1'/0'/2'"),
            common::fund::key_info(&other, "m/48'/1'/0'/2'"),
        ],
    )
    .unwrap();
    let psbt = RawPsbt::parse(&common::fund::funded_psbt(&wpkh, 2).serialize()).unwrap();
    Rig {
        sim,
        dev: Ledger::new(transport),
        wpkh,
        multisig,
        psbt,
    }
}

fn run(r: &mut Rig, op: Op) -> Result<(), Error> {
    let path = DerivationPath::from_str("m/84'/1'/0'/0/0").unwrap();
    block_on(async {
        match op {
            Op::Fingerprint => r.dev.master_fingerprint().await.map(drop),
            Op::Xpub => r.dev.xpub(&path, false).await.map(drop),
            Op::Address => r
                .dev
                .address(&r.wpkh, None, false, 0, false)
                .await
                .map(drop),
            Op::Register => r.dev.register_policy(&r.multisig).await.map(drop),
            Op::SignPsbt => r
                .dev
                .sign_psbt(
                    &r.psbt,
                    &SignOptions {
                        policy: Some((r.wpkh.clone(), None)),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            Op::SignMessage => r.dev.sign_message(&path, b"hello").await.map(drop),
        }
    })
}

/// (fault, over HID reports?, operation, expected error code)
const MATRIX: &[(Fault, bool, Op, &str)] = &[
    (Fault::DropPacket(0), true, Op::Fingerprint, "timeout"),
    (Fault::DuplicatePacket(0), true, Op::Xpub, "protocol"),
    // A duplicated last packet arrives after the reply is complete: it is discarded.
    (Fault::DuplicatePacket(1), true, Op::Xpub, "none"),
    (Fault::WrongChannel, true, Op::Fingerprint, "timeout"),
    (Fault::WrongTag, true, Op::Fingerprint, "protocol"),
    (Fault::WrongSequence, true, Op::Fingerprint, "protocol"),
    (Fault::WrongSequence, true, Op::Xpub, "protocol"),
    (Fault::TruncatedLength, true, Op::Xpub, "device"),
    (Fault::OverlongLength, true, Op::Fingerprint, "timeout"),
    (Fault::GarbageMessage, true, Op::Fingerprint, "device"),
    (Fault::NoAnswer, true, Op::SignPsbt, "timeout"),
    (
        Fault::DisconnectAfter(0),
        true,
        Op::Fingerprint,
        "disconnected",
    ),
    (
        Fault::DisconnectAfter(5),
        true,
        Op::SignPsbt,
        "disconnected",
    ),
    (Fault::BadSignature, false, Op::SignPsbt, "protocol"),
    (Fault::ForeignPubkey, false, Op::Xpub, "protocol"),
    (Fault::ForeignPubkey, false, Op::Address, "protocol"),
    (Fault::ForeignPubkey, false, Op::SignPsbt, "protocol"),
    (
        Fault::UnexpectedClientCommand,
        false,
        Op::Register,
        "protocol",
    ),
    (
        Fault::UnexpectedClientCommand,
        false,
        Op::Address,
        "protocol",
    ),
    (
        Fault::UnexpectedClientCommand,
        false,
        Op::SignPsbt,
        "protocol",
    ),
    (
        Fault::UnexpectedClientCommand,
        false,
        Op::SignMessage,
        "protocol",
    ),
    (Fault::EndlessLoop, false, Op::SignPsbt, "protocol"),
    (
        Fault::DisconnectAfter(3),
        false,
        Op::SignPsbt,
        "disconnected",
    ),
    (Fault::NoAnswer, false, Op::Fingerprint, "timeout"),
];

#[test]
fn every_misbehaviour_gives_its_error_and_the_device_recovers() {
    let mut failures = Vec::new();
    for (fault, hid, op, code) in MATRIX {
        let mut r = rig(*hid);
        // Healthy first: the operation works.
        run(&mut r, *op).unwrap_or_else(|e| panic!("{op:?} on a healthy device: {e}"));
        r.sim.borrow_mut().set_faults(Faults(vec![*fault]));
        match run(&mut r, *op) {
            Err(e) if e.code() == *code => {}
            Ok(()) if *code == "none" => {}
            other => failures.push(format!(
                "{fault:?} {op:?} (hid {hid}): expected {code}, got {other:?}"
            )),
        }
        r.sim.borrow_mut().set_faults(Faults::none());
        if let Err(e) = run(&mut r, *op) {
            failures.push(format!(
                "{fault:?} {op:?}: the next call on a healthy device failed: {e}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refusals_and_a_locked_device_have_their_codes() {
    use hwsigner::sim::confirm::Confirm;
    for (options, code) in [
        (
            SimLedgerOptions {
                confirm: Confirm::Refuse,
                ..SimLedgerOptions::default()
            },
            "user-rejected",
        ),
        (
            SimLedgerOptions {
                locked: true,
                ..SimLedgerOptions::default()
            },
            "device-locked",
        ),
        (
            SimLedgerOptions {
                start_on_dashboard: true,
                ..SimLedgerOptions::default()
            },
            "app-not-open",
        ),
    ] {
        let mut r = rig(false);
        r.dev = Ledger::new(apdu_transport(Rc::new(RefCell::new(SimLedger::new(
            options,
        )))));
        let e = run(&mut r, Op::SignPsbt).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }
    // A registered policy with a forged hmac: the device refuses (0xb008).
    let mut r = rig(false);
    let e = block_on(r.dev.address(&r.multisig, Some(&[7; 32]), false, 0, false)).unwrap_err();
    assert_eq!(
        e,
        Error::Device {
            code: 0xb008,
            message: "signature or hmac verification failed".into()
        }
    );
}

#[test]
fn a_disconnect_at_every_exchange_of_a_signing_is_disconnected_and_a_retry_signs() {
    let mut r = rig(true);
    run(&mut r, Op::SignPsbt).unwrap();
    let exchanges = r.sim.borrow().exchanges();
    assert!(exchanges > 20, "{exchanges}");
    for k in 0..exchanges {
        let mut r = rig(true);
        r.sim
            .borrow_mut()
            .set_faults(Faults(vec![Fault::DisconnectAfter(k)]));
        let e = run(&mut r, Op::SignPsbt).unwrap_err();
        assert_eq!(e.code(), "disconnected", "after {k} exchanges: {e}");
        // Plugged back: the same host object signs.
        r.sim.borrow_mut().set_faults(Faults::none());
        run(&mut r, Op::SignPsbt)
            .unwrap_or_else(|e| panic!("retry after a disconnect at {k}: {e}"));
    }
}

#[test]
fn an_endless_yield_loop_stops_at_what_the_transaction_can_need() {
    let mut r = rig(false);
    r.sim
        .borrow_mut()
        .set_faults(Faults(vec![Fault::EndlessLoop]));
    let e = run(&mut r, Op::SignPsbt).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    // Two inputs, one key placeholder: two signatures are all there can be.
    assert!(e.to_string().contains("yielded over 2 values"), "{e}");
    let exchanges = r.sim.borrow().exchanges_since_faults();
    assert!(
        exchanges < 500,
        "{exchanges} exchanges before the host stopped"
    );
}
