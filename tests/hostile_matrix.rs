//! Hostile input never breaks the host: every [`Fault`] a simulated device can commit,
//! against every operation of the vendor-neutral [`Device`], on both vendors.
//!
//! Rows are the faults, columns the six operations: master fingerprint, xpub (checked
//! by walking the path), address of a descriptor, registration, PSBT signing, message
//! signing. The Ledger runs over 64-byte HID reports (`hid_transport`), the Trezor over
//! its packet link (`TrezorSim::shared_transport`). A Trezor has no wallet
//! registration: its "register" column is the Trezor's way of checking a multisig
//! wallet on the device, the on-device address of the same `wsh(sortedmulti)`
//! descriptor (`Device::address` with `AddressSource::Descriptor`, display on).
//!
//! Every cell: the healthy operation works; with the fault on it gives the expected
//! outcome of the tables below (an error code, or `ok` where the fault does not touch
//! that operation: then the value it returns, fingerprint, key, address, registration,
//! signed PSBT and transaction, or signature, must be the healthy run's, or the cell
//! reads `lie`); it returns (a hang guard bounds the whole run) and does not panic; and
//! once the fault is cleared, another operation and then the same one on the same
//! `Device` give the healthy values again (a late or stale reply of the faulty call must
//! not pass for either). The matrix is printed (run with `--nocapture`), then every cell is
//! asserted.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use futures::executor::block_on;
use hwsigner::device::{AddressRequest, AddressSource, Device, SignOptions, Vendor};
use hwsigner::protocol::bytes::to_hex;
use hwsigner::protocol::path;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::ledger::serve::hid_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::Transport;

/// The rows: every fault (parameterised ones at their first packet or exchange).
const FAULTS: [Fault; 18] = [
    Fault::DropPacket(0),
    Fault::DuplicatePacket(0),
    Fault::WrongChannel,
    Fault::WrongTag,
    Fault::WrongSequence,
    Fault::TruncatedLength,
    Fault::OverlongLength,
    Fault::GarbageMessage,
    Fault::BadSignature,
    Fault::ForeignPubkey,
    Fault::OtherSighash,
    Fault::WrongAddress,
    Fault::WrongFingerprint,
    Fault::UnexpectedClientCommand,
    Fault::EndlessLoop,
    Fault::DisconnectAfter(1),
    Fault::NoAnswer,
    Fault::LateReply,
];

/// The columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Fingerprint,
    Xpub,
    Address,
    Register,
    SignPsbt,
    SignMessage,
}

const OPS: [Op; 6] = [
    Op::Fingerprint,
    Op::Xpub,
    Op::Address,
    Op::Register,
    Op::SignPsbt,
    Op::SignMessage,
];

const OP_NAMES: [&str; 6] = [
    "fingerprint",
    "xpub",
    "address",
    "register",
    "sign psbt",
    "sign msg",
];

const OK: &str = "ok";
const T: &str = "timeout";
const P: &str = "protocol";
const D: &str = "device";
const X: &str = "disconnected";

/// Expected outcomes on the Ledger, row by row as [`FAULTS`], column by column as
/// [`OPS`]. Why:
///
/// - Dropped first packet: a one-packet reply never comes (`timeout`); the xpub's
///   reply takes two packets, and the second arriving first is out of sequence
///   (`protocol`).
/// - Duplicated first packet: in a multi-packet reply the copy arrives where packet 1
///   should (`protocol`); after a one-packet reply it is stale and dropped before the
///   next command, so calls made only of one-packet replies (fingerprint, the address
///   flow) are `ok`, and rightly so.
/// - A foreign channel is not ours: ignored, then `timeout`; so is a length longer
///   than the data, and silence.
/// - A wrong tag or sequence number: `protocol`.
/// - A truncated length cuts the status word, garbage replaces the reply by two bytes:
///   either way the host reads a status word it does not know, which is the device's
///   word to say (`device`, raw code kept); nothing tells it from a real one.
/// - Lies are `protocol` where they touch the operation: a bad signature or one over
///   another sighash/message (signing); a foreign key (the xpub, the address, the
///   signature's key, and the key a message signature is checked against); another
///   address; keys of another seed (the xpub check asks the device for the address
///   of its standard policy with the account key it reported, which the app refuses
///   for a key that is not its own; and the key check after message signing); another
///   address and an unexpected client command also break that xpub check (it is an
///   address request), and every command that uses client commands; an endless YIELD
///   loop (signing).
/// - Disconnected after the first exchange: `ok` for the fingerprint (done by then),
///   `disconnected` for every longer call.
/// - A late reply (the first answer held past the time-out and sent before the next
///   one): `timeout`, and then neither another call nor the same one again may take
///   it for their answer (the host moves to a new HID channel and syncs).
#[rustfmt::skip]
const LEDGER: [[&str; 6]; 18] = [
    // fingerprint xpub  address register sign psbt sign msg
    [T,  P,  T,  T,  T,  T],  // DropPacket(0)
    [OK, P,  OK, P,  P,  P],  // DuplicatePacket(0)
    [T,  T,  T,  T,  T,  T],  // WrongChannel
    [P,  P,  P,  P,  P,  P],  // WrongTag
    [P,  P,  P,  P,  P,  P],  // WrongSequence
    [D,  D,  D,  D,  D,  D],  // TruncatedLength
    [T,  T,  T,  T,  T,  T],  // OverlongLength
    [D,  D,  D,  D,  D,  D],  // GarbageMessage
    [OK, OK, OK, OK, P,  P],  // BadSignature
    [OK, P,  P,  OK, P,  P],  // ForeignPubkey
    [OK, OK, OK, OK, P,  P],  // OtherSighash
    [OK, P,  P,  OK, OK, OK], // WrongAddress
    [OK, P,  OK, OK, OK, P],  // WrongFingerprint
    [OK, P,  P,  P,  P,  P],  // UnexpectedClientCommand
    [OK, OK, OK, OK, P,  OK], // EndlessLoop
    [OK, X,  X,  X,  X,  X],  // DisconnectAfter(1)
    [T,  T,  T,  T,  T,  T],  // NoAnswer
    [T,  T,  T,  T,  T,  T],  // LateReply
];

/// Expected outcomes on the Trezor, as [`LEDGER`]. Codec v1 has no channel and no
/// sequence numbers; its replies here: Address and ButtonRequest fit one packet,
/// PublicKey, MessageSignature and most TxRequests take several. Why:
///
/// - Dropped first packet: a one-packet reply never comes (`timeout`: the address, the
///   ButtonRequest that message signing starts with, the first TxRequest of signing,
///   whose fingerprint is known from the healthy run); otherwise a continuation comes
///   first, without the magic (`protocol`).
/// - Duplicated first packet: it is read as a continuation and garbles the message
///   (`protocol`); after a one-packet reply it is stale and dropped (`ok`).
/// - No magic (WrongChannel), a truncated length, garbage: `protocol`; a longer length
///   than the data: `timeout`.
/// - Continuations without '?' (WrongTag), or the last two packets swapped
///   (WrongSequence): `protocol` wherever a reply has continuations, `ok` for the
///   one-packet address. A swap that only garbles the tail of PublicKey is caught by
///   the checksum of the account descriptor it carries.
/// - Lies: as on the Ledger; a foreign key also breaks the fingerprint (read from
///   GetPublicKey m/0', answered at the wrong depth), so every call that starts with
///   the fingerprint fails; message signing is checked by the address the Trezor
///   returns and is untouched by it. Keys of another seed are caught by the root
///   fingerprint that comes with the key (the liar reports its own fingerprint at
///   m/0', which the host reads once a session); signing and addresses use the
///   device's real keys and are `ok`. An unexpected reply type is `protocol` for every
///   call. An endless TxRequest loop: `protocol`.
/// - Disconnected after the first exchange: `ok` for the one-exchange fingerprint,
///   xpub (the fingerprint is known for the session) and address, `disconnected`
///   otherwise.
/// - A late reply: `timeout`; codec v1 has no request ids, so the host sends Cancel
///   and a Ping of its own and drops everything before its answer: another call and
///   the same one again give the healthy values.
#[rustfmt::skip]
const TREZOR: [[&str; 6]; 18] = [
    // fingerprint xpub  address register sign psbt sign msg
    [P,  P,  T,  P,  T,  T],  // DropPacket(0)
    [P,  P,  OK, P,  P,  P],  // DuplicatePacket(0)
    [P,  P,  P,  P,  P,  P],  // WrongChannel
    [P,  P,  OK, P,  P,  P],  // WrongTag
    [P,  P,  OK, P,  P,  P],  // WrongSequence
    [P,  P,  P,  P,  P,  P],  // TruncatedLength
    [T,  T,  T,  T,  T,  T],  // OverlongLength
    [P,  P,  P,  P,  P,  P],  // GarbageMessage
    [OK, OK, OK, OK, P,  P],  // BadSignature
    [P,  P,  P,  P,  P,  OK], // ForeignPubkey
    [OK, OK, OK, OK, P,  P],  // OtherSighash
    [OK, OK, P,  P,  OK, OK], // WrongAddress
    [OK, P,  OK, OK, OK, OK], // WrongFingerprint
    [P,  P,  P,  P,  P,  P],  // UnexpectedClientCommand
    [OK, OK, OK, OK, P,  OK], // EndlessLoop
    [OK, OK, OK, X,  X,  X],  // DisconnectAfter(1)
    [T,  T,  T,  T,  T,  T],  // NoAnswer
    [T,  T,  T,  T,  T,  T],  // LateReply
];

/// Sets the faults of the simulator behind a rig's `Device`.
type FaultSwitch = Box<dyn Fn(Faults)>;

/// One simulated device behind a `Device`, with its faults switch and test data.
struct Rig {
    dev: Device,
    set_faults: FaultSwitch,
    vendor: Vendor,
    wpkh: WalletPolicy,
    multisig: WalletPolicy,
    address_descriptor: String,
    multisig_descriptor: String,
    psbt: RawPsbt,
}

fn rig(vendor: Vendor) -> Rig {
    let (mine, theirs) = match vendor {
        Vendor::Ledger => (SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC),
        Vendor::Trezor => (TREZOR_TEST_MNEMONIC, SPECULOS_MNEMONIC),
        other => unreachable!("the matrix covers ledger and trezor, not {other:?}"),
    };
    let me = Seed::from_mnemonic(mine, "").unwrap();
    let other = Seed::from_mnemonic(theirs, "").unwrap();
    let (transport, set_faults): (Box<dyn Transport>, FaultSwitch) = match vendor {
        Vendor::Ledger => {
            let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
            let switch = sim.clone();
            (
                Box::new(hid_transport(sim)),
                Box::new(move |f| switch.borrow_mut().set_faults(f)),
            )
        }
        Vendor::Trezor => {
            let sim = Rc::new(RefCell::new(TrezorSim::new(
                me.clone(),
                Confirm::Approve,
                Faults::none(),
            )));
            let switch = sim.clone();
            (
                Box::new(TrezorSim::shared_transport(sim)),
                Box::new(move |f| switch.borrow_mut().set_faults(f)),
            )
        }
        other => unreachable!("the matrix covers ledger and trezor, not {other:?}"),
    };
    let mut dev = Device::open(transport).unwrap();
    assert_eq!(dev.vendor(), vendor);
    dev.set_timeout_ms(100);
    let key = common::fund::key_info(&me, "m/84'/1'/0'");
    let wpkh = WalletPolicy::new("", "wpkh(@0/**)", vec![key.clone()]).unwrap();
    let cosigners = [
        common::fund::key_info(&me, "m/48'/1'/0'/2'"),
        common::fund::key_info(&other, "m/48'/1'/0'/2'"),
    ];
    let multisig = WalletPolicy::new(
        "Multisig",
        "wsh(sortedmulti(1,@0/**,@1/**))",
        cosigners.to_vec(),
    )
    .unwrap();
    let psbt = RawPsbt::parse(&common::fund::funded_psbt(&wpkh, 2).serialize()).unwrap();
    Rig {
        dev,
        set_faults,
        vendor,
        wpkh,
        multisig,
        address_descriptor: format!("wpkh({key}/0/*)"),
        multisig_descriptor: format!(
            "wsh(sortedmulti(1,{}/0/*,{}/0/*))",
            cosigners[0], cosigners[1]
        ),
        psbt,
    }
}

/// Runs `op` once: what it returned, as text (every part of it), or the error code.
fn run(r: &mut Rig, op: Op) -> Result<String, &'static str> {
    let signing_path = path::parse("m/84'/1'/0'/0/0").unwrap();
    let result = block_on(async {
        match op {
            Op::Fingerprint => r.dev.master_fingerprint().await.map(|f| f.to_string()),
            Op::Xpub => r
                .dev
                .xpub(&path::parse("m/84'/1'/0'").unwrap(), false)
                .await
                .map(|x| x.to_string()),
            Op::Address => {
                r.dev
                    .address(&AddressRequest {
                        source: AddressSource::Descriptor(r.address_descriptor.clone()),
                        change: false,
                        index: 3,
                        display: false,
                        allow_unverified: false,
                    })
                    .await
            }
            Op::Register => match r.vendor {
                Vendor::Ledger => r
                    .dev
                    .register_policy(&r.multisig)
                    .await
                    .map(|g| format!("{} {}", to_hex(&g.id), to_hex(&g.hmac))),
                Vendor::Trezor => {
                    r.dev
                        .address(&AddressRequest {
                            source: AddressSource::Descriptor(r.multisig_descriptor.clone()),
                            change: false,
                            index: 2,
                            display: true,
                            allow_unverified: false,
                        })
                        .await
                }
                other => unreachable!("the matrix covers ledger and trezor, not {other:?}"),
            },
            Op::SignPsbt => r
                .dev
                .sign_psbt(
                    &r.psbt,
                    &SignOptions {
                        policy: Some((r.wpkh.clone(), None)),
                        finalize: true,
                        ..Default::default()
                    },
                )
                .await
                .map(|s| {
                    format!(
                        "{} {:?} {}",
                        to_hex(&s.psbt.serialize()),
                        s.signatures,
                        s.transaction
                            .map(|tx| to_hex(&bitcoin::consensus::serialize(&tx)))
                            .unwrap_or_default()
                    )
                }),
            Op::SignMessage => {
                r.dev
                    .sign_message(&signing_path, b"hostile input never breaks it")
                    .await
            }
        }
    });
    result.map_err(|e| e.code())
}

/// What one cell gave: the outcome with the fault on (`lie` for a value other than the
/// healthy run's), and whether every check held.
struct Cell {
    got: String,
    passed: bool,
    why: Option<String>,
}

/// Another operation than `op`, run first once the fault is cleared: what a late or
/// stale reply of the faulty call must not pass for.
fn another(op: Op) -> Op {
    let i = OPS.iter().position(|o| *o == op).unwrap_or(0);
    OPS[(i + 1) % OPS.len()]
}

fn cell(vendor: Vendor, fault: Fault, op: Op, expected: &str) -> Cell {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut r = rig(vendor);
        let next = another(op);
        let healthy = run(&mut r, op).map_err(|e| format!("healthy {op:?} failed: {e}"))?;
        let healthy_next =
            run(&mut r, next).map_err(|e| format!("healthy {next:?} failed: {e}"))?;
        (r.set_faults)(Faults(vec![fault]));
        let got = match run(&mut r, op) {
            Ok(value) if value == healthy => "ok",
            Ok(_) => "lie",
            Err(code) => code,
        };
        (r.set_faults)(Faults::none());
        // Another call first, then the same one again: each gives the healthy value.
        let mut after = None;
        for (o, want) in [(next, &healthy_next), (op, &healthy)] {
            after = after.or(match run(&mut r, o) {
                Ok(value) if value == *want => None,
                Ok(value) => Some(format!(
                    "with the fault cleared, {o:?} gave {value} where the healthy run gave \
                     {want}"
                )),
                Err(e) => Some(format!("with the fault cleared, {o:?} failed: {e}")),
            });
        }
        Ok::<_, String>((got, after))
    }));
    match outcome {
        Ok(Ok((got, after))) => Cell {
            got: got.to_string(),
            passed: got == expected && after.is_none(),
            why: after,
        },
        Ok(Err(why)) => Cell {
            got: "setup".into(),
            passed: false,
            why: Some(why),
        },
        Err(panic) => Cell {
            got: "panic".into(),
            passed: false,
            why: Some(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
        },
    }
}

/// Runs and prints one vendor's matrix; returns the failed cells.
fn matrix(vendor: Vendor, table: &[[&str; 6]; 18], now: &Mutex<String>) -> Vec<String> {
    let mut failures = Vec::new();
    let mut lines = vec![format!(
        "{:<26}|{}| pass",
        format!("{} fault", vendor.name()),
        OP_NAMES
            .iter()
            .map(|n| format!(" {n:<15}|"))
            .collect::<String>()
    )];
    let mut total = 0;
    for (fault, row) in FAULTS.iter().zip(table) {
        let mut text = format!("{:<26}|", format!("{fault:?}"));
        let mut passed = 0;
        for ((op, name), expected) in OPS.iter().zip(OP_NAMES).zip(row) {
            *now.lock().unwrap() = format!("{} {fault:?} {name}", vendor.name());
            let c = cell(vendor, *fault, *op, expected);
            let mark = if c.passed { "✓" } else { "✗" };
            text.push_str(&format!(" {:<13} {mark}|", c.got));
            if c.passed {
                passed += 1;
            } else {
                failures.push(format!(
                    "{} {fault:?} {name}: expected {expected}, got {}{}",
                    vendor.name(),
                    c.got,
                    c.why.map(|w| format!(" ({w})")).unwrap_or_default()
                ));
            }
        }
        total += passed;
        text.push_str(&format!(" {passed}/6"));
        lines.push(text);
    }
    lines.push(format!(
        "{} total: {total}/{} cells passed",
        vendor.name(),
        FAULTS.len() * OPS.len()
    ));
    println!("{}\n", lines.join("\n"));
    failures
}

#[test]
fn every_fault_on_every_operation_of_both_vendors() {
    // Hang guard: the whole matrix runs on a thread; a generous bound catches a hang
    // (and names the cell it hung in) without asserting anything about speed.
    let now = Arc::new(Mutex::new(String::new()));
    let (done, finished) = mpsc::channel();
    let cell_now = now.clone();
    std::thread::spawn(move || {
        let mut failures = matrix(Vendor::Ledger, &LEDGER, &cell_now);
        failures.extend(matrix(Vendor::Trezor, &TREZOR, &cell_now));
        let _ = done.send(failures);
    });
    let failures = match finished.recv_timeout(Duration::from_secs(900)) {
        Ok(f) => f,
        Err(_) => panic!("the matrix hung in {}", now.lock().unwrap()),
    };
    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `op` with `fault` on and returns the error's text.
fn error_of(vendor: Vendor, fault: Fault, op: Op) -> String {
    let mut r = rig(vendor);
    (r.set_faults)(Faults(vec![fault]));
    let signing_path = path::parse("m/84'/1'/0'/0/0").unwrap();
    let result = block_on(async {
        match op {
            Op::Xpub => r
                .dev
                .xpub(&path::parse("m/84'/1'/0'").unwrap(), false)
                .await
                .map(drop),
            Op::SignPsbt => r
                .dev
                .sign_psbt(
                    &r.psbt,
                    &SignOptions {
                        policy: Some((r.wpkh.clone(), None)),
                        finalize: false,
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            Op::SignMessage => r.dev.sign_message(&signing_path, b"x").await.map(drop),
            _ => r
                .dev
                .address(&AddressRequest {
                    source: AddressSource::Descriptor(r.address_descriptor.clone()),
                    change: false,
                    index: 3,
                    display: false,
                    allow_unverified: false,
                })
                .await
                .map(drop),
        }
    });
    let e = result.expect_err("a lie must not pass");
    assert_eq!(e.code(), "protocol", "{vendor:?} {fault:?} {op:?}: {e}");
    e.to_string()
}

#[test]
fn the_lies_are_named() {
    for vendor in [Vendor::Ledger, Vendor::Trezor] {
        let e = error_of(vendor, Fault::WrongFingerprint, Op::Xpub);
        assert!(
            e.contains("not from its seed") || e.contains("comes from master key"),
            "{e}"
        );
        let e = error_of(vendor, Fault::OtherSighash, Op::SignPsbt);
        assert!(
            e.contains("input 0") && e.contains("does not verify"),
            "{e}"
        );
        let e = error_of(vendor, Fault::OtherSighash, Op::SignMessage);
        assert!(
            e.contains("does not verify") || e.contains("as the trezor says"),
            "{e}"
        );
        let e = error_of(vendor, Fault::WrongAddress, Op::Address);
        assert!(e.contains("the host derives"), "{e}");
    }
}
