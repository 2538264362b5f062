//! `sign-psbt --replaces`: a fee bump signed on the simulated Trezor from the command
//! line gives the firmware's transaction; bad input and a Ledger are refused clearly.
#![cfg(feature = "cli")]

mod trezor_support;

use std::process::Command;

use trezor_support::features::{features_psbt, REPLACEMENT};
use trezor_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_taproot_fee_bump_from_the_command_line_is_the_firmwares_transaction() {
    let case = cases(REPLACEMENT)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_replacement::test_p2tr_fee_bump")
        .unwrap();
    let (raw, _, replaces) = features_psbt(&case);
    assert_eq!(replaces.len(), 1);
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("p2tr-fee-bump.psbt");
    std::fs::write(&file, raw.serialize()).unwrap();
    let replaced = bitcoin::consensus::encode::serialize_hex(&replaces[0].tx);
    let file = file.to_str().unwrap();
    let args = [
        "--device",
        "simulator:trezor",
        "--json",
        "sign-psbt",
        file,
        "--finalize",
        "--replaces",
        &replaced,
    ];
    let (code, out, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["tx"], case["expected_serialized_tx"], "{err}");

    // Without --replaces the device is asked for a new payment: another transaction
    // flow (and not the firmware's replacement screens), but the same bytes; with a
    // replaced transaction that is not hex, bad input before any device.
    let (code, _, err) = cli(&[
        "--device",
        "simulator:trezor",
        "sign-psbt",
        file,
        "--replaces",
        "zz",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid-input") && err.contains("replaces"),
        "{err}"
    );
    // A Ledger cannot be shown a replaced transaction.
    let (code, _, err) = cli(&[
        "--device",
        "simulator:ledger",
        "sign-psbt",
        file,
        "--replaces",
        &replaced,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unsupported"), "{err}");
}
