//! The byte-level pieces of HWI's PSBT code: Python's lenient base64, compact sizes,
//! strings that may end short, and the key-value pairs of a map.

use super::{ser_error, Origin};
use crate::cli::hwi::errors::HwiError;
use crate::protocol::bytes::write_varint;

/// Python's lenient `base64.b64decode`: characters outside the alphabet are skipped.
///
/// # Errors
/// `binascii.Error` texts (code -13).
pub fn b64decode(text: &str) -> Result<Vec<u8>, HwiError> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut data: Vec<u8> = Vec::new();
    let mut pads = 0usize;
    for b in text.trim().bytes() {
        if b == b'=' {
            pads += 1;
            if (data.len() + pads) % 4 == 0 || data.len() % 4 == 0 && pads > 0 {
                // Python stops at the padding that completes a quad.
                if (data.len() + pads) % 4 == 0 {
                    break;
                }
            }
            continue;
        }
        if let Some(v) = ALPHABET.iter().position(|a| *a == b) {
            if pads > 0 {
                pads = 0;
            }
            data.push(v as u8);
        }
    }
    if data.len() % 4 == 1 {
        return Err(HwiError::other(format!(
            "Invalid base64-encoded string: number of data characters ({}) cannot be 1 more than a multiple of 4",
            data.len()
        )));
    }
    if data.len() % 4 != 0 && (data.len() + pads) % 4 != 0 {
        return Err(HwiError::other("Incorrect padding"));
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | (u32::from(*d) << (18 - 6 * i)));
        let bytes = v.to_be_bytes();
        out.extend_from_slice(bytes.get(1..chunk.len()).unwrap_or(&[]));
    }
    Ok(out)
}

/// Standard base64 with padding.
pub fn b64encode(bytes: &[u8]) -> String {
    crate::protocol::psbt::raw::encode_base64(bytes)
}

/// Reads one map's key-value pairs as HWI's loop does: the map ends at an empty key or
/// where the bytes end.
pub(super) fn read_pairs(data: &[u8], pos: &mut usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pairs = Vec::new();
    while let Some(key) = read_string(data, pos) {
        if key.is_empty() {
            break;
        }
        let value = read_string(data, pos).unwrap_or_default();
        pairs.push((key, value));
    }
    pairs
}

pub(super) fn read_compact(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    *pos += 1;
    let n = match first {
        0xfd => 2,
        0xfe => 4,
        0xff => 8,
        v => return Some(u64::from(v)),
    };
    let bytes = data.get(*pos..*pos + n)?;
    *pos += n;
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(*b) << (8 * i);
    }
    Some(v)
}

/// `deser_string`: a length then up to that many bytes (Python's read is short at the
/// end, never an error).
pub(super) fn read_string(data: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let n = usize::try_from(read_compact(data, pos)?).ok()?;
    let end = pos.saturating_add(n).min(data.len());
    let s = data.get(*pos..end)?.to_vec();
    *pos = end;
    Some(s)
}

pub(super) fn key_type(key: &[u8]) -> u64 {
    let mut p = 0;
    read_compact(key, &mut p).unwrap_or(0)
}

pub(super) fn u32_value(v: &[u8], what: &str) -> Result<u32, HwiError> {
    let b: [u8; 4] = v.try_into().map_err(|_| ser_error(what.to_string()))?;
    Ok(u32::from_le_bytes(b))
}

pub(super) fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

pub(super) fn write_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    write_string(out, key);
    write_string(out, value);
}

pub(super) fn read_tap_origin(value: &[u8]) -> (Vec<Vec<u8>>, Origin) {
    let mut p = 0;
    let n = read_compact(value, &mut p).unwrap_or(0);
    let mut hashes: Vec<Vec<u8>> = Vec::new();
    for _ in 0..n {
        let end = (p + 32).min(value.len());
        let h = value.get(p..end).unwrap_or(&[]).to_vec();
        p = end;
        if !hashes.contains(&h) {
            hashes.push(h);
        }
    }
    (hashes, Origin::read(value.get(p..).unwrap_or(&[])))
}

pub(super) fn write_tap_origin(hashes: &[Vec<u8>], origin: &Origin) -> Vec<u8> {
    let mut v = Vec::new();
    write_varint(&mut v, hashes.len() as u64);
    for h in hashes {
        v.extend_from_slice(h);
    }
    v.extend_from_slice(&origin.write());
    v
}

pub(super) fn hd_keypath(
    key: &[u8],
    value: &[u8],
    paths: &mut Vec<(Vec<u8>, Origin)>,
    sizes: &[usize],
) -> Result<(), HwiError> {
    if !sizes.contains(&key.len()) {
        return Err(ser_error(format!("Size of key was not the expected size for the type partial signature pubkey. Length: {}", key.len())));
    }
    let pubkey = key.get(1..).unwrap_or(&[]).to_vec();
    if paths.iter().any(|(k, _)| *k == pubkey) {
        return Err(ser_error(
            "Duplicate key, input partial signature for pubkey already provided",
        ));
    }
    paths.push((pubkey, Origin::read(value)));
    Ok(())
}

pub(super) fn sorted<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(key);
    v
}
