//! `enumerate` as HWI lists devices (its device modules in order: Trezors on HID, WebUSB
//! and the emulator, then Ledgers on HID and Speculos), and `find_device` (`-f`, `-t`).

use futures::executor::block_on;

use super::args::{Chain, Globals};
use super::client::{
    get_client, hid_wallets, prepare, Client, Kind, LEDGER_SIMULATOR_PATH, TREZOR_SIMULATOR_PATH,
};
use super::errors::{self, HwiError, Ins};
use super::json::Value;

/// The prefix HWI puts on every `enumerate` error.
const ENUMERATE_ERR: &str = "Could not open client or get fingerprint information: ";

/// A candidate of `enumerate`: its vendor, path and (Ledger) model.
struct Candidate {
    kind: Kind,
    path: String,
    model: Option<String>,
}

fn ledger_model(product_id: u16) -> Option<&'static str> {
    match product_id >> 8 {
        0x10 => Some("ledger_nano_s"),
        0x40 => Some("ledger_nano_x"),
        0x50 => Some("ledger_nano_s_plus"),
        0x60 => Some("ledger_stax"),
        0x70 => Some("ledger_flex"),
        _ => match product_id {
            0x0001 => Some("ledger_nano_s"),
            0x0004 => Some("ledger_nano_x"),
            _ => None,
        },
    }
}

fn candidates(emulators: bool) -> Vec<Candidate> {
    use crate::protocol::identify::DeviceKind;
    let hid = hid_wallets();
    let mut out = Vec::new();
    // HWI's device modules in order: trezor (HID, WebUSB, then the emulator), ledger.
    for (path, _, kind, _) in &hid {
        if *kind == DeviceKind::TrezorOneHid {
            out.push(Candidate {
                kind: Kind::Trezor,
                path: format!("hid:{path}"),
                model: None,
            });
        }
    }
    for (port, _) in crate::transport::native::usb::list_trezor_ports().unwrap_or_default() {
        out.push(Candidate {
            kind: Kind::Trezor,
            path: format!("webusb:{port}"),
            model: None,
        });
    }
    if emulators {
        let answers = crate::transport::native::udp::UdpTransport::connect(
            TREZOR_SIMULATOR_PATH.trim_start_matches("udp:"),
        )
        .is_ok();
        if answers {
            out.push(Candidate {
                kind: Kind::Trezor,
                path: TREZOR_SIMULATOR_PATH.into(),
                model: None,
            });
        }
    }
    for (path, _, kind, id) in &hid {
        if *kind == DeviceKind::Ledger {
            if let Some(model) = ledger_model(id.product_id) {
                out.push(Candidate {
                    kind: Kind::Ledger,
                    path: path.clone(),
                    model: Some(model.into()),
                });
            }
        }
    }
    if emulators {
        out.push(Candidate {
            kind: Kind::Ledger,
            path: LEDGER_SIMULATOR_PATH.into(),
            model: Some("ledger_nano_s_simulator".into()),
        });
    }
    out
}

fn set_error(d: &mut Value, e: &HwiError) {
    d.set("error", Value::str(format!("{ENUMERATE_ERR}{}", e.message)));
    d.set("code", Value::Int(e.code));
}

/// One entry of `enumerate` (None: HWI leaves the device out), and its fingerprint.
fn entry(c: &Candidate, password: Option<&str>, globals: &Globals) -> Option<Value> {
    let mut g = globals.clone();
    g.chain = Chain::Main;
    match c.kind {
        Kind::Ledger => {
            let mut d = Value::obj([
                ("type", Value::str("ledger")),
                ("model", Value::str(c.model.clone().unwrap_or_default())),
                ("label", Value::Null),
                ("path", Value::str(c.path.clone())),
            ]);
            let simulator = c.path == LEDGER_SIMULATOR_PATH;
            let mut client = match get_client("ledger", &c.path, password, &g) {
                Ok(client) => client,
                Err(_) if simulator => return None,
                Err(e) => {
                    set_error(&mut d, &HwiError::new(e.message, e.code));
                    return Some(d);
                }
            };
            let l = client.device.as_ledger()?;
            match block_on(l.master_fingerprint()) {
                Ok(f) => {
                    d.set("fingerprint", Value::str(f.to_string()));
                    d.set("needs_pin_sent", Value::Bool(false));
                    d.set("needs_passphrase_sent", Value::Bool(false));
                }
                Err(e) => set_error(&mut d, &errors::ledger(&e, Ins::GetExtendedPubkey)),
            }
            let _ = block_on(client.device.close());
            Some(d)
        }
        Kind::Trezor => {
            let mut d = Value::obj([
                ("type", Value::str("trezor")),
                ("path", Value::str(c.path.clone())),
            ]);
            let mut client = match get_client("trezor", &c.path, password, &g) {
                Ok(client) => client,
                Err(e) => {
                    set_error(&mut d, &e);
                    return Some(d);
                }
            };
            let result = trezor_entry(&mut client, &mut d, password);
            let _ = block_on(client.device.close());
            match result {
                Ok(true) => Some(d),
                Ok(false) => None,
                Err(e) => {
                    set_error(&mut d, &e);
                    Some(d)
                }
            }
        }
    }
}

/// Fills a Trezor's entry; `Ok(false)` for a device HWI skips (not a Trezor vendor).
fn trezor_entry(
    client: &mut Client,
    d: &mut Value,
    password: Option<&str>,
) -> Result<bool, HwiError> {
    let features = prepare(client, "enumerate")?;
    if !features.vendor.as_deref().unwrap_or("").contains("trezor") {
        return Ok(false);
    }
    d.set(
        "label",
        features.label.clone().map_or(Value::Null, Value::Str),
    );
    let model = features.model.clone().unwrap_or_else(|| "1".into());
    let mut model_name = format!("trezor_{}", model.to_lowercase());
    if client.path.starts_with("udp:") {
        model_name.push_str("_simulator");
    }
    d.set("model", Value::str(model_name));
    let needs_pin = features.pin_protection == Some(true) && features.unlocked != Some(true);
    d.set("needs_pin_sent", Value::Bool(needs_pin));
    let needs_passphrase = model == "1" && features.passphrase_protection == Some(true);
    d.set("needs_passphrase_sent", Value::Bool(needs_passphrase));
    if needs_pin {
        return Err(HwiError::new(
            "Trezor is locked. Unlock by using 'promptpin' and then 'sendpin'.",
            errors::DEVICE_NOT_READY,
        ));
    }
    if needs_passphrase && password.is_none() {
        d.set(
            "warnings",
            Value::List(vec![Value::List(vec![Value::str(
                "Passphrase protection enabled but passphrase was not provided. Using default passphrase of the empty string (\"\")",
            )])]),
        );
    }
    if features.initialized == Some(true) {
        let t = client
            .device
            .as_trezor()
            .ok_or_else(|| HwiError::other("not a trezor"))?;
        let f = block_on(t.master_fingerprint())
            .map_err(|e| errors::trezor(&e, "get_pubkey_at_path"))?;
        d.set("fingerprint", Value::str(f.to_string()));
        d.set("needs_passphrase_sent", Value::Bool(false));
    } else {
        d.set("error", Value::str("Not initialized"));
        d.set("code", Value::Int(errors::DEVICE_NOT_INITIALIZED));
    }
    Ok(true)
}

/// `enumerate`: every device HWI would list, in its order.
pub fn enumerate(password: Option<&str>, globals: &Globals) -> Value {
    Value::List(
        candidates(globals.emulators)
            .iter()
            .filter_map(|c| entry(c, password, globals))
            .collect(),
    )
}

/// HWI's `find_device`: the first device of `device_type` (type or model) whose
/// fingerprint is `fingerprint`.
pub fn find_device(
    password: Option<&str>,
    device_type: Option<&str>,
    fingerprint: Option<&str>,
    globals: &Globals,
) -> Option<Client> {
    let devices = enumerate(password, globals);
    let Value::List(devices) = devices else {
        return None;
    };
    for d in devices {
        let text = |k: &str| match d.get(k) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let (Some(dtype), Some(path)) = (text("type"), text("path")) else {
            continue;
        };
        if let Some(want) = device_type {
            if dtype != want && text("model").as_deref() != Some(want) {
                continue;
            }
        }
        let Ok(mut client) = get_client(&dtype, &path, password, globals) else {
            continue;
        };
        if let Some(want) = fingerprint.filter(|f| !f.is_empty()) {
            let have = match text("fingerprint") {
                Some(f) => Some(f),
                None => super::commands::master_fingerprint(&mut client)
                    .ok()
                    .map(|f| f.to_string()),
            };
            if have.as_deref() != Some(want) {
                let _ = block_on(client.device.close());
                continue;
            }
        }
        return Some(client);
    }
    None
}
