//! The commands on an open client, as `hwilib/commands.py` and the vendors' client
//! classes run them: which calls go to the device, which checks come first, and the
//! JSON each returns.

use bitcoin::bip32::{Fingerprint, Xpub};
use futures::executor::block_on;

use super::args::{AddrType, Command};
use super::client::{self, Client, Kind};
use super::descriptor::{self, Desc, Key, Origin};
use super::errors::{self, HwiError, Ins};
use super::json::Value;
use super::keys::{self, HARDENED};
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::btc::multisig::Multisig;
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{
    ApplySettings, InputScriptType, PassphraseAck, PinMatrixAck, Success, WipeDevice,
};

fn ledger(
    client: &mut Client,
) -> Result<&mut crate::driver::ledger::Ledger<Box<dyn crate::transport::Transport>>, HwiError> {
    client
        .device
        .as_ledger()
        .ok_or_else(|| HwiError::other("not a ledger"))
}

fn trezor(
    client: &mut Client,
) -> Result<&mut crate::driver::trezor::Trezor<Box<dyn crate::transport::Transport>>, HwiError> {
    client
        .device
        .as_trezor()
        .ok_or_else(|| HwiError::other("not a trezor"))
}

fn coin(client: &Client) -> Coin {
    if client.chain.is_test() {
        Coin::Testnet
    } else {
        Coin::Bitcoin
    }
}

/// HWI's Trezor `_check_unlocked`: features read (once per client here), and a locked
/// device refused.
///
/// # Errors
/// `DeviceNotReadyError` (-12) when the PIN is not entered; the device's errors.
pub fn trezor_check_unlocked(client: &mut Client) -> Result<(), HwiError> {
    let features = match &client.features {
        Some(f) => f.clone(),
        None => client::prepare(client, "_check_unlocked")?,
    };
    if features.pin_protection == Some(true) && features.unlocked != Some(true) {
        return Err(HwiError::new(
            "Trezor is locked. Unlock by using 'promptpin' and then 'sendpin'.",
            errors::DEVICE_NOT_READY,
        ));
    }
    Ok(())
}

/// The master fingerprint (HWI's `get_master_fingerprint`).
///
/// # Errors
/// The device's.
pub fn master_fingerprint(client: &mut Client) -> Result<Fingerprint, HwiError> {
    match client.kind {
        Kind::Ledger => block_on(ledger(client)?.known_fingerprint())
            .map_err(|e| errors::ledger(&e, Ins::GetExtendedPubkey)),
        Kind::Trezor => {
            trezor_check_unlocked(client)?;
            block_on(trezor(client)?.known_fingerprint())
                .map_err(|e| errors::trezor(&e, "get_pubkey_at_path"))
        }
    }
}

/// HWI's `get_pubkey_at_path`: the xpub at `path` (HWI's path syntax), and whether it
/// is a testnet key.
///
/// # Errors
/// HWI's path errors; the device's.
pub fn pubkey_at(client: &mut Client, path: &str) -> Result<(Xpub, bool), HwiError> {
    match client.kind {
        Kind::Ledger => {
            let dp = keys::ledger_path(path, true)?;
            let l = ledger(client)?;
            let x = match block_on(l.xpub(&dp, false)) {
                Err(crate::Error::Device { code: 0x6a82, .. }) => block_on(l.xpub(&dp, true)),
                other => other,
            }
            .map_err(|e| errors::ledger(&e, Ins::GetExtendedPubkey))?;
            let testnet = x.network == bitcoin::NetworkKind::Test;
            Ok((x, testnet))
        }
        Kind::Trezor => {
            trezor_check_unlocked(client)?;
            let parsed = keys::parse_path(path).map_err(HwiError::bad_argument)?;
            let dp = keys::to_derivation(&parsed)?;
            let coin = coin(client);
            let testnet = client.chain.is_test();
            let x = block_on(trezor(client)?.xpub_with(
                &dp,
                coin,
                InputScriptType::SPENDADDRESS,
                false,
            ))
            .map_err(|e| errors::trezor(&e, "get_pubkey_at_path"))?;
            let mut xpub = x.xpub;
            if testnet {
                xpub.network = bitcoin::NetworkKind::Test;
            }
            Ok((xpub, xpub.network == bitcoin::NetworkKind::Test))
        }
    }
}

/// The xpub string at `path`, through the client's cache.
///
/// # Errors
/// See [`pubkey_at`].
pub fn xpub_at(client: &mut Client, path: &str) -> Result<String, HwiError> {
    if let Some((_, x)) = client.xpub_cache.iter().find(|(p, _)| p == path) {
        return Ok(x.clone());
    }
    let (x, _) = pubkey_at(client, path)?;
    let s = x.to_string();
    client.xpub_cache.push((path.to_string(), s.clone()));
    Ok(s)
}

fn can_sign_taproot(client: &mut Client) -> Result<bool, HwiError> {
    match client.kind {
        Kind::Ledger => Ok(true),
        Kind::Trezor => {
            if client.features.is_none() {
                client::prepare(client, "can_sign_taproot")?;
            }
            let f = client.features.clone().unwrap_or_default();
            let v = (
                f.major_version.unwrap_or(0),
                f.minor_version.unwrap_or(0),
                f.patch_version.unwrap_or(0),
            );
            Ok(match f.model.as_deref() {
                Some("T") => v >= (2, 4, 3),
                Some("1") => v >= (1, 10, 4),
                _ => true,
            })
        }
    }
}

/// Runs `command` on `client` (everything but `enumerate` and `installudevrules`).
///
/// # Errors
/// What HWI reports for the command.
pub fn run(client: &mut Client, command: &Command, interactive: bool) -> Result<Value, HwiError> {
    match command {
        Command::GetMasterXpub { addr_type, account } => {
            let path = format!(
                "m/{}h/{}h/{account}h",
                addr_type.purpose(),
                client.chain.coin_type()
            );
            let (x, _) = pubkey_at(client, &path)?;
            Ok(Value::obj([("xpub", Value::str(x.to_string()))]))
        }
        Command::GetXpub { path } => {
            let (x, testnet) = pubkey_at(client, path)?;
            let mut fields = vec![("xpub".to_string(), Value::str(x.to_string()))];
            if client.expert {
                fields.extend(keys::expert_fields(&x, testnet));
            }
            Ok(Value::Obj(fields))
        }
        Command::SignMessage { message, path } => {
            let sig = sign_message(client, message, path)?;
            Ok(Value::obj([("signature", Value::str(sig))]))
        }
        Command::SignTx { psbt } => {
            let parsed = super::psbt::Psbt::from_base64(psbt)?;
            let signed = match client.kind {
                Kind::Ledger => super::sign::ledger(client, &parsed)?,
                Kind::Trezor => super::sign::trezor(client, &parsed)?,
            };
            let text = signed.to_base64();
            let changed = text != *psbt;
            Ok(Value::obj([
                ("psbt", Value::str(text)),
                ("signed", Value::Bool(changed)),
            ]))
        }
        Command::GetKeypool {
            keypool,
            internal,
            addr_type,
            all,
            account,
            path,
            start,
            end,
        } => getkeypool(
            client,
            path.as_deref(),
            *start,
            *end,
            *internal,
            *keypool,
            *account,
            *addr_type,
            *all,
        ),
        Command::GetDescriptors { account } => getdescriptors(client, *account),
        Command::DisplayAddress {
            desc,
            path,
            addr_type,
        } => displayaddress(client, desc.as_deref(), path.as_deref(), *addr_type),
        Command::Setup { label } => {
            if !interactive {
                return Err(HwiError::unavailable("setup requires interactive mode"));
            }
            match client.kind {
                Kind::Ledger => Err(HwiError::unavailable(
                    "The Ledger Nano S and X do not support software setup",
                )),
                Kind::Trezor => super::manage::setup(client, label),
            }
        }
        Command::Restore { word_count, label } => {
            if !interactive {
                return Err(HwiError::unavailable("restore requires interactive mode"));
            }
            match client.kind {
                Kind::Ledger => Err(HwiError::unavailable(
                    "The Ledger Nano S and X do not support restoring via software",
                )),
                Kind::Trezor => super::manage::restore(client, *word_count, label),
            }
        }
        Command::Wipe => match client.kind {
            Kind::Ledger => Err(HwiError::unavailable(
                "The Ledger Nano S and X do not support wiping via software",
            )),
            Kind::Trezor => {
                trezor_check_unlocked(client)?;
                block_on(trezor(client)?.run(Call::simple(&WipeDevice {}, |_: Success| Ok(()))))
                    .map_err(|e| errors::trezor(&e, "wipe_device"))?;
                let _ = client::initialize(&mut client.device);
                Ok(success(true))
            }
        },
        Command::Backup => Err(HwiError::unavailable(match client.kind {
            Kind::Ledger => "The Ledger Nano S and X do not support creating a backup via software",
            Kind::Trezor => "The Trezor does not support creating a backup via software",
        })),
        Command::PromptPin => match client.kind {
            Kind::Ledger => Err(HwiError::unavailable(
                "The Ledger Nano S and X do not need a PIN sent from the host",
            )),
            Kind::Trezor => prompt_pin(client),
        },
        Command::SendPin { pin } => match client.kind {
            Kind::Ledger => Err(HwiError::unavailable(
                "The Ledger Nano S and X do not need a PIN sent from the host",
            )),
            Kind::Trezor => send_pin(client, pin),
        },
        Command::TogglePassphrase => match client.kind {
            Kind::Ledger => Err(HwiError::unavailable(
                "The Ledger Nano S and X do not support toggling passphrase from the host",
            )),
            Kind::Trezor => {
                trezor_check_unlocked(client)?;
                let on = client
                    .features
                    .as_ref()
                    .and_then(|f| f.passphrase_protection)
                    .unwrap_or(false);
                let settings = ApplySettings {
                    label: None,
                    use_passphrase: Some(!on),
                };
                // HWI reports success whatever the device answers.
                let _ = block_on(trezor(client)?.run(Call::simple(&settings, |_: Success| Ok(()))));
                Ok(success(true))
            }
        },
        Command::Enumerate | Command::InstallUdevRules { .. } => {
            Err(HwiError::other("not a device command"))
        }
    }
}

/// `{"success": b}`.
pub fn success(b: bool) -> Value {
    Value::obj([("success", Value::Bool(b))])
}

const PIN_MATRIX_DESCRIPTION: &str =
    "Use the numeric keypad to describe number positions. The layout is:
    7 8 9
    4 5 6
    1 2 3";

fn prompt_pin(client: &mut Client) -> Result<Value, HwiError> {
    let f = client::prepare(client, "prompt_pin")?;
    if f.pin_protection != Some(true) {
        return Err(HwiError::new(
            "This device does not need a PIN",
            errors::DEVICE_ALREADY_UNLOCKED,
        ));
    }
    if f.unlocked == Some(true) {
        return Err(HwiError::new(
            "The PIN has already been sent to this device",
            errors::DEVICE_ALREADY_UNLOCKED,
        ));
    }
    eprintln!("Use 'sendpin' to provide the number positions for the PIN as displayed on your device's screen");
    eprintln!("{PIN_MATRIX_DESCRIPTION}");
    let request = crate::protocol::trezor::messages::GetPublicKey {
        address_n: vec![0x8000_002c, 0x8000_0001, 0x8000_0000],
        coin_name: Some(
            if client.chain.is_test() {
                "Testnet"
            } else {
                "Bitcoin"
            }
            .into(),
        ),
        show_display: Some(false),
        script_type: Some(InputScriptType::SPENDADDRESS),
        ..Default::default()
    };
    let (ty, payload) = crate::protocol::trezor::messages::encode(&request);
    // trezorlib's call_raw: one message, one reply, no PIN or button handling.
    block_on(trezor(client)?.exchange(ty, &payload))
        .map_err(|e| errors::trezor(&e, "prompt_pin"))?;
    Ok(success(true))
}

fn send_pin(client: &mut Client, pin: &str) -> Result<Value, HwiError> {
    use crate::protocol::trezor::messages::{self as msg, types, Features, GetFeatures};
    if pin.is_empty() || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(HwiError::bad_argument("Non-numeric PIN provided"));
    }
    let t = trezor(client)?;
    let (ty, payload) = msg::encode(&PinMatrixAck {
        pin: pin.to_string(),
    });
    let (reply, body) =
        block_on(t.exchange(ty, &payload)).map_err(|e| errors::trezor(&e, "send_pin"))?;
    match reply {
        types::FAILURE => {
            let (ty, payload) = msg::encode(&GetFeatures {});
            let (fty, fbody) =
                block_on(t.exchange(ty, &payload)).map_err(|e| errors::trezor(&e, "send_pin"))?;
            if fty == types::FEATURES {
                let f: Features =
                    msg::decode(&fbody).map_err(|e| errors::trezor(&e, "send_pin"))?;
                if f.pin_protection != Some(true) {
                    return Err(HwiError::new(
                        "This device does not need a PIN",
                        errors::DEVICE_ALREADY_UNLOCKED,
                    ));
                }
                if f.unlocked == Some(true) {
                    return Err(HwiError::new(
                        "The PIN has already been sent to this device",
                        errors::DEVICE_ALREADY_UNLOCKED,
                    ));
                }
            }
            Ok(success(false))
        }
        types::PASSPHRASE_REQUEST => {
            let passphrase = client.password.clone().unwrap_or_default();
            let ack = PassphraseAck {
                passphrase: Some(passphrase),
                on_device: Some(false),
            };
            let t = trezor(client)?;
            block_on(t.run(Call::new(msg::encode(&ack), |_, _, _| {
                Ok(crate::protocol::trezor::call::Next::Done(()))
            })))
            .map_err(|e| errors::trezor(&e, "send_pin"))?;
            Ok(success(true))
        }
        _ => {
            let _ = body;
            Ok(success(true))
        }
    }
}

fn sign_message(client: &mut Client, message: &str, path: &str) -> Result<String, HwiError> {
    match client.kind {
        Kind::Ledger => {
            if !ledger_keypath_ok(path) {
                return Err(HwiError::bad_argument("Invalid keypath"));
            }
            let dp = keys::ledger_path(path, false)?;
            block_on(client.device.sign_message(&dp, message.as_bytes()))
                .map_err(|e| errors::ledger(&e, Ins::GetExtendedPubkey))
        }
        Kind::Trezor => {
            trezor_check_unlocked(client)?;
            let parsed = keys::parse_path(path).map_err(HwiError::bad_argument)?;
            let dp = keys::to_derivation(&parsed)?;
            let coin = coin(client);
            let s = block_on(trezor(client)?.sign_message_with(
                &dp,
                coin,
                InputScriptType::SPENDADDRESS,
                message.as_bytes(),
            ))
            .map_err(|e| errors::trezor(&e, "sign_message"))?;
            Ok(s.base64())
        }
    }
}

/// HWI's Ledger `check_keypath`: `m/`, then digits (after dropping `h`, `H`, `'`) of
/// at most 2^31.
fn ledger_keypath_ok(path: &str) -> bool {
    let mut parts = path.split('/');
    if parts.next() != Some("m") {
        return false;
    }
    parts.all(|p| {
        let digits: String = p
            .chars()
            .filter(|c| !matches!(c, 'h' | 'H' | '\''))
            .collect();
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && digits.parse::<u64>().is_ok_and(|n| n <= 0x8000_0000)
    })
}

#[allow(clippy::too_many_arguments)]
fn getkeypool(
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

fn getdescriptors(client: &mut Client, account: i64) -> Result<Value, HwiError> {
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

fn displayaddress(
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
