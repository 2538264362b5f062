//! The host against a misbehaving or refusing simulated Trezor: every fault gives a
//! typed error in time, without a panic.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use bitcoin::bip32::Fingerprint;
use bitcoin::hashes::Hash;
use futures::executor::block_on;
use hwsigner::device::{Passphrase, SignOptions, Status};
use hwsigner::driver::trezor::Trezor;
use hwsigner::driver::PromptFns;
use hwsigner::protocol::trezor::btc::{plan, sign_tx};
use hwsigner::protocol::trezor::framing;
use hwsigner::protocol::trezor::messages::{
    self as msg, Failure, Features, PassphraseRequest, PinMatrixRequest,
};
use hwsigner::sim::confirm::{Confirm, Prompt};
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::{Identity, Packets};
use hwsigner::Error;
use trezor_support::*;

fn faulty(faults: Vec<Fault>) -> Trezor<MemoryTransport> {
    let sim = TrezorSim::new(seed(), Confirm::Approve, Faults(faults));
    let mut t = Trezor::new(sim.into_transport());
    t.set_timeout_ms(50);
    t
}

fn case(name: &str) -> serde_json::Value {
    cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn sign_with(t: &mut Trezor<MemoryTransport>, name: &str) -> Result<Vec<u8>, Error> {
    let c = case(name);
    let (raw, _) = psbt_of(&c);
    block_on(t.sign_psbt(
        &raw,
        &SignOptions {
            network: Some(coin(&c).network()),
            ..Default::default()
        },
    ))
    .map(|s| s.serialized_transaction().unwrap())
}

#[test]
fn garbage_protobuf_is_a_protocol_error() {
    let mut t = faulty(vec![Fault::GarbageMessage]);
    let e = block_on(t.init()).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
}

#[test]
fn bad_signatures_are_caught() {
    for name in [
        "test_signtx::test_one_one_fee",
        "test_signtx_taproot::test_send_mixed",
    ] {
        let mut t = faulty(vec![Fault::BadSignature]);
        let e = sign_with(&mut t, name).unwrap_err();
        assert_eq!(e.code(), "protocol", "{name}: {e}");
        assert!(e.to_string().contains("input 0"), "{e}");
    }
    let mut t = faulty(vec![Fault::BadSignature]);
    let e = block_on(t.sign_message(&path("m/44'/0'/0'/0/0"), b"hello")).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
}

#[test]
fn a_foreign_public_key_is_caught() {
    let mut t = faulty(vec![Fault::ForeignPubkey]);
    let e = block_on(t.xpub(&path("m/84'/0'/0'"), false)).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains("depth 4"), "{e}");
    // Signing with a key the input does not use.
    // (GetPublicKey lies too, so the fingerprint is given and SignTx run directly.)
    for name in [
        "test_signtx::test_one_one_fee",
        "test_signtx_taproot::test_send_p2tr",
    ] {
        let mut t = faulty(vec![Fault::ForeignPubkey]);
        let (raw, psbt) = psbt_of(&case(name));
        let p = plan::build(&psbt, Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]), None).unwrap();
        let result = block_on(t.run(sign_tx::sign_tx(p.clone()))).unwrap();
        let e =
            hwsigner::protocol::trezor::btc::finish::finish(&raw, &psbt, &p, result).unwrap_err();
        assert_eq!(e.code(), "protocol", "{name}: {e}");
        assert!(e.to_string().contains("does not verify"), "{name}: {e}");
    }
}

#[test]
fn a_txrequest_for_an_input_that_does_not_exist_is_a_protocol_error() {
    // SignTx run directly (outside SignTx, the fault answers every call with a
    // TxRequest, so the fingerprint is given here).
    let mut t = faulty(vec![Fault::UnexpectedClientCommand]);
    let (_, psbt) = psbt_of(&case("test_signtx::test_one_one_fee"));
    let p = plan::build(&psbt, Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]), None).unwrap();
    let e = block_on(t.run(sign_tx::sign_tx(p))).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains("input 1"), "{e}");
}

#[test]
fn an_endless_txrequest_loop_ends() {
    let mut t = faulty(vec![Fault::EndlessLoop]);
    let e = sign_with(&mut t, "test_signtx_segwit_native::test_send_native").unwrap_err();
    assert_eq!(e.code(), "protocol");
    assert!(e.to_string().contains("txrequests"), "{e}");
}

#[test]
fn disconnects_and_silence() {
    let mut t = faulty(vec![Fault::DisconnectAfter(2)]);
    assert_eq!(
        sign_with(&mut t, "test_signtx::test_one_one_fee").unwrap_err(),
        Error::Disconnected
    );
    let mut t = faulty(vec![Fault::NoAnswer]);
    assert_eq!(
        block_on(t.init()).unwrap_err(),
        Error::Timeout { after_ms: 50 }
    );
}

#[test]
fn framing_faults_on_replies() {
    for fault in [
        Fault::WrongChannel,
        Fault::TruncatedLength,
        Fault::DropPacket(0),
    ] {
        let mut t = faulty(vec![fault]);
        let e = block_on(t.init()).unwrap_err();
        assert_eq!(e.code(), "protocol", "{fault:?}: {e}");
    }
    // A length longer than the data: the host waits for packets that never come.
    let mut t = faulty(vec![Fault::OverlongLength]);
    assert_eq!(block_on(t.init()).unwrap_err().code(), "timeout");
    // A duplicated first packet is read as the continuation of the Features message,
    // whose protobuf it garbles.
    let mut t = faulty(vec![Fault::DuplicatePacket(0)]);
    let e = block_on(t.init()).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains("undecodable features"), "{e}");
}

#[test]
fn refusals_are_user_rejected() {
    let asked = Rc::new(RefCell::new(Vec::new()));
    let log = asked.clone();
    let confirm = Confirm::Ask(Rc::new(move |p: &Prompt| {
        log.borrow_mut().push(p.clone());
        false
    }));
    let sim = TrezorSim::new(seed(), confirm, Faults::none());
    let mut t = Trezor::new(sim.into_transport());
    assert_eq!(
        sign_with(&mut t, "test_signtx::test_one_two_fee").unwrap_err(),
        Error::UserRejected
    );
    assert!(
        matches!(asked.borrow().first(), Some(Prompt::SignTransaction(s)) if s.contains("sat to"))
    );
    let e = block_on(t.sign_message(&path("m/84'/0'/0'/0/0"), b"x")).unwrap_err();
    assert_eq!(e, Error::UserRejected);
    let e = block_on(t.address(&path("m/84'/0'/0'/0/0"), true)).unwrap_err();
    assert_eq!(e, Error::UserRejected);
    // Without display, nothing is asked (the address of ../shared/trezor-vectors).
    assert_eq!(
        block_on(t.address(&path("m/84'/0'/0'/0/0"), false)).unwrap(),
        "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk"
    );
}

#[test]
fn statuses_and_sessions() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut t = sim_trezor();
    t.on_status(move |s| log.borrow_mut().push(s));
    let first = block_on(t.init()).unwrap().session_id.unwrap();
    assert_eq!(
        block_on(t.init()).unwrap().session_id.unwrap(),
        first,
        "the session is resumed"
    );
    let c = case("test_signtx_taproot::test_send_mixed");
    assert_eq!(
        to_hex(&sign_with(&mut t, "test_signtx_taproot::test_send_mixed").unwrap()),
        c["expected_serialized_tx"].as_str().unwrap()
    );
    let seen = seen.borrow();
    assert!(seen.contains(&Status::ConfirmOnDevice));
    assert!(
        seen.contains(&Status::Signing { index: 4, total: 4 }),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&Status::Done));
    block_on(t.ping("hello")).unwrap();
}

#[test]
fn psbts_the_trezor_cannot_sign() {
    let mut t = sim_trezor();
    // Not ours: the derivation carries another fingerprint.
    let c = case("test_signtx::test_one_one_fee");
    let mut psbt = psbt_of(&c).0.to_bitcoin().unwrap();
    for (_, (f, _)) in psbt.inputs[0].bip32_derivation.iter_mut() {
        *f = Fingerprint::from([1, 2, 3, 4]);
    }
    let raw = hwsigner::protocol::psbt::RawPsbt::parse(&psbt.serialize()).unwrap();
    let e = block_on(t.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(
        e.to_string().contains("input 0 is not this trezor's"),
        "{e}"
    );
    // A segwit input without its previous transaction (not all-taproot).
    let c = case("test_signtx_segwit_native::test_send_native");
    let mut psbt = psbt_of(&c).0.to_bitcoin().unwrap();
    psbt.inputs[0].non_witness_utxo = None;
    let raw = hwsigner::protocol::psbt::RawPsbt::parse(&psbt.serialize()).unwrap();
    let e = block_on(t.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, .. } if field == "input 0"),
        "{e}"
    );
    // Taproot with a script tree: only BIP-86 key-path spends are signed.
    let c = case("test_signtx_taproot::test_send_p2tr");
    let mut psbt = psbt_of(&c).0.to_bitcoin().unwrap();
    psbt.inputs[0].tap_merkle_root = Some(bitcoin::TapNodeHash::from_byte_array([7; 32]));
    let raw = hwsigner::protocol::psbt::RawPsbt::parse(&psbt.serialize()).unwrap();
    let e = block_on(t.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
    assert_eq!(e.code(), "unsupported", "{e}");
    // An output script without an address.
    let c = case("test_signtx::test_one_one_fee");
    let mut psbt = psbt_of(&c).0.to_bitcoin().unwrap();
    psbt.unsigned_tx.output[0].script_pubkey = bitcoin::ScriptBuf::from_bytes(vec![0x51, 0x51]);
    let raw = hwsigner::protocol::psbt::RawPsbt::parse(&psbt.serialize()).unwrap();
    let e = block_on(t.sign_psbt(&raw, &SignOptions::default())).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, .. } if field == "output 0"),
        "{e}"
    );
    // All-taproot spends go without.
    let c = case("test_signtx_taproot::test_send_p2tr");
    let mut psbt = psbt_of(&c).0.to_bitcoin().unwrap();
    psbt.inputs[0].non_witness_utxo = None;
    let raw = hwsigner::protocol::psbt::RawPsbt::parse(&psbt.serialize()).unwrap();
    let signed = block_on(t.sign_psbt(&raw, &SignOptions::default())).unwrap();
    assert_eq!(
        to_hex(&signed.serialized_transaction().unwrap()),
        c["expected_serialized_tx"].as_str().unwrap()
    );
}

#[test]
fn a_wrong_amount_is_refused_by_the_device() {
    let mut t = sim_trezor();
    let c = case("test_signtx::test_one_one_fee");
    let (_, psbt) = psbt_of(&c);
    let mut p = plan::build(&psbt, Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]), None).unwrap();
    p.inputs[0].amount += 1;
    let e = block_on(t.run(sign_tx::sign_tx(p))).unwrap_err();
    assert!(
        matches!(&e, Error::Device { code: 3, message } if message.contains("invalid amount")),
        "{e}"
    );
}

/// A device that answers every message with `reply`.
fn answering(reply: (u16, Vec<u8>)) -> Trezor<MemoryTransport> {
    let t = MemoryTransport::new(Packets::Reports64, Identity::default(), move |_| {
        Ok(framing::encode(reply.0, &reply.1)?
            .iter()
            .map(|p| p.to_vec())
            .collect())
    });
    Trezor::new(t)
}

#[test]
fn thp_bootloader_and_pin() {
    let mut t = answering(msg::encode(&Failure {
        code: Some(17),
        message: Some("Invalid protocol".into()),
    }));
    let e = block_on(t.init()).unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(e.to_string().contains("safe 7"), "{e}");
    let mut t = answering(msg::encode(&Features {
        vendor: Some("trezor.io".into()),
        major_version: Some(2),
        minor_version: Some(8),
        patch_version: Some(0),
        bootloader_mode: Some(true),
        ..Default::default()
    }));
    assert_eq!(block_on(t.init()).unwrap_err().code(), "app-not-open");
    let mut t = answering(msg::encode(&PinMatrixRequest { r#type: Some(1) }));
    let e = block_on(t.init()).unwrap_err();
    assert_eq!(e.code(), "device-locked");
    assert!(e.to_string().contains("onPin"), "{e}");
    // A device that asks for the passphrase forever: without a handler the call says
    // so; with one, the host gives up after its bound instead of looping.
    let passphrase = || answering(msg::encode(&PassphraseRequest::default()));
    let e = block_on(passphrase().init()).unwrap_err();
    assert_eq!(e.code(), "device-locked", "{e}");
    assert!(e.to_string().contains("onPassphrase"), "{e}");
    let mut t = passphrase();
    t.set_prompts(Box::new(
        PromptFns::none().with_passphrase(|_| Ok(Passphrase::Text(String::new()))),
    ));
    let e = block_on(t.init()).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains("over 10000 times"), "{e}");
}

#[test]
fn whole_message_links_work_too() {
    let sim = TrezorSim::with_test_seed().unwrap();
    let mut t = Trezor::new(sim.into_message_transport());
    let x = block_on(t.xpub(&path("m/86'/0'/0'"), false)).unwrap();
    assert!(x
        .descriptor
        .unwrap()
        .starts_with("tr([5c9e228d/86h/0h/0h]xpub"));
}

#[test]
fn after_a_failed_call_the_session_is_initialized_again() {
    let mut sim = TrezorSim::with_test_seed().unwrap();
    let sent = Rc::new(RefCell::new(Vec::new()));
    let log = sent.clone();
    let link = MemoryTransport::new(
        Packets::Reports64,
        Identity::default(),
        move |p: &[u8]| {
            if p.starts_with(b"?##") {
                log.borrow_mut().push(u16::from_be_bytes([p[3], p[4]]));
            }
            sim.handle_packet(p)
        },
    );
    let mut t = Trezor::new(link);
    let first = block_on(t.init()).unwrap().session_id;
    // A call whose reply the host does not accept (Success where Features is expected).
    let bad = hwsigner::protocol::trezor::call::Call::simple(
        &hwsigner::protocol::trezor::messages::Ping {
            message: Some("x".into()),
            button_protection: None,
        },
        |_: Features| Ok(()),
    );
    assert_eq!(block_on(t.run(bad)).unwrap_err().code(), "protocol");
    sent.borrow_mut().clear();
    block_on(t.master_fingerprint()).unwrap();
    assert_eq!(*sent.borrow(), vec![0, 11], "initialize, then getpublickey");
    assert_eq!(
        block_on(t.info()).unwrap().session_id,
        first,
        "the same session resumed"
    );
}
