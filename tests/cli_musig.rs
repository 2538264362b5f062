//! MuSig2 from the command line: two `hwsigner simulate ledger` processes (two seeds)
//! register a `tr(musig(@0,@1)/**)` policy, show its address, and sign a sample PSBT in
//! both rounds; the last signer's `--finalize` gives a transaction whose Schnorr
//! signatures verify against the BIP-341 sighash (rust-bitcoin).
#![cfg(all(feature = "cli", feature = "musig"))]

#[path = "common/simulate.rs"]
mod simulate;

use std::io::Write;
use std::process::{Command, Stdio};

use simulate::{simulate, Simulated};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{schnorr, Message, Secp256k1, XOnlyPublicKey};
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::{Transaction, TxOut};
use hwsigner::protocol::psbt::raw;
use hwsigner::sim::seed::TREZOR_TEST_MNEMONIC;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");

/// Serves a simulated Ledger (of `mnemonic`) on a free port.
fn ledger(mnemonic: Option<&str>) -> Simulated {
    match mnemonic {
        Some(m) => simulate(BIN, "ledger", &["--mnemonic", m]),
        None => simulate(BIN, "ledger", &[]),
    }
}

/// Runs `hwsigner --device DEVICE ARGS` with `stdin`; it must succeed. Its stdout lines.
fn ok(device: &str, args: &[&str], stdin: &str) -> Vec<String> {
    let mut child = Command::new(BIN)
        .args(["--device", device])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_musig2_two_of_two_signed_from_the_command_line() {
    let devices = [ledger(None), ledger(Some(TREZOR_TEST_MNEMONIC))];
    let keys: Vec<String> = devices
        .iter()
        .map(|d| {
            let fpr = ok(&d.device, &["fingerprint"], "").remove(0);
            let xpub = ok(&d.device, &["xpub", "m/87'/1'/0'"], "").remove(0);
            format!("[{fpr}/87'/1'/0']{xpub}")
        })
        .collect();
    let mut policy = vec!["--name", "MuSig", "--template", "tr(musig(@0,@1)/**)"];
    for k in &keys {
        policy.extend(["--key", k.as_str()]);
    }
    let hmacs: Vec<String> = devices
        .iter()
        .map(|d| {
            let lines = ok(&d.device, &[&["register"], policy.as_slice()].concat(), "");
            lines[1].strip_prefix("hmac ").unwrap().to_string()
        })
        .collect();
    let addresses: Vec<String> = devices
        .iter()
        .zip(&hmacs)
        .map(|(d, h)| {
            let args = [
                &["address"],
                policy.as_slice(),
                &["--hmac", h, "--index", "1", "--display"],
            ]
            .concat();
            ok(&d.device, &args, "").remove(0)
        })
        .collect();
    assert_eq!(addresses[0], addresses[1]);
    assert!(addresses[0].starts_with("tb1p"));

    let sample = ok(
        "simulator:ledger",
        &[&["sample-psbt", "--inputs", "2"], policy.as_slice()].concat(),
        "",
    )
    .remove(0);
    let mut psbt = sample.clone();
    let mut tx_hex = None;
    for (round, last) in [(0, false), (1, false), (0, false), (1, true)] {
        let mut args = [
            &["sign-psbt", "-"],
            policy.as_slice(),
            &["--hmac", &hmacs[round]],
        ]
        .concat();
        if last {
            args.push("--finalize");
        }
        let lines = ok(&devices[round].device, &args, &psbt);
        psbt = lines[0].clone();
        tx_hex = lines.get(1).cloned();
    }
    let tx: Transaction = bitcoin::consensus::encode::deserialize_hex(&tx_hex.unwrap()).unwrap();
    let funded = raw::decode(sample.as_bytes())
        .unwrap()
        .to_bitcoin()
        .unwrap();
    let prevouts: Vec<TxOut> = funded
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    let secp = Secp256k1::verification_only();
    let mut cache = SighashCache::new(&tx);
    for (i, prevout) in prevouts.iter().enumerate() {
        let key = XOnlyPublicKey::from_slice(&prevout.script_pubkey.as_bytes()[2..]).unwrap();
        let hash = cache
            .taproot_key_spend_signature_hash(
                i,
                &Prevouts::All(&prevouts),
                bitcoin::TapSighashType::Default,
            )
            .unwrap();
        let witness: Vec<&[u8]> = tx.input[i].witness.iter().collect();
        assert_eq!(witness.len(), 1);
        let sig = schnorr::Signature::from_slice(witness[0]).unwrap();
        secp.verify_schnorr(&sig, &Message::from_digest(hash.to_byte_array()), &key)
            .unwrap();
    }
}
