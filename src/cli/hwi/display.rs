//! `displayaddress`: by path (the standard policy of its account on a Ledger), or by
//! descriptor (single key, checked against the device's key first; multisig,
//! registered on a Ledger), as HWI shows them.

use bitcoin::bip32::Xpub;

use futures::executor::block_on;

use super::args::AddrType;
use super::client::{Client, Kind};
use super::commands::{can_sign_taproot, master_fingerprint, pubkey_at, trezor_check_unlocked};
use super::commands::{coin, ledger, trezor};
use super::descriptor::{self, Desc};
use super::errors::{self, HwiError, Ins};
use super::json::Value;
use super::keys::{self, HARDENED};
use crate::protocol::trezor::btc::multisig::Multisig;
use crate::protocol::trezor::messages::InputScriptType;

/// `displayaddress`.
///
/// # Errors
/// HWI's descriptor and path errors; the device's.
pub fn displayaddress(
    client: &mut Client,
    desc: Option<&str>,
    path: Option<&str>,
    addr_type: AddrType,
) -> Result<Value, HwiError> {
    let address = |a: String| Value::obj([("address", Value::str(a))]);
    if let Some(path) = path {
        return display_singlesig(client, path, addr_type).map(address);
    }
    let Some(text) = desc else {
        return Err(HwiError::bad_argument("Missing both path and descriptor"));
    };
    let mut d = descriptor::parse(text)?;
    let mut addr_type = AddrType::Legacy;
    let mut is_sh = false;
    let mut is_wsh = false;
    if let Desc::Sh(inner) = d.clone() {
        is_sh = true;
        d = *inner;
    } else if let Desc::Wsh(inner) = d.clone() {
        is_wsh = true;
        d = *inner;
    }
    if is_sh || is_wsh {
        if let Desc::Wsh(inner) = d.clone() {
            is_wsh = true;
            d = *inner;
        }
        if let Desc::Multi { .. } = &d {
            if is_sh && is_wsh {
                addr_type = AddrType::ShWit;
            } else if !is_sh && is_wsh {
                addr_type = AddrType::Wit;
            }
            return display_multisig(client, addr_type, &d).map(address);
        }
    }
    let (key, is_wpkh, is_tr) = match &d {
        Desc::Pkh(k) => (k.clone(), false, false),
        Desc::Wpkh(k) => (k.clone(), true, false),
        Desc::Tr { internal, .. } => (internal.clone(), false, true),
        _ => return Err(HwiError::bad_argument("Missing both path and descriptor")),
    };
    let Some(origin) = &key.origin else {
        return Err(HwiError::bad_argument(format!(
            "Descriptor missing origin info: {text}"
        )));
    };
    if origin.fingerprint != master_fingerprint(client)?.to_bytes() {
        return Err(HwiError::bad_argument(format!(
            "Descriptor fingerprint does not match device: {text}"
        )));
    }
    let (xpub, _) = pubkey_at(client, &origin.derivation_path())?;
    let xpub_text = xpub.to_string();
    let pubkey_hex = crate::protocol::bytes::to_hex(&xpub.public_key.serialize());
    let xonly_hex = pubkey_hex.get(2..).unwrap_or("").to_string();
    if key.pubkey != xpub_text && key.pubkey != pubkey_hex && key.pubkey != xonly_hex {
        return Err(HwiError::bad_argument(format!(
            "Key in descriptor does not match device: {text}"
        )));
    }
    if is_sh && is_wpkh {
        addr_type = AddrType::ShWit;
    } else if !is_sh && is_wpkh {
        addr_type = AddrType::Wit;
    } else if is_tr {
        addr_type = AddrType::Tap;
    }
    display_singlesig(client, &key.full_derivation_path(0), addr_type).map(address)
}

fn display_singlesig(
    client: &mut Client,
    path: &str,
    addr_type: AddrType,
) -> Result<String, HwiError> {
    match client.kind {
        Kind::Ledger => {
            let parsed = keys::parse_path(path).map_err(HwiError::bad_argument)?;
            if !keys::is_standard_path(&parsed, addr_type, client.chain) {
                return Err(HwiError::bad_argument(
                    "Ledger requires BIP 44 standard paths",
                ));
            }
            let account = parsed.get(2).copied().unwrap_or(0) & !HARDENED;
            let change = parsed.get(3).copied().unwrap_or(0) == 1;
            let index = u32::try_from(parsed.get(4).copied().unwrap_or(0)).unwrap_or(0);
            let policy = super::sign::default_policy(client, addr_type, account)?;
            block_on(ledger(client)?.address(&policy, None, change, index, true))
                .map_err(|e| errors::ledger(&e, Ins::GetWalletAddress))
        }
        Kind::Trezor => {
            trezor_check_unlocked(client)?;
            let script_type = match addr_type {
                AddrType::ShWit => InputScriptType::SPENDP2SHWITNESS,
                AddrType::Wit => InputScriptType::SPENDWITNESS,
                AddrType::Legacy => InputScriptType::SPENDADDRESS,
                AddrType::Tap => {
                    if !can_sign_taproot(client)? {
                        return Err(HwiError::unavailable(
                            "This device does not support displaying Taproot addresses",
                        ));
                    }
                    InputScriptType::SPENDTAPROOT
                }
            };
            let parsed = keys::parse_path(path).map_err(HwiError::bad_argument)?;
            let dp = keys::to_derivation(&parsed)?;
            let coin = coin(client);
            block_on(trezor(client)?.address_with(&dp, coin, script_type, None, true))
                .map_err(|_| HwiError::bad_argument("No path supplied matched device keys"))
        }
    }
}

/// A concrete `/0/N` or `/1/N` below every key, as the Ledger app wants it.
fn ledger_der_path_ok(path: Option<&str>) -> bool {
    let Some(p) = path else {
        return false;
    };
    let parts: Vec<&str> = p.split('/').collect();
    parts.len() == 3
        && matches!(parts.get(1), Some(&"0") | Some(&"1"))
        && parts.get(2).is_some_and(|i| {
            !i.is_empty()
                && i.chars().all(|c| c.is_ascii_digit())
                && i.parse::<u64>().is_ok_and(|n| n <= 0x7fff_ffff)
        })
}

fn display_multisig(
    client: &mut Client,
    addr_type: AddrType,
    d: &Desc,
) -> Result<String, HwiError> {
    let Desc::Multi {
        thresh,
        keys: pubkeys,
        sorted,
    } = d
    else {
        return Err(HwiError::bad_argument("Missing both path and descriptor"));
    };
    match client.kind {
        Kind::Ledger => {
            if pubkeys
                .iter()
                .any(|k| !ledger_der_path_ok(k.deriv_path.as_deref()))
            {
                return Err(HwiError::bad_argument("Ledger Bitcoin app requires derivation paths ending with /0/* or /1/* for multisig"));
            }
            let first = pubkeys
                .first()
                .and_then(|k| k.deriv_path.clone())
                .unwrap_or_default();
            if pubkeys
                .iter()
                .any(|k| k.deriv_path.as_deref() != Some(first.as_str()))
            {
                return Err(HwiError::bad_argument("Ledger Bitcoin app requires all derivation paths to end with /0/*, or all with /1/* for multisig"));
            }
            if pubkeys
                .iter()
                .any(|k| k.origin.as_ref().is_some_and(|o| o.path.len() > 4))
            {
                return Err(HwiError::bad_argument(
                    "Ledger Bitcoin app requires extended keys with derivation length at most 4",
                ));
            }
            let mut keys_info = Vec::new();
            for k in pubkeys {
                let (Some(o), Some(x)) = (&k.origin, &k.extkey) else {
                    return Err(HwiError::other(""));
                };
                keys_info.push(format!("[{}]{x}", o.to_string_with("'")));
            }
            let policy = super::sign::multisig_policy(addr_type, *thresh, keys_info, *sorted)?;
            let l = ledger(client)?;
            let reg = block_on(l.register_policy(&policy))
                .map_err(|e| errors::ledger(&e, Ins::RegisterWallet))?;
            let change = first.get(..3) != Some("/0/");
            let index: u32 = first
                .rsplit('/')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            block_on(l.address(&policy, Some(&reg.hmac), change, index, true))
                .map_err(|e| errors::ledger(&e, Ins::GetWalletAddress))
        }
        Kind::Trezor => {
            trezor_check_unlocked(client)?;
            let script_type = match addr_type {
                AddrType::ShWit => InputScriptType::SPENDP2SHWITNESS,
                AddrType::Wit => InputScriptType::SPENDWITNESS,
                AddrType::Legacy => InputScriptType::SPENDMULTISIG,
                AddrType::Tap => return Err(HwiError::bad_argument("Unknown address type")),
            };
            // HWI's trezor multisig: every key an xpub with the same path below it.
            let xpubs: Option<Vec<Xpub>> = pubkeys.iter().map(|k| k.extkey).collect();
            let below = pubkeys
                .first()
                .and_then(|k| k.deriv_path.clone())
                .unwrap_or_default();
            let (Some(xpubs), true) = (
                xpubs,
                pubkeys
                    .iter()
                    .all(|k| k.deriv_path.as_deref().unwrap_or("") == below),
            ) else {
                return Err(HwiError::unavailable(
                    "multisig descriptors with raw keys or different paths below the keys are not supported by this hwi",
                ));
            };
            let below_parsed =
                keys::parse_path(&format!("m{below}")).map_err(HwiError::bad_argument)?;
            let below_dp = keys::to_derivation(&below_parsed)?;
            let ms = Multisig {
                m: *thresh,
                xpubs,
                path: below_dp.into_iter().copied().collect(),
                sorted: *sorted,
            };
            let coin = coin(client);
            for k in pubkeys {
                let full = match &k.origin {
                    Some(o) => o.derivation_path(),
                    None => "m/".to_string(),
                } + k.deriv_path.as_deref().unwrap_or("");
                let Ok(parsed) = keys::parse_path(&full) else {
                    continue;
                };
                let Ok(dp) = keys::to_derivation(&parsed) else {
                    continue;
                };
                if let Ok(a) =
                    block_on(trezor(client)?.address_with(&dp, coin, script_type, Some(&ms), true))
                {
                    return Ok(a);
                }
            }
            Err(HwiError::bad_argument(
                "No path supplied matched device keys",
            ))
        }
    }
}
