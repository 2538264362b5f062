//! Every committed fuzz regression input (fuzz/regressions/<target>/*) through its
//! `hwsigner::fuzzing` function, plus fixed edge inputs for every function, plus valid
//! inputs built here that reach each round-trip property of `hwsigner::fuzzing`
//! (framing, APDU replies, Trezor messages, PSBTs, paths, Merkle proofs): none may
//! panic, and a broken property panics. A plain test: no nightly, no cargo-fuzz.

#![cfg(not(target_arch = "wasm32"))]

mod common;

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
    for (_, target) in TARGETS {
        for input in edge_inputs() {
            target(&input);
        }
    }
}

/// Length-prefixed records, as `hwsigner::fuzzing` splits its input.
fn records(items: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        out.push(u8::try_from(item.len()).unwrap());
        out.extend_from_slice(item);
    }
    out
}

/// Ledger HID reports of `message`, framed here by hand: channel 0x0101, tag 0x05,
/// sequence number, then (in the first) the 16-bit length.
fn ledger_reports(message: &[u8]) -> Vec<u8> {
    let mut data = u16::try_from(message.len()).unwrap().to_be_bytes().to_vec();
    data.extend_from_slice(message);
    let mut out = Vec::new();
    for (seq, chunk) in data.chunks(59).enumerate() {
        out.extend_from_slice(&[0x01, 0x01, 0x05]);
        out.extend_from_slice(&u16::try_from(seq).unwrap().to_be_bytes());
        out.extend_from_slice(chunk);
        out.resize(out.len() + 59 - chunk.len(), 0);
    }
    out
}

/// Trezor codec v1 packets of a message, framed here by hand: `?##`, type, length, then
/// continuations marked `?`.
fn trezor_packets(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut data = b"##".to_vec();
    data.extend_from_slice(&ty.to_be_bytes());
    data.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    data.extend_from_slice(payload);
    let mut out = Vec::new();
    for chunk in data.chunks(63) {
        out.push(b'?');
        out.extend_from_slice(chunk);
        out.resize(out.len() + 63 - chunk.len(), 0);
    }
    out
}

/// Well-formed inputs: each gets past its decoder, so its round trip is checked.
#[test]
fn valid_inputs_keep_their_round_trip_properties() {
    // A 300-byte APDU reply over six HID reports; the reply itself.
    let reply: Vec<u8> = (0..300u16)
        .map(|i| (i % 251) as u8)
        .chain([0x90, 0])
        .collect();
    let reports = ledger_reports(&reply);
    assert_eq!(reports.len(), 6 * 64);
    hwsigner::fuzzing::ledger_framing(&reports);
    hwsigner::fuzzing::apdu_response(&reply);
    // A PublicKey message (type 12), its protobuf written here by hand: field 2, the
    // xpub string.
    let xpub = common::known::TREZOR_84_1_0.as_bytes();
    let mut payload = vec![0x12, u8::try_from(xpub.len()).unwrap()];
    payload.extend_from_slice(xpub);
    let ty = 12u16;
    hwsigner::fuzzing::trezor_framing(&trezor_packets(ty, &payload));
    let mut whole = ty.to_be_bytes().to_vec();
    whole.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    whole.extend_from_slice(&payload);
    hwsigner::fuzzing::trezor_framing(&whole);
    hwsigner::fuzzing::trezor_messages(&payload);
    // Merkle: size 5, index 3, a leaf and no proof; then the five elements.
    let elements: [&[u8]; 5] = [b"a", b"bb", b"ccc", b"dddd", b"eeeee"];
    let mut merkle = vec![0, 5, 0, 3];
    merkle.extend(records(&elements));
    hwsigner::fuzzing::merkle_proof(&merkle);
    // A PSBT of the recordings, and paths.
    let psbt = common::cases(common::SIGN_PSBT)[1]["psbt"]
        .as_str()
        .unwrap()
        .to_string();
    hwsigner::fuzzing::psbt(psbt.as_bytes());
    hwsigner::fuzzing::path(b"m/48'/1'/0'/2'/0/7");
    hwsigner::fuzzing::path(b"m/84h/0h/0h");
}

#[test]
fn regression_inputs_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
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
            let data = std::fs::read(&file).expect("readable regression input");
            target(&data);
        }
    }
    // One committed input per target at least (a seed or a fixed crash).
    for (name, _) in TARGETS {
        let inputs = std::fs::read_dir(root.join(name))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(inputs > 0, "fuzz/regressions/{name}: no committed input");
    }
}
