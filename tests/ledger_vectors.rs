//! Every recorded exchange in tests/vectors/ledger replays byte for byte.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use futures::executor::block_on;

#[test]
fn all_fifteen_recorded_cases_replay_byte_for_byte() {
    let cases = common::all_cases();
    assert_eq!(cases.len(), 15);
    let mut failures = Vec::new();
    for (i, (file, case)) in cases.iter().enumerate() {
        if let Err(e) = block_on(common::replay(file, case)) {
            failures.push(format!("case {i} ({file} {:?}): {e}", case.get("name")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 15 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_changed_reply_is_caught() {
    // The xpub reply altered by one character must not be accepted as the recorded one.
    let mut case = common::cases(common::GET_EXTENDED_PUBKEY)[0].clone();
    let line = case["exchanges"][1]
        .as_str()
        .unwrap()
        .replacen("7870756236", "7870756237", 1);
    case["exchanges"][1] = serde_json::Value::String(line);
    assert!(block_on(common::replay("get_extended_pubkey", &case)).is_err());
}
