//! Finding and opening devices as HWI does: its device paths (`tcp:127.0.0.1:9999`,
//! `udp:127.0.0.1:21324`, `webusb:001:1:4`, hidapi paths), `enumerate`'s entries,
//! `-d PATH -t TYPE` (`get_client`) and `-f FINGERPRINT` / `-t TYPE` (`find_device`).

use futures::executor::block_on;

use super::args::{Chain, Globals};
use super::errors::{self, HwiError, Ins};
use super::json::Value;
use crate::device::{Device, Passphrase};
use crate::driver::PromptFns;
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{Features, GetFeatures, Initialize};
use crate::transport::Transport;

/// HWI's path of the Speculos socket.
pub const LEDGER_SIMULATOR_PATH: &str = "tcp:127.0.0.1:9999";
/// HWI's path of the Trezor emulator.
pub const TREZOR_SIMULATOR_PATH: &str = "udp:127.0.0.1:21324";

/// The prefix HWI puts on every `enumerate` error.
const ENUMERATE_ERR: &str = "Could not open client or get fingerprint information: ";

/// Which wallet a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Ledger (Bitcoin app 2.1+).
    Ledger,
    /// A Trezor.
    Trezor,
}

/// An open device and what HWI's client object keeps with it.
pub struct Client {
    /// The device.
    pub device: Device,
    /// Its vendor.
    pub kind: Kind,
    /// The path it was opened at.
    pub path: String,
    /// `--chain`.
    pub chain: Chain,
    /// The password (`-p`); HWI's Trezor client uses `""` when none is given.
    pub password: Option<String>,
    /// `--expert`.
    pub expert: bool,
    /// The xpubs asked so far, by path (HWI's `xpub_cache`).
    pub xpub_cache: Vec<(String, String)>,
    /// A Trezor's features, read when the client prepared the device.
    pub features: Option<Features>,
    /// Set when the device asked for its PIN on its own screen.
    pub pin_on_device: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Client {
    /// Whether the client talks to an emulator socket (`udp:` or `tcp:` path).
    pub fn is_emulator(&self) -> bool {
        self.path.starts_with("udp:") || self.path.starts_with("tcp:")
    }
}

/// A Trezor's features, read without touching the session (trezorlib's
/// `refresh_features`).
pub fn get_features(device: &mut Device) -> Result<Features, crate::Error> {
    let t = device
        .as_trezor()
        .ok_or_else(|| crate::Error::Unsupported("not a trezor".into()))?;
    block_on(t.run(Call::simple(&GetFeatures {}, |f: Features| Ok(f))))
}

/// Initialize: starts or resumes the session and returns the features. A device with
/// a seed goes through the driver (which keeps the session); one without gets a raw
/// Initialize.
pub fn initialize(device: &mut Device) -> Result<Features, crate::Error> {
    let t = device
        .as_trezor()
        .ok_or_else(|| crate::Error::Unsupported("not a trezor".into()))?;
    match block_on(t.init()) {
        Ok(_) => block_on(t.run(Call::simple(&GetFeatures {}, |f: Features| Ok(f)))),
        Err(_) => block_on(t.run(Call::simple(
            &Initialize { session_id: None },
            |f: Features| Ok(f),
        ))),
    }
}

/// The prompts HWI's Trezor client answers with: the passphrase from `-p` (`""`
/// without), or on the device for a real T / Safe that can take it; no PIN (HWI asks
/// for `promptpin` / `sendpin` instead).
fn trezor_prompts(password: Option<String>, emulator: bool) -> PromptFns {
    let pw = password.unwrap_or_default();
    PromptFns::none().with_passphrase(move |on_device| {
        Ok(if on_device && !emulator {
            Passphrase::OnDevice
        } else {
            Passphrase::Text(pw.clone())
        })
    })
}

/// How a client is opened: by its vendor and path.
fn open_transport(kind: Kind, path: &str) -> Result<Box<dyn Transport>, HwiError> {
    match kind {
        Kind::Ledger => {
            if let Some(addr) = path.strip_prefix("tcp:") {
                let addr = addr.to_string();
                return crate::transport::native::speculos::SpeculosTransport::connect(&addr)
                    .map(|t| Box::new(t) as Box<dyn Transport>)
                    .map_err(|e| {
                        let text = e.to_string();
                        if text.contains("refused") {
                            HwiError::other("[Errno 111] Connection refused")
                        } else {
                            HwiError::other(text)
                        }
                    });
            }
            hid_open(path).map_err(|e| HwiError::other(e.to_string()))
        }
        Kind::Trezor => {
            let not_found =
                || HwiError::bad_argument(format!("Could not find device by path: {path}"));
            if path == TREZOR_SIMULATOR_PATH {
                let addr = path.trim_start_matches("udp:");
                return crate::transport::native::udp::UdpTransport::connect(addr)
                    .map(|t| Box::new(t) as Box<dyn Transport>)
                    .map_err(|_| not_found());
            }
            if let Some(port) = path.strip_prefix("webusb:") {
                return crate::transport::native::usb::UsbTransport::open_port(port)
                    .map(|t| Box::new(t) as Box<dyn Transport>)
                    .map_err(|e| match e {
                        crate::Error::Disconnected => not_found(),
                        other => HwiError::other(other.to_string()),
                    });
            }
            if let Some(hid) = path.strip_prefix("hid:") {
                return hid_open(hid).map_err(|e| match e {
                    crate::Error::Disconnected => not_found(),
                    other => HwiError::other(other.to_string()),
                });
            }
            Err(not_found())
        }
    }
}

/// A HID path as HWI's hidapi (libusb backend) names it: `BUS-PORTS:CONFIG.INTERFACE`
/// (`1-1.4:1.0`), read from sysfs; other platforms keep hidapi's path.
fn hwi_hid_path(hidapi_path: &str) -> String {
    #[cfg(target_os = "linux")]
    {
        if let Some(name) = hidapi_path.strip_prefix("/dev/") {
            let link = format!("/sys/class/hidraw/{name}/device");
            if let Ok(real) = std::fs::canonicalize(link) {
                if let Some(iface) = real
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                {
                    if iface.contains(':') && iface.contains('-') {
                        return iface.to_string();
                    }
                }
            }
        }
    }
    hidapi_path.to_string()
}

/// The HID wallets: HWI path, hidapi path, kind, identity.
fn hid_wallets() -> Vec<(
    String,
    String,
    crate::protocol::identify::DeviceKind,
    crate::transport::Identity,
)> {
    crate::transport::native::hidapi::list_wallet_paths()
        .unwrap_or_default()
        .into_iter()
        .map(|(p, k, id)| (hwi_hid_path(&p), p, k, id))
        .collect()
}

fn hid_open(hwi_path: &str) -> Result<Box<dyn Transport>, crate::Error> {
    let hidapi_path = hid_wallets()
        .into_iter()
        .find(|(h, p, _, _)| h == hwi_path || p == hwi_path)
        .map(|(_, p, _, _)| p)
        .ok_or(crate::Error::Disconnected)?;
    crate::transport::native::hidapi::HidapiTransport::open_path(&hidapi_path)
        .map(|t| Box::new(t) as Box<dyn Transport>)
}

/// HWI's `get_client(device_type, path, password, expert, chain)`.
///
/// # Errors
/// `Unknown device type specified` (-4); the transport's errors.
pub fn get_client(
    device_type: &str,
    path: &str,
    password: Option<&str>,
    globals: &Globals,
) -> Result<Client, HwiError> {
    let base = device_type.split('_').next().unwrap_or("").to_lowercase();
    let kind = match base.as_str() {
        "ledger" => Kind::Ledger,
        "trezor" => Kind::Trezor,
        _ => {
            return Err(HwiError::new(
                "Unknown device type specified",
                errors::UNKNOWN_DEVICE_TYPE,
            ))
        }
    };
    let transport = open_transport(kind, path)?;
    let mut device = match kind {
        Kind::Ledger => Device::ledger(transport),
        Kind::Trezor => Device::trezor(transport),
    };
    let emulator = path.starts_with("udp:") || path.starts_with("tcp:");
    let pin_on_device = std::rc::Rc::new(std::cell::Cell::new(false));
    if kind == Kind::Trezor {
        device.set_prompts(Box::new(trezor_prompts(
            password.map(str::to_string),
            emulator,
        )));
        let seen = pin_on_device.clone();
        device.on_status(move |s| match s {
            crate::device::Status::EnterPinOnDevice => seen.set(true),
            crate::device::Status::ConfirmOnDevice if !emulator => {
                eprintln!("Please confirm action on your Trezor device");
            }
            _ => {}
        });
    }
    let mut client = Client {
        device,
        kind,
        path: path.to_string(),
        chain: globals.chain,
        password: match kind {
            Kind::Trezor => Some(password.unwrap_or("").to_string()),
            Kind::Ledger => password.map(str::to_string),
        },
        expert: globals.expert,
        xpub_cache: Vec::new(),
        features: None,
        pin_on_device,
    };
    if kind == Kind::Ledger {
        ledger_check_app(&mut client.device)?;
    }
    Ok(client)
}

/// `ledger_bitcoin`'s `createClient`: the app must be a Bitcoin app 2.1+.
fn ledger_check_app(device: &mut Device) -> Result<(), HwiError> {
    let Some(l) = device.as_ledger() else {
        return Ok(());
    };
    let info = block_on(l.app_info()).map_err(|e| errors::ledger(&e, Ins::GetVersion))?;
    let known = [
        "Bitcoin",
        "Bitcoin Test",
        "Bitcoin Legacy",
        "Bitcoin Test Legacy",
        "app",
    ];
    if !known.contains(&info.name.as_str()) {
        return Err(HwiError::new(
            "Ledger is not in either the Bitcoin or Bitcoin Testnet app",
            errors::DEVICE_CONN_ERROR,
        ));
    }
    let mut parts = info
        .version
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if major <= 1 || (major == 2 && minor == 0) || info.name.contains("Legacy") {
        return Err(HwiError::new(
            format!(
                "Bitcoin app {} speaks the legacy protocol, which this hwi does not: update the app to 2.1 or later",
                info.version
            ),
            errors::DEVICE_CONN_ERROR,
        ));
    }
    Ok(())
}

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

/// HWI's `_prepare_device`: the features (a T / Safe is unlocked first, as
/// `ensure_unlocked` does; a One is initialized), kept in the client.
pub fn prepare(client: &mut Client, func: &str) -> Result<Features, HwiError> {
    let err = |e: crate::Error| errors::trezor(&e, func);
    let f = get_features(&mut client.device).map_err(err)?;
    let one = f.model.as_deref().unwrap_or("1") == "1";
    let f = if one || f.initialized != Some(true) {
        initialize(&mut client.device).map_err(err)?
    } else {
        // trezorlib's ensure_unlocked, in the device's current session: GetAddress of
        // m/44'/1'/0'/0/0 on testnet (the PIN and passphrase are asked there if
        // needed), then the features again.
        let t = client
            .device
            .as_trezor()
            .ok_or_else(|| HwiError::other("not a trezor"))?;
        let path: bitcoin::bip32::DerivationPath =
            [0x8000_002c_u32, 0x8000_0001, 0x8000_0000, 0, 0]
                .into_iter()
                .map(bitcoin::bip32::ChildNumber::from)
                .collect::<Vec<_>>()
                .into();
        let unlocked = t.use_current_session(&f).and_then(|_| {
            block_on(t.address_with(
                &path,
                crate::protocol::trezor::btc::keys::Coin::Testnet,
                crate::protocol::trezor::messages::InputScriptType::SPENDADDRESS,
                None,
                false,
            ))
        });
        // HWI drives emulators through trezorlib's debug-link UI, which has no PIN to
        // type when the device asks for it on its screen.
        if client.is_emulator() && client.pin_on_device.get() {
            return Err(HwiError::other(
                "PIN requested but no sequence was configured",
            ));
        }
        match unlocked {
            Ok(_) => get_features(&mut client.device).map_err(err)?,
            Err(_) => initialize(&mut client.device).map_err(err)?,
        }
    };
    client.features = Some(f.clone());
    Ok(f)
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
