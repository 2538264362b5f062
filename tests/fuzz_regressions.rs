//! Every committed fuzz regression input (fuzz/regressions/<target>/*) through its
//! `hwsigner::fuzzing` function, plus fixed edge inputs for every function: none may
//! panic. A plain test: no nightly, no cargo-fuzz.

use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("ledger_framing", hwsigner::fuzzing::ledger_framing),
    ("apdu_response", hwsigner::fuzzing::apdu_response),
    ("interpreter", hwsigner::fuzzing::interpreter),
    ("merkle_proof", hwsigner::fuzzing::merkle_proof),
    ("trezor_framing", hwsigner::fuzzing::trezor_framing),
    ("trezor_messages", hwsigner::fuzzing::trezor_messages),
    ("psbt", hwsigner::fuzzing::psbt),
    ("policy", hwsigner::fuzzing::policy),
    ("path", hwsigner::fuzzing::path),
    (
        "hid_report_descriptor",
        hwsigner::fuzzing::hid_report_descriptor,
    ),
    ("sim_ledger", hwsigner::fuzzing::sim_ledger),
    ("sim_trezor", hwsigner::fuzzing::sim_trezor),
    ("trezor_sign_tx", hwsigner::fuzzing::trezor_sign_tx),
    ("thp_framing", hwsigner::fuzzing::thp_framing),
    ("thp_handshake", hwsigner::fuzzing::thp_handshake),
    ("sim_safe7", hwsigner::fuzzing::sim_safe7),
];

fn edge_inputs() -> Vec<Vec<u8>> {
    vec![vec![], vec![0], vec![0xff], vec![0; 64], vec![0xff; 300]]
}

#[test]
fn edge_inputs_never_panic() {
    let mut ran = 0;
    for (_, target) in TARGETS {
        for input in edge_inputs() {
            target(&input);
            ran += 1;
        }
    }
    assert_eq!(ran, TARGETS.len() * 5);
}

#[test]
fn regression_inputs_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut ran = 0;
    let mut found = 0;
    let dirs = std::fs::read_dir(&root).expect("fuzz/regressions exists");
    for dir in dirs {
        let dir = dir.expect("readable directory entry").path();
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let target = TARGETS
            .iter()
            .find(|(t, _)| *t == name)
            .unwrap_or_else(|| panic!("fuzz/regressions/{name}: no such fuzz target"))
            .1;
        for file in std::fs::read_dir(&dir).expect("readable target directory") {
            let file = file.expect("readable file entry").path();
            found += 1;
            let data = std::fs::read(&file).expect("readable regression input");
            target(&data);
            ran += 1;
        }
    }
    assert_eq!(ran, found);
    // One committed input per target at least (a seed or a fixed crash).
    assert!(ran >= TARGETS.len(), "ran only {ran} regression inputs");
}
