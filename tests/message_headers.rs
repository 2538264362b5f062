//! Message signatures carry one BIP-137 header rule on both vendors (by the path's
//! purpose: 49' p2sh-p2wpkh, 84' p2wpkh, others p2pkh), and another project's verifier
//! (bitcoinjs-message under node, `tests/js/bip137_verify.mjs`) accepts each for the
//! address of its key.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use bitcoin::{Address, CompressedPublicKey, Network};
use futures::executor::block_on;
use hwsigner::device::Device;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use serde_json::json;

const MESSAGE: &str = "one rule for every wallet";

fn devices() -> Vec<(&'static str, Device, Seed)> {
    let ledger = std::rc::Rc::new(std::cell::RefCell::new(SimLedger::new(
        SimLedgerOptions::default(),
    )));
    let trezor_seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    vec![
        (
            "ledger",
            Device::ledger(Box::new(apdu_transport(ledger))),
            Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap(),
        ),
        (
            "trezor",
            Device::trezor(Box::new(
                TrezorSim::new(trezor_seed.clone(), Confirm::Approve, Faults::none())
                    .into_transport(),
            )),
            trezor_seed,
        ),
    ]
}

#[test]
fn both_vendors_sign_messages_that_a_bip137_verifier_accepts() {
    let mut cases = Vec::new();
    for (vendor, mut dev, seed) in devices() {
        for (purpose, header_base) in [(44, 31u8), (49, 35), (84, 39), (86, 31)] {
            let path = format!("m/{purpose}'/1'/0'/0/3").parse().unwrap();
            let sig = block_on(dev.sign_message(&path, MESSAGE.as_bytes()))
                .unwrap_or_else(|e| panic!("{vendor} {purpose}': {e}"));
            let bytes = bitcoin::base64::Engine::decode(
                &bitcoin::base64::engine::general_purpose::STANDARD,
                &sig,
            )
            .unwrap();
            assert!(
                (header_base..header_base + 4).contains(&bytes[0]),
                "{vendor} {purpose}': header {}",
                bytes[0]
            );
            let key = CompressedPublicKey(seed.public_key(&path).unwrap());
            let address = match purpose {
                49 => Address::p2shwpkh(&key, Network::Testnet),
                84 => Address::p2wpkh(&key, Network::Testnet),
                _ => Address::p2pkh(key, Network::Testnet),
            };
            cases.push(json!({
                "label": format!("{vendor} {purpose}'"),
                "message": MESSAGE,
                "address": address.to_string(),
                "signature": sig,
            }));
        }
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let mut child = Command::new("node")
        .arg(js.join("bip137_verify.mjs"))
        .current_dir(&js)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (make setup installs it with tests/js's packages)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("bip137: 8 passed, 0 failed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
