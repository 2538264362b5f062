//! Output descriptors as HWI writes and reads them (`hwilib/descriptor.py`): the
//! strings `getdescriptors` and `getkeypool` print (`wpkh([f5acc2fd/84h/0h/0h]xpub…/0/*)`
//! with HWI's checksum) and the subset `displayaddress --desc` parses (`pk`, `pkh`,
//! `wpkh`, `sh`, `wsh`, `multi`, `sortedmulti`, `tr`), with its error texts.

use bitcoin::bip32::Xpub;

use super::errors::HwiError;
use super::keys::{parse_path, path_suffix};

/// A key origin: fingerprint and path (HWI's `KeyOriginInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The master fingerprint.
    pub fingerprint: [u8; 4],
    /// The path from the master key (HWI ints).
    pub path: Vec<u64>,
}

impl Origin {
    /// `f5acc2fd/84h/0h/0h`.
    pub fn to_string_with(&self, hardened: &str) -> String {
        format!(
            "{}{}",
            crate::protocol::bytes::to_hex(&self.fingerprint),
            path_suffix(&self.path, hardened)
        )
    }

    /// `m/84h/0h/0h`.
    pub fn derivation_path(&self) -> String {
        format!("m{}", path_suffix(&self.path, "h"))
    }
}

/// A key expression (HWI's `PubkeyProvider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// `[fingerprint/path]`.
    pub origin: Option<Origin>,
    /// The key as written: hex or an extended key.
    pub pubkey: String,
    /// What follows the key (`/0/*`).
    pub deriv_path: Option<String>,
    /// The extended key, when `pubkey` is not hex.
    pub extkey: Option<Xpub>,
}

impl Key {
    /// A key with an extended key that is known to be valid.
    pub fn with_xpub(origin: Origin, xpub: &str, deriv_path: Option<String>) -> Self {
        Key {
            origin: Some(origin),
            pubkey: xpub.to_string(),
            deriv_path,
            extkey: xpub.parse().ok(),
        }
    }

    fn parse(s: &str) -> Result<Key, HwiError> {
        let mut rest = s;
        let mut origin = None;
        if rest.starts_with('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| HwiError::other("substring not found"))?;
            origin = Some(parse_origin(rest.get(1..end).unwrap_or(""))?);
            rest = rest.get(end + 1..).unwrap_or("");
        }
        let (pubkey, deriv_path) = match rest.find('/') {
            Some(i) => (
                rest.get(..i).unwrap_or(""),
                Some(rest.get(i..).unwrap_or("").to_string()),
            ),
            None => (rest, None),
        };
        let extkey = if is_hex(pubkey) {
            None
        } else {
            Some(deserialize_xpub(pubkey)?)
        };
        Ok(Key {
            origin,
            pubkey: pubkey.to_string(),
            deriv_path,
            extkey,
        })
    }

    /// The key expression.
    pub fn to_string_with(&self, hardened: &str) -> String {
        let mut s = String::new();
        if let Some(o) = &self.origin {
            s.push('[');
            s.push_str(&o.to_string_with(hardened));
            s.push(']');
        }
        s.push_str(&self.pubkey);
        if let Some(d) = &self.deriv_path {
            s.push_str(d);
        }
        s
    }

    /// HWI's `get_full_derivation_path(pos)`: origin path, then the derivation, `*`
    /// replaced by `pos`.
    pub fn full_derivation_path(&self, pos: u32) -> String {
        let mut path = match &self.origin {
            Some(o) => o.derivation_path(),
            None => "m/".to_string(),
        };
        if let Some(d) = &self.deriv_path {
            path.push_str(d);
        }
        if path.ends_with('*') {
            path.pop();
            path.push_str(&pos.to_string());
        }
        path
    }

    /// HWI's `get_pubkey_bytes(pos)`: the key derived along the derivation.
    ///
    /// # Errors
    /// A derivation HWI cannot follow (hardened steps below an xpub, bad indexes).
    pub fn pubkey_bytes(&self, pos: u32) -> Result<Vec<u8>, HwiError> {
        match (&self.extkey, &self.deriv_path) {
            (Some(x), Some(d)) => {
                let mut path_str = d.get(1..).unwrap_or("").to_string();
                if path_str.ends_with('*') {
                    path_str.pop();
                    path_str.push_str(&pos.to_string());
                }
                let path = parse_path(&path_str).map_err(HwiError::bad_argument)?;
                let secp = bitcoin::secp256k1::Secp256k1::verification_only();
                let mut key = *x;
                for i in path {
                    let child = u32::try_from(i)
                        .ok()
                        .filter(|i| *i < 0x8000_0000)
                        .ok_or_else(|| HwiError::other("Index cannot be larger than 2^31"))?;
                    key = key
                        .ckd_pub(&secp, bitcoin::bip32::ChildNumber::Normal { index: child })
                        .map_err(|e| HwiError::other(e.to_string()))?;
                }
                Ok(key.public_key.serialize().to_vec())
            }
            (Some(x), None) => Ok(x.public_key.serialize().to_vec()),
            (None, _) => super::from_hex(&self.pubkey)
                .ok_or_else(|| HwiError::other("Non-hexadecimal digit found")),
        }
    }
}

fn is_hex(s: &str) -> bool {
    s.len() % 2 == 0 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn parse_origin(s: &str) -> Result<Origin, HwiError> {
    let s = s.to_lowercase();
    let fpr_hex = s.get(..8.min(s.len())).unwrap_or("");
    let fingerprint: [u8; 4] = super::from_hex(fpr_hex)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            HwiError::other(if fpr_hex.len() % 2 == 1 {
                "Odd-length string"
            } else {
                "Non-hexadecimal digit found"
            })
        })?;
    let path = if s.contains('/') {
        parse_path(s.get(9..).unwrap_or("")).map_err(HwiError::other)?
    } else {
        Vec::new()
    };
    Ok(Origin { fingerprint, path })
}

/// HWI's `ExtendedKey.deserialize`: base58 without checking the checksum, then the
/// version magic.
///
/// # Errors
/// HWI's `BadArgumentError` texts.
pub fn deserialize_xpub(s: &str) -> Result<Xpub, HwiError> {
    const ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if let Some(c) = s.chars().find(|c| !ALPHABET.contains(*c)) {
        return Err(HwiError::bad_argument(format!(
            "Character {} is not a valid base58 character",
            super::args::py_repr(&c.to_string())
        )));
    }
    let data = bitcoin::base58::decode(s).map_err(|e| HwiError::bad_argument(e.to_string()))?;
    let body = data.get(..data.len().saturating_sub(4)).unwrap_or(&[]);
    let version = body.get(..4).unwrap_or(body);
    const VERSIONS: [[u8; 4]; 4] = [
        [0x04, 0x88, 0xb2, 0x1e],
        [0x04, 0x88, 0xad, 0xe4],
        [0x04, 0x35, 0x87, 0xcf],
        [0x04, 0x35, 0x83, 0x94],
    ];
    if !VERSIONS.iter().any(|v| v.as_slice() == version) {
        return Err(HwiError::bad_argument(format!(
            "Extended key magic of {} is invalid",
            crate::protocol::bytes::to_hex(version)
        )));
    }
    Xpub::decode(body).map_err(|e| HwiError::bad_argument(e.to_string()))
}

/// A descriptor of the forms HWI knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desc {
    /// `pk(KEY)`.
    Pk(Key),
    /// `pkh(KEY)`.
    Pkh(Key),
    /// `wpkh(KEY)`.
    Wpkh(Key),
    /// `multi(k, ...)` / `sortedmulti(k, ...)`: sorted keys are kept sorted by their
    /// string, as HWI does.
    Multi {
        /// Threshold.
        thresh: u32,
        /// Keys.
        keys: Vec<Key>,
        /// `sortedmulti`.
        sorted: bool,
    },
    /// `sh(...)`.
    Sh(Box<Desc>),
    /// `wsh(...)`.
    Wsh(Box<Desc>),
    /// `tr(KEY[, tree])`.
    Tr {
        /// Internal key.
        internal: Key,
        /// Leaf descriptors.
        leaves: Vec<Desc>,
        /// Their depths.
        depths: Vec<usize>,
    },
}

impl Desc {
    /// The string without checksum (`h` for hardened steps).
    pub fn to_string_no_checksum(&self) -> String {
        let key = |k: &Key| k.to_string_with("h");
        match self {
            Desc::Pk(k) => format!("pk({})", key(k)),
            Desc::Pkh(k) => format!("pkh({})", key(k)),
            Desc::Wpkh(k) => format!("wpkh({})", key(k)),
            Desc::Multi {
                thresh,
                keys,
                sorted,
            } => format!(
                "{}({thresh},{})",
                if *sorted { "sortedmulti" } else { "multi" },
                keys.iter().map(key).collect::<Vec<_>>().join(",")
            ),
            Desc::Sh(d) => format!("sh({})", d.to_string_no_checksum()),
            Desc::Wsh(d) => format!("wsh({})", d.to_string_no_checksum()),
            Desc::Tr {
                internal,
                leaves,
                depths,
            } => {
                let mut r = format!("tr({}", key(internal));
                let mut path: Vec<bool> = Vec::new();
                for (leaf, depth) in leaves.iter().zip(depths) {
                    r.push(',');
                    while path.len() <= *depth {
                        if !path.is_empty() {
                            r.push('{');
                        }
                        path.push(false);
                    }
                    r.push_str(&leaf.to_string_no_checksum());
                    while path.last() == Some(&true) {
                        r.push('}');
                        path.pop();
                    }
                    if let Some(last) = path.last_mut() {
                        *last = true;
                    }
                }
                r.push(')');
                r
            }
        }
    }

    /// The string with HWI's checksum.
    pub fn to_string_with_checksum(&self) -> String {
        let s = self.to_string_no_checksum();
        let c = checksum(&s);
        format!("{s}#{c}")
    }
}

/// HWI's `DescriptorChecksum` (empty for a character outside the descriptor charset).
pub fn checksum(desc: &str) -> String {
    crate::protocol::policy::checksum::checksum(desc).unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    P2sh,
    P2wsh,
    P2tr,
}

fn value_error(s: impl Into<String>) -> HwiError {
    HwiError::other(s)
}

/// Parses `desc`, checking its checksum when it has one.
///
/// # Errors
/// HWI's `ValueError` texts (code -13 in `displayaddress`), its `BadArgumentError`s
/// for bad extended keys.
pub fn parse(desc: &str) -> Result<Desc, HwiError> {
    let body = match desc.find('#') {
        Some(i) => {
            let given = desc.get(i + 1..).unwrap_or("");
            let body = desc.get(..i).unwrap_or("");
            let computed = checksum(body);
            if computed != given {
                return Err(value_error(format!(
                    "The checksum does not match; Got {given}, expected {computed}"
                )));
            }
            body
        }
        None => desc,
    };
    parse_in(body, Ctx::Top)
}

fn func_expr(s: &str) -> Result<(&str, &str), HwiError> {
    let none = || value_error("A matching pair of parentheses cannot be found");
    let start = s.find('(').ok_or_else(none)?;
    let end = s.rfind(')').ok_or_else(none)?;
    Ok((
        s.get(..start).unwrap_or(""),
        s.get(start + 1..end).unwrap_or(""),
    ))
}

fn parse_key(expr: &str) -> Result<(Key, &str), HwiError> {
    match expr.find(',') {
        Some(i) => Ok((
            Key::parse(expr.get(..i).unwrap_or(""))?,
            expr.get(i + 1..).unwrap_or(""),
        )),
        None => Ok((Key::parse(expr)?, "")),
    }
}

/// HWI's `_get_expr`: up to the first `,` `)` or `}` outside brackets.
fn get_expr(s: &str) -> (&str, &str) {
    let mut level = 0u32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '{' => level += 1,
            ')' | '}' if level > 0 => level -= 1,
            ')' | '}' | ',' if level == 0 => {
                return (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or(""));
            }
            _ => {}
        }
    }
    (s, "")
}

fn expect_const(s: &str, c: char) -> Result<&str, HwiError> {
    match s.chars().next() {
        Some(first) if first == c => Ok(s.get(first.len_utf8()..).unwrap_or("")),
        Some(first) => Err(value_error(format!("Expected '{c}' but got '{first}'"))),
        None => Err(value_error("string index out of range")),
    }
}

fn parse_in(desc: &str, ctx: Ctx) -> Result<Desc, HwiError> {
    let (func, expr) = func_expr(desc)?;
    match func {
        "pk" => {
            let (key, rest) = parse_key(expr)?;
            if !rest.is_empty() {
                return Err(value_error("more than one pubkey in pk descriptor"));
            }
            Ok(Desc::Pk(key))
        }
        "pkh" => {
            if ctx == Ctx::P2tr {
                return Err(value_error(
                    "Can only have pkh at top level, in sh(), or in wsh()",
                ));
            }
            let (key, rest) = parse_key(expr)?;
            if !rest.is_empty() {
                return Err(value_error("More than one pubkey in pkh descriptor"));
            }
            Ok(Desc::Pkh(key))
        }
        "multi" | "sortedmulti" => {
            if ctx == Ctx::P2tr {
                return Err(value_error(
                    "Can only have multi/sortedmulti at top level, in sh(), or in wsh()",
                ));
            }
            let comma = expr
                .find(',')
                .ok_or_else(|| value_error("substring not found"))?;
            let thresh_text = expr.get(..comma).unwrap_or("");
            let thresh = super::args::py_int(thresh_text).ok_or_else(|| {
                value_error(format!(
                    "invalid literal for int() with base 10: {}",
                    super::args::py_repr(thresh_text)
                ))
            })?;
            let mut rest = expr.get(comma + 1..).unwrap_or("");
            let mut keys = Vec::new();
            while !rest.is_empty() {
                let (key, r) = parse_key(rest)?;
                keys.push(key);
                rest = r;
            }
            let n = keys.len() as i64;
            if n == 0 || n > 16 {
                return Err(value_error(format!("Cannot have {n} keys in a multisig; must have between 1 and 16 keys, inclusive")));
            } else if thresh < 1 {
                return Err(value_error(format!(
                    "Multisig threshold cannot be {thresh}, must be at least 1"
                )));
            } else if thresh > n {
                return Err(value_error(format!("Multisig threshold cannot be larger than the number of keys; threshold is {thresh} but only {n} keys specified")));
            }
            if ctx == Ctx::Top && n > 3 {
                return Err(value_error(
                    "Cannot have {} pubkeys in bare multisig: only at most 3 pubkeys",
                ));
            }
            let sorted = func == "sortedmulti";
            if sorted {
                keys.sort_by(|a, b| a.pubkey.cmp(&b.pubkey));
            }
            Ok(Desc::Multi {
                thresh: thresh as u32,
                keys,
                sorted,
            })
        }
        "wpkh" => {
            if !matches!(ctx, Ctx::Top | Ctx::P2sh) {
                return Err(value_error(
                    "Can only have wpkh() at top level or inside sh()",
                ));
            }
            let (key, rest) = parse_key(expr)?;
            if !rest.is_empty() {
                return Err(value_error("More than one pubkey in pkh descriptor"));
            }
            Ok(Desc::Wpkh(key))
        }
        "sh" => {
            if ctx != Ctx::Top {
                return Err(value_error("Can only have sh() at top level"));
            }
            Ok(Desc::Sh(Box::new(parse_in(expr, Ctx::P2sh)?)))
        }
        "wsh" => {
            if !matches!(ctx, Ctx::Top | Ctx::P2sh) {
                return Err(value_error(
                    "Can only have wsh() at top level or inside sh()",
                ));
            }
            Ok(Desc::Wsh(Box::new(parse_in(expr, Ctx::P2wsh)?)))
        }
        "tr" => {
            if ctx != Ctx::Top {
                return Err(value_error("Can only have tr at top level"));
            }
            let (internal, mut rest) = parse_key(expr)?;
            let mut leaves = Vec::new();
            let mut depths = Vec::new();
            if !rest.is_empty() {
                let mut branches: Vec<bool> = Vec::new();
                loop {
                    while let Ok(r) = expect_const(rest, '{') {
                        rest = r;
                        branches.push(false);
                        if branches.len() > 128 {
                            return Err(value_error(
                                "tr() supports at most {MAX_TAPROOT_NODES} nesting levels",
                            ));
                        }
                    }
                    let (sarg, r) = get_expr(rest);
                    rest = r;
                    leaves.push(parse_in(sarg, Ctx::P2tr)?);
                    depths.push(branches.len());
                    while branches.last() == Some(&true) {
                        rest = expect_const(rest, '}')?;
                        branches.pop();
                    }
                    if branches.last() == Some(&false) {
                        rest = expect_const(rest, ',')?;
                        if let Some(last) = branches.last_mut() {
                            *last = true;
                        }
                    }
                    if branches.is_empty() {
                        break;
                    }
                }
            }
            Ok(Desc::Tr {
                internal,
                leaves,
                depths,
            })
        }
        _ => Err(value_error(match ctx {
            Ctx::P2sh => "A function is needed within P2SH".to_string(),
            Ctx::P2wsh => "A function is needed within P2WSH".to_string(),
            _ => format!("{func} is not a valid descriptor function"),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TPUB: &str = "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";

    #[test]
    fn checksums_as_hwi() {
        // From HWI's getdescriptors on the simulated Ledger.
        let d = "pkh([f5acc2fd/44h/0h/0h]tpubDCxNf8xUBHcNgrqDGB4ZivMxoGcX4pEJETcdBZUTumd89XkuzsTu8HfyoaWWH1kYaudM9EBkcmXogn2EAmEu6RrcNmtitvAgiVNt7AEcAZh/0/*)";
        assert_eq!(checksum(d), "0fpp76j2");
        assert_eq!(checksum("é"), "");
    }

    #[test]
    fn parses_and_prints() {
        let text = format!("sh(wpkh([F5ACC2FD/84'/1h/0h]{TPUB}/0/*))");
        let d = parse(&text).unwrap();
        let Desc::Sh(inner) = &d else { panic!() };
        let Desc::Wpkh(k) = inner.as_ref() else {
            panic!()
        };
        assert_eq!(k.full_derivation_path(7), "m/84h/1h/0h/0/7");
        assert_eq!(k.pubkey_bytes(0).unwrap().len(), 33);
        assert_eq!(
            d.to_string_no_checksum(),
            format!("sh(wpkh([f5acc2fd/84h/1h/0h]{TPUB}/0/*))")
        );
        let with = d.to_string_with_checksum();
        assert_eq!(parse(&with).unwrap(), d);
        assert!(parse(&format!("{with}x"))
            .unwrap_err()
            .message
            .starts_with("The checksum does not match"));
        assert_eq!(
            parse("foo(x)").unwrap_err().message,
            "foo is not a valid descriptor function"
        );
        assert_eq!(
            parse("wpkh(xpubNOPE)").unwrap_err().code,
            super::super::errors::BAD_ARGUMENT
        );
        let tr = parse(&format!("tr({TPUB},{{pk({TPUB}),pk({TPUB})}})")).unwrap();
        assert_eq!(
            tr.to_string_no_checksum(),
            format!("tr({TPUB},{{pk({TPUB}),pk({TPUB})}})")
        );
    }
}
