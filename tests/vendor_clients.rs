//! The vendors' own clients judge the simulated Ledger: Ledger's Python client
//! (`ledger-bitcoin` from PyPI) over the Speculos socket, and its JS client
//! (`ledger-bitcoin@0.3.0` from npm) under node.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;

use bitcoin::bip32::DerivationPath;
use hwsigner::bytes::to_hex;
use hwsigner::ledger::btc::client::parse_yielded_signature;
use hwsigner::ledger::btc::policy::{derive_address, WalletPolicy};
use hwsigner::psbt::raw::{self, RawPsbt};
use hwsigner::psbt::signature::{insert, Verifier};
use hwsigner::sim::ledger::serve::serve_speculos_on;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use serde_json::{json, Value};

/// Serves a fresh simulated Ledger on a free local port.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        serve_speculos_on(listener, SimLedger::new(SimLedgerOptions::default()))
    });
    port
}

fn policies() -> Vec<(&'static str, WalletPolicy, bool)> {
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let other = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let k = |s: &Seed, p: &str| common::fund::key_info(s, p);
    let p = |name: &str, t: &str, keys: Vec<String>| WalletPolicy::new(name, t, keys).unwrap();
    vec![
        (
            "wpkh",
            p("", "wpkh(@0/**)", vec![k(&me, "m/84'/1'/0'")]),
            false,
        ),
        (
            "sh(wpkh)",
            p("", "sh(wpkh(@0/**))", vec![k(&me, "m/49'/1'/0'")]),
            false,
        ),
        (
            "pkh",
            p("", "pkh(@0/**)", vec![k(&me, "m/44'/1'/0'")]),
            false,
        ),
        ("tr", p("", "tr(@0/**)", vec![k(&me, "m/86'/1'/0'")]), false),
        (
            "wsh(sortedmulti)",
            p(
                "Multisig",
                "wsh(sortedmulti(2,@0/**,@1/**))",
                vec![k(&me, "m/48'/1'/0'/2'"), k(&other, "m/48'/1'/0'/2'")],
            ),
            true,
        ),
        (
            "miniscript",
            p(
                "Decaying",
                "wsh(or_d(pk(@0/**),and_v(v:pkh(@1/**),older(100))))",
                vec![k(&me, "m/48'/1'/0'/2'"), k(&other, "m/48'/1'/0'/2'")],
            ),
            true,
        ),
    ]
}

/// Checks each signature a vendor client got against its sighash and puts it into the
/// PSBT; returns how many inputs got one.
fn verify_signatures(psbt: &RawPsbt, sigs: &[Value]) -> usize {
    let view = psbt.to_bitcoin().unwrap();
    let mut verifier = Verifier::new(&view);
    let mut out = psbt.clone();
    let mut inputs = std::collections::BTreeSet::new();
    for s in sigs {
        let mut key = common::hex(s["pubkey"].as_str().unwrap());
        if let Some(leaf) = s["tapleaf_hash"].as_str() {
            key.extend(common::hex(leaf));
        }
        let mut y = vec![s["index"].as_u64().unwrap() as u8, key.len() as u8];
        y.extend(key);
        y.extend(common::hex(s["signature"].as_str().unwrap()));
        let (index, sig) = parse_yielded_signature(&y).unwrap();
        verifier
            .verify(index, &sig)
            .unwrap_or_else(|e| panic!("{e}"));
        insert(&mut out, index, &sig).unwrap();
        inputs.insert(index);
    }
    inputs.len()
}

#[test]
fn ledgers_python_client_is_satisfied_by_the_simulator() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "run `make setup` (scripts/setup.sh) to create .tools/venv with ledger-bitcoin"
    );
    let port = serve();
    let pols = policies();
    let psbts: Vec<RawPsbt> = pols
        .iter()
        .map(|(_, p, _)| RawPsbt::parse(&common::fund::funded_psbt(p, 2).serialize()).unwrap())
        .collect();
    let job = json!({
        "xpub_path": "m/84'/1'/0'",
        "message": "hello",
        "message_path": "m/44'/1'/0'/0",
        "policies": pols.iter().zip(&psbts).map(|((label, p, register), psbt)| json!({
            "label": label, "name": p.name, "template": p.template, "keys": p.keys, "register": register,
            "psbt": raw::encode_base64(&psbt.serialize()),
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ledger_client.py"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(got["version"], json!(["Bitcoin Test", "2.1.0", "00"]));
    assert_eq!(got["fingerprint"], "f5acc2fd");
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let want_xpub = me
        .xpub(
            &DerivationPath::from_str("m/84'/1'/0'").unwrap(),
            bitcoin::NetworkKind::Test,
        )
        .unwrap();
    assert_eq!(got["xpub"], want_xpub.to_string());
    assert_eq!(
        got["message_signature"],
        "IL3u9GLAzgG5BdtSBqUe0Fo2Zx0UlKwSsYx2TbuVX0VULFgZYRBQCW0W7QOlsB/JgGwWNhl3eYYjXtdfyR7pM+Y="
    );
    let results = got["policies"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for (((label, policy, register), psbt), r) in pols.iter().zip(&psbts).zip(results) {
        assert_eq!(r["name"], *label);
        let address = derive_address(policy, false, 1, bitcoin::Network::Testnet).unwrap();
        assert_eq!(r["address"], address, "{label}");
        if *register {
            assert_eq!(r["wallet_id"], to_hex(&policy.id()), "{label}");
        }
        assert_eq!(
            verify_signatures(psbt, r["signatures"].as_array().unwrap()),
            2,
            "{label}: both inputs signed"
        );
    }
}

#[test]
fn ledgers_js_client_is_satisfied_by_the_simulator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/js/node_modules/ledger-bitcoin").exists(),
        "run `make setup` to install tests/js (ledger-bitcoin@0.3.0)"
    );
    let port = serve();
    let pols: Vec<_> = policies()
        .into_iter()
        .filter(|(l, _, _)| matches!(*l, "wpkh" | "tr"))
        .collect();
    let psbts: Vec<RawPsbt> = pols
        .iter()
        .map(|(_, p, _)| RawPsbt::parse(&common::fund::funded_psbt(p, 2).serialize()).unwrap())
        .collect();
    let job = json!({
        "xpub_path": "m/86'/1'/0'",
        "policies": pols.iter().zip(&psbts).map(|((label, p, register), psbt)| json!({
            "label": label, "name": p.name, "template": p.template, "keys": p.keys, "register": register,
            "psbt": raw::encode_base64(&psbt.serialize()),
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new("node")
        .arg(root.join("tests/js/ledger_js_client.mjs"))
        .arg(port.to_string())
        .current_dir(root.join("tests/js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "js client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["fingerprint"], "f5acc2fd");
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let want_xpub = me
        .xpub(
            &DerivationPath::from_str("m/86'/1'/0'").unwrap(),
            bitcoin::NetworkKind::Test,
        )
        .unwrap();
    assert_eq!(got["xpub"], want_xpub.to_string());
    let results = got["policies"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (((label, policy, _), psbt), r) in pols.iter().zip(&psbts).zip(results) {
        assert_eq!(
            r["address"],
            derive_address(policy, false, 1, bitcoin::Network::Testnet).unwrap(),
            "{label}"
        );
        assert_eq!(
            verify_signatures(psbt, r["signatures"].as_array().unwrap()),
            2,
            "{label}: both inputs signed"
        );
    }
}
