//! Flows that take several requests, and what happens when the device misbehaves.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::psbt::raw;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::native::speculos::SpeculosTransport;
use hwsigner::transport::{Identity, Packets};

fn sign_psbt_case(i: usize) -> serde_json::Value {
    common::cases(common::SIGN_PSBT)[i].clone()
}

#[test]
fn without_a_policy_the_standard_one_is_inferred_and_signs_byte_for_byte() {
    // Case 0 signs with the standard sh(wpkh) policy of m/49'/1'/0'. Without a policy
    // the host asks for the fingerprint and the account xpub, then must send exactly
    // the recorded SIGN_PSBT exchanges.
    let case = sign_psbt_case(0);
    let key = case["keys"][0].as_str().unwrap();
    let xpub = &key[key.find(']').unwrap() + 1..];
    let mut recorded = vec![
        (common::hex("e105000100"), common::hex("f5acc2fd9000")),
        (
            common::hex("e10000010e00038000003180000001" /* 49'/1' */)
                .into_iter()
                .chain(common::hex("80000000"))
                .collect(),
            [xpub.as_bytes(), &[0x90, 0x00]].concat(),
        ),
    ];
    recorded.extend(common::exchanges(&case));
    let total = recorded.len();
    let (mut dev, state) = common::replay_device(recorded);
    let psbt = raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    dev.on_status(move |s| ev.borrow_mut().push(format!("{s:?}")));
    let result = block_on(dev.sign_psbt(&psbt, &SignOptions::default())).map(|signed| {
        assert!(!signed.signatures.is_empty());
    });
    common::finish(&state, total, result).unwrap();
    let events = events.borrow();
    assert_eq!(events.first().map(String::as_str), Some("ConfirmOnDevice"));
    assert!(
        events.iter().any(|e| e.starts_with("Signing { index: 1")),
        "{events:?}"
    );
    assert_eq!(events.last().map(String::as_str), Some("Done"));
}

#[test]
fn without_derivations_for_the_device_the_error_says_what_to_do() {
    let case = sign_psbt_case(0);
    let psbt = raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let (mut dev, _) = common::replay_device(vec![(
        common::hex("e105000100"),
        common::hex("0badf00d9000"),
    )]);
    let err = block_on(dev.sign_psbt(&psbt, &SignOptions::default())).unwrap_err();
    assert_eq!(err.code(), "invalid-input");
    assert!(
        err.to_string()
            .contains("fingerprint 0badf00d: pass the wallet policy"),
        "{err}"
    );
}

#[test]
fn a_signature_that_does_not_verify_is_refused() {
    let mut case = sign_psbt_case(0);
    // Flip one byte inside the yielded DER signature (the YIELD client command).
    let lines = case["exchanges"].as_array_mut().unwrap();
    let y = lines
        .iter()
        .position(|l| l.as_str().unwrap().starts_with("<= 1000"))
        .unwrap();
    let line = lines[y].as_str().unwrap().to_string();
    let at = line.len() - 20;
    let flipped = if &line[at..at + 1] == "0" { "1" } else { "0" };
    lines[y] = serde_json::Value::String(format!("{}{}{}", &line[..at], flipped, &line[at + 1..]));
    let (mut dev, _) = common::replay_device(common::exchanges(&case));
    let psbt = raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let opts = SignOptions {
        policy: Some((common::policy_of(&case), None)),
        ..Default::default()
    };
    let err = block_on(dev.sign_psbt(&psbt, &opts)).unwrap_err();
    assert_eq!(err.code(), "protocol");
    assert!(err.to_string().contains("input 0"), "{err}");
}

#[test]
fn a_refusal_on_the_device_is_user_rejected() {
    let case = sign_psbt_case(1);
    let mut recorded = common::exchanges(&case);
    recorded.truncate(30);
    let last = recorded.len() - 1;
    recorded[last].1 = vec![0x69, 0x85];
    let (mut dev, _) = common::replay_device(recorded);
    let psbt = raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let opts = SignOptions {
        policy: Some((
            common::policy_of(&case),
            common::hex(case["hmac"].as_str().unwrap()).try_into().ok(),
        )),
        ..Default::default()
    };
    assert_eq!(
        block_on(dev.sign_psbt(&psbt, &opts)).unwrap_err().code(),
        "user-rejected"
    );
}

#[test]
fn open_app_leaves_the_dashboard_and_follows_the_device() {
    // A device on the dashboard; after E0 D8 "Bitcoin Test" the app runs.
    let app = Rc::new(RefCell::new("BOLOS".to_string()));
    let sent = Rc::new(RefCell::new(Vec::new()));
    let (a, s) = (app.clone(), sent.clone());
    let transport = MemoryTransport::new(
        Packets::Messages,
        Identity::default(),
        move |apdu: &[u8]| {
            s.borrow_mut().push(common::to_hex(apdu));
            let reply = match apdu {
                [0xb0, 0x01, ..] => {
                    let name = a.borrow().clone();
                    [
                        &[1u8, name.len() as u8][..],
                        name.as_bytes(),
                        &[5],
                        b"2.1.0",
                        &[1, 0],
                        &[0x90, 0x00],
                    ]
                    .concat()
                }
                [0xe0, 0xd8, 0, 0, n, name @ ..] if *n as usize == name.len() => {
                    *a.borrow_mut() = String::from_utf8(name.to_vec()).unwrap();
                    vec![0x90, 0x00]
                }
                [0xe1, 0x05, ..] if a.borrow().starts_with("Bitcoin") => {
                    vec![0xf5, 0xac, 0xc2, 0xfd, 0x90, 0x00]
                }
                _ => vec![0x6e, 0x01],
            };
            Ok(vec![reply])
        },
    );
    let mut dev = Ledger::new(transport);
    assert_eq!(
        block_on(dev.master_fingerprint()).unwrap_err().code(),
        "app-not-open"
    );
    let info = block_on(dev.open_app("Bitcoin Test")).unwrap();
    assert_eq!(info.name, "Bitcoin Test");
    assert_eq!(
        block_on(dev.master_fingerprint()).unwrap().to_string(),
        "f5acc2fd"
    );
    assert_eq!(
        sent.borrow()[2],
        format!("e0d800000c{}", common::to_hex(b"Bitcoin Test"))
    );
    // Already open: one B0 01, nothing else.
    let n = sent.borrow().len();
    block_on(dev.open_app("Bitcoin Test")).unwrap();
    assert_eq!(sent.borrow().len(), n + 1);
}

#[test]
fn speculos_socket_carries_recorded_exchanges() {
    // A stand-in for Speculos' APDU socket that answers from the recording, with its
    // framing: request `u32 len | apdu`, reply `u32 n | data | sw`.
    let case = common::cases(common::MISC)[1].clone();
    let recorded = common::exchanges(&case);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        for (expected, reply) in recorded {
            let mut len = [0u8; 4];
            sock.read_exact(&mut len).unwrap();
            let mut apdu = vec![0u8; u32::from_be_bytes(len) as usize];
            sock.read_exact(&mut apdu).unwrap();
            assert_eq!(common::to_hex(&apdu), common::to_hex(&expected));
            let n = (reply.len() - 2) as u32;
            sock.write_all(&[&n.to_be_bytes()[..], &reply].concat())
                .unwrap();
        }
    });
    let mut dev = Ledger::new(SpeculosTransport::connect(&addr.to_string()).unwrap());
    block_on(common::run_case(&mut dev, "sign_message", &case)).unwrap();
    server.join().unwrap();
}

#[test]
fn speculos_that_is_not_running_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert_eq!(
        SpeculosTransport::connect(&addr.to_string())
            .unwrap_err()
            .code(),
        "transport"
    );
}

#[test]
fn a_psbt_v2_goes_on_the_wire_exactly_like_its_v0_twin_and_comes_back_v2() {
    // BIP-370: the app reads v2 maps, so a v2 PSBT with the same content must produce
    // the recorded exchanges of its v0 twin, and the signed result stays v2.
    let case = sign_psbt_case(0);
    let v0 = raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let (global, inputs, outputs) = v0.to_v2_maps().unwrap();
    let v2_bytes = raw::RawPsbt {
        version: 2,
        global,
        inputs,
        outputs,
    }
    .serialize();
    let v2 = raw::decode(&v2_bytes).unwrap();
    assert_eq!(v2.version, 2);
    let recorded = common::exchanges(&case);
    let total = recorded.len();
    let (mut dev, state) = common::replay_device(recorded);
    let opts = SignOptions {
        policy: Some((common::policy_of(&case), None)),
        ..Default::default()
    };
    let result = block_on(dev.sign_psbt(&v2, &opts)).map(|signed| {
        assert_eq!(signed.psbt.version, 2);
        let reparsed = raw::RawPsbt::parse(&signed.psbt.serialize()).unwrap();
        let view = reparsed.to_bitcoin().unwrap();
        assert_eq!(
            view.inputs
                .iter()
                .map(|i| i.partial_sigs.len())
                .sum::<usize>(),
            signed.signatures.len()
        );
    });
    common::finish(&state, total, result).unwrap();
    assert_eq!(v2.serialize(), v2_bytes);
}

#[test]
fn a_psbt_summary_shows_amounts_fee_and_change() {
    use hwsigner::protocol::psbt::summary::summarize;
    use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let policy = hwsigner::protocol::policy::WalletPolicy::new(
        "",
        "wpkh(@0/**)",
        vec![common::fund::key_info(&me, "m/84'/1'/0'")],
    )
    .unwrap();
    let psbt = raw::RawPsbt::parse(&common::fund::funded_psbt(&policy, 2).serialize()).unwrap();
    let s = summarize(&psbt, Some(me.fingerprint())).unwrap();
    assert_eq!(
        s.inputs.iter().map(|i| i.amount).collect::<Vec<_>>(),
        vec![Some(50_000), Some(50_001)]
    );
    assert!(s.inputs.iter().all(|i| i.ours));
    assert_eq!(s.fee, Some(1_000));
    assert_eq!(
        s.outputs.iter().map(|o| o.change).collect::<Vec<_>>(),
        vec![false, true]
    );
    assert!(s.outputs[0].address.as_deref().unwrap().starts_with("tb1q"));
    // Another device: nothing is ours, nothing is change.
    let other = summarize(&psbt, Some(bitcoin::bip32::Fingerprint::from([1, 2, 3, 4]))).unwrap();
    assert!(other.outputs.iter().all(|o| !o.change) && other.inputs.iter().all(|i| !i.ours));
}

#[test]
fn an_app_older_than_2_1_is_unsupported_with_a_reason() {
    let transport =
        MemoryTransport::new(Packets::Messages, Identity::default(), |apdu: &[u8]| {
            Ok(vec![match apdu {
                [0xb0, 0x01, ..] => [
                    &[1u8, 7][..],
                    b"Bitcoin",
                    &[5],
                    b"2.0.6",
                    &[1, 0],
                    &[0x90, 0x00],
                ]
                .concat(),
                _ => vec![0x6d, 0x00],
            }])
        });
    let mut dev = Ledger::new(transport);
    let e = block_on(dev.open_app("Bitcoin")).unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(
        e.to_string().contains("2.0.6 speaks the legacy protocol"),
        "{e}"
    );
}
