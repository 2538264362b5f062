//! The vendors' own clients judge the simulated Ledger: Ledger's Python client
//! (`ledger-bitcoin` from PyPI) over the Speculos socket, and its JS client
//! (`ledger-bitcoin@0.3.0` from npm) under node.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/peers.rs"]
mod peers;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use hwsigner::protocol::bytes::to_hex;
use hwsigner::protocol::ledger::btc::client::parse_yielded_signature;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::{self, RawPsbt};
use hwsigner::protocol::psbt::signature::{insert, Verifier};
use hwsigner::sim::ledger::serve::serve_speculos_on;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
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

/// Checks each signature a vendor client got against its sighash and puts it into the
/// PSBT; returns how many inputs got one.
fn verify_signatures(psbt: &RawPsbt, sigs: &[Value]) -> usize {
    let view = psbt.view().unwrap();
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

type Policies = Vec<(&'static str, WalletPolicy, bool)>;

/// A two-input PSBT for each policy, and the job entries that describe them.
fn sign_jobs(pols: &Policies) -> (Vec<RawPsbt>, Vec<Value>) {
    let psbts: Vec<RawPsbt> = pols
        .iter()
        .map(|(_, p, _)| RawPsbt::parse(&common::fund::funded_psbt(p, 2).serialize()).unwrap())
        .collect();
    let jobs = pols
        .iter()
        .zip(&psbts)
        .map(|((label, p, register), psbt)| {
            json!({
                "label": label, "name": p.name, "template": p.template, "keys": p.keys, "register": register,
                "psbt": raw::encode_base64(&psbt.serialize()),
            })
        })
        .collect();
    (psbts, jobs)
}

/// Runs a vendor client with `job` on its standard input; returns its JSON output.
fn run_client(mut command: Command, job: &Value) -> Value {
    let mut child = command
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
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Each policy's address is the known one (embit's), and its signatures verify.
fn check_policies(pols: &Policies, psbts: &[RawPsbt], results: &[Value]) {
    assert_eq!(results.len(), pols.len());
    for (((label, policy, register), psbt), r) in pols.iter().zip(psbts).zip(results) {
        assert_eq!(r["name"], *label);
        let (_, address) = common::known::TEST_POLICY_ADDRESSES_1
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no known address for {label}"));
        assert_eq!(r["address"], *address, "{label}");
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
fn ledgers_python_client_is_satisfied_by_the_simulator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    if !peers::installed(&python, "the venv with ledger-bitcoin") {
        return;
    }
    let pols = common::fund::test_policies();
    let (psbts, jobs) = sign_jobs(&pols);
    let job = json!({"xpub_path": "m/84'/1'/0'", "message": "hello", "message_path": "m/44'/1'/0'/0", "policies": jobs});
    let mut command = Command::new(python);
    command
        .arg(root.join("tests/python/ledger_client.py"))
        .arg(serve().to_string());
    let got = run_client(command, &job);
    assert_eq!(got["version"], json!(["Bitcoin Test", "2.4.6", "00"]));
    assert_eq!(got["fingerprint"], "f5acc2fd");
    assert_eq!(got["xpub"], common::known::SPECULOS_84_1_0);
    assert_eq!(
        got["message_signature"],
        "IL3u9GLAzgG5BdtSBqUe0Fo2Zx0UlKwSsYx2TbuVX0VULFgZYRBQCW0W7QOlsB/JgGwWNhl3eYYjXtdfyR7pM+Y="
    );
    check_policies(&pols, &psbts, got["policies"].as_array().unwrap());
}

#[test]
fn ledgers_js_client_is_satisfied_by_the_simulator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !peers::installed(
        &root.join("tests/js/node_modules/ledger-bitcoin"),
        "tests/js (ledger-bitcoin@0.3.0)",
    ) {
        return;
    }
    let pols: Policies = common::fund::test_policies()
        .into_iter()
        .filter(|(l, _, _)| matches!(*l, "wpkh" | "tr"))
        .collect();
    let (psbts, jobs) = sign_jobs(&pols);
    let job = json!({"xpub_path": "m/86'/1'/0'", "policies": jobs});
    let mut command = Command::new("node");
    command
        .arg(root.join("tests/js/ledger_js_client.mjs"))
        .arg(serve().to_string())
        .current_dir(root.join("tests/js"));
    let got = run_client(command, &job);
    assert_eq!(got["fingerprint"], "f5acc2fd");
    assert_eq!(got["xpub"], common::known::SPECULOS_86_1_0);
    check_policies(&pols, &psbts, got["policies"].as_array().unwrap());
}
