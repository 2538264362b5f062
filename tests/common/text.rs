//! Hex and JSON helpers every test module shares.

use serde_json::Value;

/// Bytes of a hex string.
pub fn hex(s: &str) -> Vec<u8> {
    use bitcoin::hex::FromHex;
    Vec::<u8>::from_hex(s).unwrap()
}

/// Lowercase hex of bytes.
pub fn to_hex(b: &[u8]) -> String {
    hwsigner::protocol::bytes::to_hex(b)
}

/// The cases of a JSON vector file (a list).
pub fn cases(json: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(json)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}
