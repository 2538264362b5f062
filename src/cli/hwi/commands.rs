//! The commands on an open client, as `hwilib/commands.py` and the vendors' client
//! classes run them: which calls go to the device, which checks come first, and the
//! JSON each returns.

use bitcoin::bip32::{Fingerprint, Xpub};
use futures::executor::block_on;

use super::args::Command;
use super::client::{self, Client, Kind};
use super::errors::{self, HwiError, Ins};
use super::json::Value;
use super::keys;
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{ApplySettings, InputScriptType, Success, WipeDevice};

/// The Ledger of a Ledger client.
///
/// # Errors
/// On a Trezor client.
pub fn ledger(
    client: &mut Client,
) -> Result<&mut crate::driver::ledger::Ledger<Box<dyn crate::transport::Transport>>, HwiError> {
    client
        .device
        .as_ledger()
        .ok_or_else(|| HwiError::other("not a ledger"))
}

/// The Trezor of a Trezor client.
///
/// # Errors
/// On a Ledger client.
pub fn trezor(
    client: &mut Client,
) -> Result<&mut crate::driver::trezor::Trezor<Box<dyn crate::transport::Transport>>, HwiError> {
    client
        .device
        .as_trezor()
        .ok_or_else(|| HwiError::other("not a trezor"))
}

/// HWI's Trezor coin: `Bitcoin` on main, `Testnet` on every other chain.
pub fn coin(client: &Client) -> Coin {
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

/// HWI's `can_sign_taproot`: a Ledger 2.1+ app; a Trezor T from 2.4.3, a One from
/// 1.10.4, any later model.
///
/// # Errors
/// The device's.
pub fn can_sign_taproot(client: &mut Client) -> Result<bool, HwiError> {
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
        } => super::keypool::getkeypool(
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
        Command::GetDescriptors { account } => super::keypool::getdescriptors(client, *account),
        Command::DisplayAddress {
            desc,
            path,
            addr_type,
        } => super::display::displayaddress(client, desc.as_deref(), path.as_deref(), *addr_type),
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
            Kind::Trezor => super::pin::prompt_pin(client),
        },
        Command::SendPin { pin } => match client.kind {
            Kind::Ledger => Err(HwiError::unavailable(
                "The Ledger Nano S and X do not need a PIN sent from the host",
            )),
            Kind::Trezor => super::pin::send_pin(client, pin),
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

fn sign_message(client: &mut Client, message: &str, path: &str) -> Result<String, HwiError> {
    match client.kind {
        Kind::Ledger => {
            if !ledger_keypath_ok(path) {
                return Err(HwiError::bad_argument("Invalid keypath"));
            }
            let dp = keys::ledger_path(path, false)?;
            let checked = block_on(client.device.sign_message(&dp, message.as_bytes()))
                .map_err(|e| errors::ledger(&e, Ins::GetExtendedPubkey))?;
            // HWI prints the app's own header (p2pkh, whatever the path), where
            // hwsigner gives the header of the path's purpose.
            as_p2pkh(&checked).map_err(|e| errors::ledger(&e, Ins::GetExtendedPubkey))
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

/// A BIP-137 signature (base64) with the p2pkh header of its recovery id.
fn as_p2pkh(signature: &str) -> crate::Result<String> {
    use bitcoin::base64::Engine as _;
    let engine = bitcoin::base64::engine::general_purpose::STANDARD;
    let bytes = engine
        .decode(signature)
        .map_err(|_| crate::Error::protocol("the message signature is not base64"))?;
    let p2pkh = crate::protocol::message::with_header(
        &bytes,
        crate::protocol::message::MessageScript::P2pkh,
    )?;
    Ok(engine.encode(p2pkh))
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
