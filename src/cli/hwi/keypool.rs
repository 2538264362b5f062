//! `getkeypool` and `getdescriptors`: the descriptors of standard accounts (or of a
//! path ending in `/*`) as HWI builds them, for Bitcoin Core to import.

use bitcoin::bip32::Fingerprint;

use super::args::AddrType;
use super::client::Client;
use super::commands::{can_sign_taproot, master_fingerprint, xpub_at};
use super::descriptor::{Desc, Key, Origin};
use super::errors::{self, HwiError};
use super::json::Value;
use super::keys::{self, HARDENED};

/// `getkeypool`: one import object per descriptor.
///
/// # Errors
/// HWI's path and taproot errors; the device's.
#[allow(clippy::too_many_arguments)]
pub fn getkeypool(
    client: &mut Client,
    path: Option<&str>,
    start: i64,
    end: i64,
    internal: bool,
    keypool: bool,
    account: i64,
    addr_type: AddrType,
    all: bool,
) -> Result<Value, HwiError> {
    let taproot = can_sign_taproot(client)?;
    let mut types = if all {
        AddrType::ALL.to_vec()
    } else {
        vec![addr_type]
    };
    if !all && !taproot && addr_type == AddrType::Tap {
        return Err(HwiError::unavailable("Device does not support Taproot"));
    }
    if !taproot {
        types.retain(|t| *t != AddrType::Tap);
    }
    let mut chains = Vec::new();
    if path.is_none() && !internal {
        for t in types {
            for internal in [false, true] {
                chains.push(keypool_entry(
                    client, None, start, end, internal, keypool, account, t,
                )?);
            }
        }
    } else {
        if types.len() != 1 {
            return Err(HwiError::other(""));
        }
        chains.push(keypool_entry(
            client, path, start, end, internal, keypool, account, addr_type,
        )?);
    }
    Ok(Value::List(chains))
}

#[allow(clippy::too_many_arguments)]
fn keypool_entry(
    client: &mut Client,
    path: Option<&str>,
    start: i64,
    end: i64,
    internal: bool,
    keypool: bool,
    account: i64,
    addr_type: AddrType,
) -> Result<Value, HwiError> {
    let fpr = master_fingerprint(client)?;
    let desc = get_descriptor(client, fpr, path, internal, addr_type, account)?;
    Ok(Value::obj([
        ("desc", Value::str(desc.to_string_with_checksum())),
        (
            "range",
            Value::List(vec![Value::Int(start), Value::Int(end)]),
        ),
        ("timestamp", Value::str("now")),
        ("internal", Value::Bool(internal)),
        ("keypool", Value::Bool(keypool)),
        ("active", Value::Bool(keypool)),
        ("watchonly", Value::Bool(true)),
    ]))
}

/// HWI's `getdescriptor`: the descriptor of an account (or of `path`, ending in `/*`).
fn get_descriptor(
    client: &mut Client,
    fpr: Fingerprint,
    path: Option<&str>,
    internal: bool,
    addr_type: AddrType,
    account: i64,
) -> Result<Desc, HwiError> {
    let parsed: Vec<u64> = match path.filter(|p| !p.is_empty()) {
        None => {
            let account = u64::try_from(account).unwrap_or(u64::MAX) & 0xffff_ffff;
            vec![
                u64::from(addr_type.purpose()) | HARDENED,
                u64::from(client.chain.coin_type()) | HARDENED,
                account | HARDENED,
                u64::from(internal),
            ]
        }
        Some(p) => {
            if !p.starts_with('m') {
                return Err(HwiError::bad_argument("Path must start with m/"));
            }
            if !p.ends_with('*') {
                return Err(HwiError::bad_argument("Path must end with /*"));
            }
            let base = p.get(..p.len().saturating_sub(2)).unwrap_or("");
            keys::parse_path(base).map_err(HwiError::other)?
        }
    };
    let split = parsed
        .iter()
        .rposition(|i| i & HARDENED != 0)
        .map_or(0, |i| i + 1);
    if parsed.is_empty() {
        return Err(HwiError::other(
            "cannot access local variable 'i' where it is not associated with a value",
        ));
    }
    let (origin_path, rest) = parsed.split_at(split.min(parsed.len()));
    let origin = Origin {
        fingerprint: fpr.to_bytes(),
        path: origin_path.to_vec(),
    };
    let mut suffix = keys::path_suffix(rest, "h");
    suffix.push_str("/*");
    let xpub = xpub_at(client, &origin.derivation_path())?;
    let key = Key::with_xpub(origin, &xpub, Some(suffix));
    Ok(match addr_type {
        AddrType::Legacy => Desc::Pkh(key),
        AddrType::ShWit => Desc::Sh(Box::new(Desc::Wpkh(key))),
        AddrType::Wit => Desc::Wpkh(key),
        AddrType::Tap => {
            if !can_sign_taproot(client)? {
                return Err(HwiError::unavailable("Device does not support Taproot"));
            }
            Desc::Tr {
                internal: key,
                leaves: Vec::new(),
                depths: Vec::new(),
            }
        }
    })
}

/// `getdescriptors`: receive and change descriptors of each address type.
///
/// # Errors
/// The device's.
pub fn getdescriptors(client: &mut Client, account: i64) -> Result<Value, HwiError> {
    let fpr = master_fingerprint(client)?;
    let mut out = Vec::new();
    for internal in [false, true] {
        let mut list = Vec::new();
        for t in AddrType::ALL {
            match get_descriptor(client, fpr, None, internal, t, account) {
                Ok(d) => list.push(Value::str(d.to_string_with_checksum())),
                Err(e) if e.code == errors::UNAVAILABLE_ACTION => continue,
                Err(e) => return Err(e),
            }
        }
        out.push((
            if internal { "internal" } else { "receive" }.to_string(),
            Value::List(list),
        ));
    }
    Ok(Value::Obj(out))
}
