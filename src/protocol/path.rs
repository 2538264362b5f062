//! BIP-32 paths from text: `m/84'/0'/0'/0/5` or `84h/0h/0h`, checked up front with
//! errors that say what is wrong.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath};

use crate::error::{Error, Result};

/// The deepest path the devices accept (the Ledger Bitcoin app takes 10 steps).
pub const MAX_DEPTH: usize = 10;

/// Purposes whose first three steps must be hardened: BIP-44/48/49/84/86.
pub const STANDARD_PURPOSES: [u32; 5] = [44, 48, 49, 84, 86];

fn bad(text: &str, why: impl core::fmt::Display) -> Error {
    Error::invalid("path", format!("{text:?}: {why}"))
}

/// Parses and checks a path.
///
/// Accepts an optional leading `m/`, hardened steps written `'` or `h`, indexes below
/// 2^31. Rejects empty steps, deeper than [`MAX_DEPTH`] paths, and standard purposes
/// (44, 48, 49, 84, 86) whose purpose, coin type or account is not hardened.
///
/// # Errors
/// `invalid-input` (field `path`) saying which step is wrong and why.
pub fn parse(text: &str) -> Result<DerivationPath> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("m/")
        .or_else(|| trimmed.strip_prefix("M/"))
        .unwrap_or(trimmed);
    if body.is_empty() || body == "m" || body == "M" {
        return Ok(DerivationPath::master());
    }
    let mut steps = Vec::new();
    for (i, text_step) in body.split('/').enumerate() {
        let n = i + 1;
        steps.push(step(text_step).map_err(|e| match e {
            StepError::NotANumber => bad(
                text,
                format!("step {n} ({text_step:?}) is not a number with an optional ' or h"),
            ),
            StepError::TooLarge => bad(text, format!("step {n} is too large")),
            StepError::NotBelow2To31(index) => {
                bad(text, format!("step {n} ({index}) must be below 2^31"))
            }
        })?);
    }
    if steps.len() > MAX_DEPTH {
        return Err(bad(
            text,
            format!(
                "depth {} is over the {MAX_DEPTH} the devices accept",
                steps.len()
            ),
        ));
    }
    check_standard(text, &steps)?;
    Ok(DerivationPath::from(steps))
}

/// Why one step of a path did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepError {
    /// Not digits with an optional `'`, `h` or `H`.
    NotANumber,
    /// Over `u32::MAX`.
    TooLarge,
    /// An index of 2^31 or more (which BIP-32 writes hardened).
    NotBelow2To31(u32),
}

/// One step of a path: `5`, or hardened `5'`, `5h` or `5H`.
///
/// # Errors
/// A [`StepError`] saying what is wrong.
pub fn step(text: &str) -> core::result::Result<ChildNumber, StepError> {
    let (digits, hardened) = match text.strip_suffix(['\'', 'h', 'H']) {
        Some(d) => (d, true),
        None => (text, false),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StepError::NotANumber);
    }
    let index: u32 = digits.parse().map_err(|_| StepError::TooLarge)?;
    let child = if hardened {
        ChildNumber::from_hardened_idx(index)
    } else {
        ChildNumber::from_normal_idx(index)
    };
    child.map_err(|_| StepError::NotBelow2To31(index))
}

fn check_standard(text: &str, steps: &[ChildNumber]) -> Result<()> {
    let purpose = match steps.first() {
        Some(ChildNumber::Normal { index }) if STANDARD_PURPOSES.contains(index) => {
            return Err(bad(
                text,
                format!("purpose {index} must be hardened ({index}')"),
            ));
        }
        Some(ChildNumber::Hardened { index }) if STANDARD_PURPOSES.contains(index) => *index,
        _ => return Ok(()),
    };
    for (i, name) in [(1, "coin type"), (2, "account")] {
        if let Some(ChildNumber::Normal { index }) = steps.get(i) {
            return Err(bad(
                text,
                format!("the {name} of a bip-{purpose} path must be hardened ({index}')"),
            ));
        }
    }
    Ok(())
}

/// Formats a path the ecosystem's way: `m/84'/0'/0'/0/5`.
pub fn format(path: &DerivationPath) -> String {
    let mut out = String::from("m");
    for step in path {
        match step {
            ChildNumber::Normal { index } => out.push_str(&format!("/{index}")),
            ChildNumber::Hardened { index } => out.push_str(&format!("/{index}'")),
        }
    }
    out
}

/// Parses a path without the standard-purpose check (for keys the caller knows).
///
/// # Errors
/// `invalid-input` when it does not parse.
pub fn parse_any(text: &str) -> Result<DerivationPath> {
    DerivationPath::from_str(text.trim()).map_err(|e| bad(text, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_hardened_notations() {
        let a = parse("m/84'/0'/0'/0/5").unwrap();
        assert_eq!(parse("84h/0h/0h/0/5").unwrap(), a);
        assert_eq!(format(&a), "m/84'/0'/0'/0/5");
        assert_eq!(parse("m").unwrap(), DerivationPath::master());
        assert_eq!(format(&parse("m/0/1").unwrap()), "m/0/1");
    }

    #[test]
    fn says_what_is_wrong() {
        let cases = [
            ("m/84'/x/0'", "step 2 (\"x\") is not a number"),
            ("m/84'//0'", "step 2 (\"\") is not a number"),
            ("m/2147483648", "step 1 (2147483648) must be below 2^31"),
            ("m/99999999999", "step 1 is too large"),
            ("m/84/0'/0'", "purpose 84 must be hardened (84')"),
            (
                "m/44'/0/0'",
                "the coin type of a bip-44 path must be hardened (0')",
            ),
            (
                "m/86'/0'/0/0/0",
                "the account of a bip-86 path must be hardened (0')",
            ),
            ("m/0/0/0/0/0/0/0/0/0/0/0", "depth 11 is over the 10"),
        ];
        for (text, why) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.code(), "invalid-input");
            assert!(e.to_string().contains(why), "{text}: {e}");
            assert!(e.to_string().starts_with("invalid path:"), "{e}");
        }
    }

    #[test]
    fn one_step() {
        assert_eq!(step("5"), Ok(ChildNumber::Normal { index: 5 }));
        for hardened in ["5'", "5h", "5H"] {
            assert_eq!(step(hardened), Ok(ChildNumber::Hardened { index: 5 }));
        }
        for bad in ["", "'", "+5", "-1", "5''", "x"] {
            assert_eq!(step(bad), Err(StepError::NotANumber), "{bad:?}");
        }
        assert_eq!(step("4294967296"), Err(StepError::TooLarge));
        assert_eq!(
            step("2147483648'"),
            Err(StepError::NotBelow2To31(2_147_483_648))
        );
    }
}
