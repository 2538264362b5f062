//! Hostile THP: every fault a simulated Safe 7 can commit on the Trezor Host Protocol
//! (a wrong CRC, a lost ACK, a wrong AES-GCM tag, replayed packets, silence, a
//! disconnect) and the device-level lies carried inside the channel, against each
//! Bitcoin operation, in the style of `hostile_matrix.rs`.
//!
//! Every cell: the host is paired and has used the device once; with the fault on,
//! the operation gives the expected outcome (`ok` where a retransmission or the
//! alternating bit recovers, else the error code); it returns (each cell runs in its
//! own thread under a hang guard) and does not panic; and with the fault cleared the
//! same operation on the same host succeeds without pairing again (a broken channel
//! is opened again with the stored credential).
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use futures::executor::block_on;
use hwsigner::device::{Device, SignOptions};
use hwsigner::driver::credentials::MemoryCredentials;
use hwsigner::driver::PromptFns;
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::trezor::Safe7Sim;
use trezor_support::*;

#[derive(Clone, Copy, Debug)]
enum Op {
    Fingerprint,
    Xpub,
    Address,
    SignPsbt,
    SignMessage,
}

const OPS: [Op; 5] = [
    Op::Fingerprint,
    Op::Xpub,
    Op::Address,
    Op::SignPsbt,
    Op::SignMessage,
];

/// Rows: the fault and its outcome for each column (fingerprint, xpub, address, sign
/// psbt, sign message).
const TABLE: [(Fault, [&str; 5]); 12] = [
    (Fault::BadCrc, ["ok", "ok", "ok", "ok", "ok"]),
    (Fault::DropAck, ["ok", "ok", "ok", "ok", "ok"]),
    (Fault::ReplayPrevious, ["ok", "ok", "ok", "ok", "ok"]),
    (
        Fault::WrongTag,
        ["protocol", "protocol", "protocol", "protocol", "protocol"],
    ),
    (
        Fault::ReplayOlder,
        ["protocol", "protocol", "protocol", "protocol", "protocol"],
    ),
    (
        Fault::NoAnswer,
        ["timeout", "timeout", "timeout", "timeout", "timeout"],
    ),
    (
        Fault::DisconnectAfter(0),
        [
            "disconnected",
            "disconnected",
            "disconnected",
            "disconnected",
            "disconnected",
        ],
    ),
    (
        Fault::GarbageMessage,
        ["protocol", "protocol", "protocol", "protocol", "protocol"],
    ),
    (
        Fault::BadSignature,
        ["ok", "ok", "ok", "protocol", "protocol"],
    ),
    (
        Fault::WrongFingerprint,
        ["ok", "protocol", "ok", "ok", "ok"],
    ),
    (
        Fault::UnexpectedClientCommand,
        ["protocol", "protocol", "protocol", "protocol", "protocol"],
    ),
    (Fault::EndlessLoop, ["ok", "ok", "ok", "protocol", "ok"]),
];

struct Rig {
    sim: Rc<RefCell<Safe7Sim>>,
    host: Device,
    codes: Rc<RefCell<usize>>,
}

fn rig() -> Rig {
    let sim = Rc::new(RefCell::new(Safe7Sim::with_test_seed().unwrap()));
    let mut host = Device::trezor(Box::new(Safe7Sim::shared_transport(sim.clone())));
    host.as_trezor()
        .unwrap()
        .set_credential_store(Box::new(MemoryCredentials::new()));
    let codes = Rc::new(RefCell::new(0));
    let (screen, count) = (sim.clone(), codes.clone());
    host.set_prompts(Box::new(PromptFns::none().with_pairing_code(move || {
        *count.borrow_mut() += 1;
        Ok(screen.borrow().pairing_code().unwrap_or_default())
    })));
    block_on(host.master_fingerprint()).unwrap();
    assert_eq!(*codes.borrow(), 1);
    Rig { sim, host, codes }
}

fn run(r: &mut Rig, op: Op) -> Result<(), String> {
    let code = |e: hwsigner::Error| e.code().to_string();
    match op {
        Op::Fingerprint => {
            let f = block_on(r.host.master_fingerprint()).map_err(code)?;
            if f.to_string() != FPR {
                return Err("wrong fingerprint".into());
            }
        }
        Op::Xpub => {
            // The device API checks the xpub's provenance (it walks the path).
            let x = block_on(r.host.xpub(&path("m/84h/0h/0h"), false)).map_err(code)?;
            let want = seed()
                .xpub(&path("m/84h/0h/0h"), bitcoin::NetworkKind::Main)
                .unwrap();
            if x != want {
                return Err("wrong xpub".into());
            }
        }
        Op::Address => {
            let t = r.host.as_trezor().unwrap();
            let a = block_on(t.address(&path("m/84h/0h/0h/0/0"), false)).map_err(code)?;
            if a != "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk" {
                return Err("wrong address".into());
            }
        }
        Op::SignPsbt => {
            let case = cases(SIGN_TX)
                .into_iter()
                .find(|c| c["name"] == "test_signtx_taproot::test_send_mixed")
                .unwrap();
            let (raw, _) = psbt_of(&case);
            let before = raw.serialize();
            let options = SignOptions {
                network: Some(coin(&case).network()),
                ..Default::default()
            };
            let t = r.host.as_trezor().unwrap();
            let result = block_on(t.sign_psbt(&raw, &options));
            assert_eq!(raw.serialize(), before, "the caller's psbt changed");
            let signed = result.map_err(code)?;
            if to_hex(&signed.serialized_transaction().unwrap())
                != case["expected_serialized_tx"].as_str().unwrap()
            {
                return Err("wrong transaction".into());
            }
        }
        Op::SignMessage => {
            // The device API checks the signature is by the key at the path.
            block_on(r.host.sign_message(&path("m/84h/0h/0h/0/0"), b"hello")).map_err(code)?;
        }
    }
    Ok(())
}

/// One cell, in its own thread: the outcome, then whether the host recovered.
fn cell(fault: Fault, op: Op) -> (String, Result<(), String>, usize) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = rig();
        r.sim.borrow_mut().set_faults(Faults(vec![fault]));
        let outcome = match run(&mut r, op) {
            Ok(()) => "ok".to_string(),
            Err(e) => e,
        };
        r.sim.borrow_mut().set_faults(Faults::none());
        let after = run(&mut r, op);
        let codes = *r.codes.borrow();
        let _ = tx.send((outcome, after, codes));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{fault:?} on {op:?}: no answer within 60 s (a hang)"))
}

#[test]
fn every_thp_fault_on_every_operation() {
    let mut failures = Vec::new();
    for (fault, row) in TABLE {
        for (op, expected) in OPS.iter().zip(row) {
            let (got, after, codes) = cell(fault, *op);
            if got != expected {
                failures.push(format!(
                    "{fault:?} on {op:?}: got {got}, expected {expected}"
                ));
            }
            if let Err(e) = after {
                failures.push(format!("{fault:?} on {op:?}: no recovery: {e}"));
            }
            if codes != 1 {
                failures.push(format!("{fault:?} on {op:?}: paired again ({codes} codes)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
