//! Paths and extended keys as HWI reads and prints them: its `parse_path` (`m/84h/0'/-1`
//! all parse), the origin strings it writes (`84h/0h/0h`), its standard-path test,
//! `ledger_bitcoin`'s own path parser, and `getxpub --expert`'s decoded fields.

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpub};

use super::args::{py_int, py_repr, AddrType, Chain};
use super::errors::HwiError;
use super::json::Value;

/// The hardened bit.
pub const HARDENED: u64 = 0x8000_0000;

/// HWI's `parse_path`: `m/` optional, `h`, `'` or a leading `-` harden. Indexes are
/// kept as HWI's unbounded ints (in a `u64`; the hardened bit is OR-ed in).
///
/// # Errors
/// HWI's `ValueError("Invalid BIP32 path", path)` text.
pub fn parse_path(path: &str) -> Result<Vec<u64>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.first() == Some(&"m") {
        parts.remove(0);
    }
    let invalid = || format!("('Invalid BIP32 path', {})", py_repr(path));
    parts
        .iter()
        .map(|p| {
            let index = |s: &str| py_int(s).map(i64::unsigned_abs).ok_or_else(invalid);
            if p.starts_with('-') {
                Ok(index(p)? | HARDENED)
            } else if let Some(base) = p.strip_suffix('h').or_else(|| p.strip_suffix('\'')) {
                let n = py_int(base).ok_or_else(invalid)?;
                Ok(u64::try_from(n).map_err(|_| invalid())? | HARDENED)
            } else {
                let n = py_int(p).ok_or_else(invalid)?;
                // A negative index without a leading `-` cannot occur (py_int needs it).
                u64::try_from(n).map_err(|_| invalid())
            }
        })
        .collect()
}

/// A parsed path as the device takes it.
///
/// # Errors
/// An index over 32 bits.
pub fn to_derivation(path: &[u64]) -> Result<DerivationPath, HwiError> {
    path.iter()
        .map(|i| {
            u32::try_from(*i)
                .map(ChildNumber::from)
                .map_err(|_| HwiError::other(format!("Value out of range: {i}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(DerivationPath::from)
}

/// HWI's `_path_string`: `/84h/0h/0h` (`hardened` is `h` or `'`).
pub fn path_suffix(path: &[u64], hardened: &str) -> String {
    let mut s = String::new();
    for i in path {
        s.push('/');
        s.push_str(&(i & !HARDENED).to_string());
        if i & HARDENED != 0 {
            s.push_str(hardened);
        }
    }
    s
}

/// `m/84h/0h/0h`.
pub fn path_string(path: &[u64]) -> String {
    format!("m{}", path_suffix(path, "h"))
}

/// HWI's `is_standard_path`: `purpose'/coin'/account'/change/index` with the purpose
/// of `addr_type`, the coin of `chain` and change 0 or 1.
pub fn is_standard_path(path: &[u64], addr_type: AddrType, chain: Chain) -> bool {
    let [purpose, coin, account, change, index] = path else {
        return false;
    };
    let hardened = |i: &u64| i & HARDENED != 0;
    hardened(purpose)
        && hardened(coin)
        && hardened(account)
        && !hardened(change)
        && !hardened(index)
        && *purpose == u64::from(addr_type.purpose()) | HARDENED
        && *coin == u64::from(chain.coin_type()) | HARDENED
        && *change <= 1
}

/// `ledger_bitcoin`'s path parser, after HWI turned `h` (and with `upper_h`, `H`)
/// into `'`: `m/` optional, `'` hardens, each index a Python int of 32 bits.
///
/// # Errors
/// The `ValueError` of `int()` (code -7 through HWI's Ledger wrapper) or the
/// `OverflowError` of a negative or too large index (code -13).
pub fn ledger_path(path: &str, upper_h: bool) -> Result<DerivationPath, HwiError> {
    let path = if upper_h {
        path.replace(['h', 'H'], "'")
    } else {
        path.replace('h', "'")
    };
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.first() == Some(&"m") {
        parts.remove(0);
    }
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let (digits, hardened) = match p.contains('\'') {
            true => (p.get(..p.len().saturating_sub(1)).unwrap_or(""), true),
            false => (p, false),
        };
        let n = py_int(digits).ok_or_else(|| {
            HwiError::bad_argument(format!(
                "invalid literal for int() with base 10: {}",
                py_repr(digits)
            ))
        })?;
        let value = if hardened { n | 0x8000_0000 } else { n };
        let value = u32::try_from(value).map_err(|_| {
            HwiError::other(if value < 0 {
                "can't convert negative int to unsigned"
            } else {
                "int too big to convert"
            })
        })?;
        out.push(ChildNumber::from(value));
    }
    Ok(DerivationPath::from(out))
}

/// `getxpub --expert`: the xpub and its decoded fields, in HWI's order.
pub fn expert_fields(xpub: &Xpub, testnet: bool) -> Vec<(String, Value)> {
    let hex = |b: &[u8]| crate::protocol::bytes::to_hex(b);
    vec![
        ("testnet".into(), Value::Bool(testnet)),
        ("private".into(), Value::Bool(false)),
        ("depth".into(), Value::Int(i64::from(xpub.depth))),
        (
            "parent_fingerprint".into(),
            Value::str(hex(xpub.parent_fingerprint.as_bytes())),
        ),
        (
            "child_num".into(),
            Value::Int(i64::from(u32::from(xpub.child_number))),
        ),
        (
            "chaincode".into(),
            Value::str(hex(xpub.chain_code.as_bytes())),
        ),
        (
            "pubkey".into(),
            Value::str(hex(&xpub.public_key.serialize())),
        ),
    ]
}

/// An xpub as a string in the given network's version (tpub on test networks).
pub fn xpub_string(xpub: &Xpub, testnet: bool) -> String {
    let mut x = *xpub;
    x.network = if testnet {
        bitcoin::NetworkKind::Test
    } else {
        bitcoin::NetworkKind::Main
    };
    x.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwi_paths() {
        assert_eq!(
            parse_path("m/84h/0'/-1/2").unwrap(),
            [84 | HARDENED, HARDENED, 1 | HARDENED, 2]
        );
        assert_eq!(parse_path("m").unwrap(), Vec::<u64>::new());
        assert_eq!(
            parse_path("m/x").unwrap_err(),
            "('Invalid BIP32 path', 'm/x')"
        );
        assert_eq!(path_string(&[84 | HARDENED, 1, 0]), "m/84h/1/0");
        assert!(is_standard_path(
            &parse_path("m/84h/1h/0h/1/5").unwrap(),
            AddrType::Wit,
            Chain::Test
        ));
        assert!(!is_standard_path(
            &parse_path("m/84h/1h/0h/2/5").unwrap(),
            AddrType::Wit,
            Chain::Test
        ));
        assert_eq!(
            ledger_path("m/84h/0'/5", true).unwrap().to_string(),
            "84'/0'/5"
        );
        assert_eq!(
            ledger_path("m/x", true).unwrap_err().message,
            "invalid literal for int() with base 10: 'x'"
        );
    }
}
