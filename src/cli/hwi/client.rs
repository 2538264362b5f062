//! Finding and opening devices as HWI does: its device paths (`tcp:127.0.0.1:9999`,
//! `udp:127.0.0.1:21324`, `webusb:001:1:4`, hidapi paths), `enumerate`'s entries,
//! `-d PATH -t TYPE` (`get_client`) and `-f FINGERPRINT` / `-t TYPE` (`find_device`).

use futures::executor::block_on;

use super::args::{Chain, Globals};
use super::errors::{self, HwiError, Ins};
use crate::device::{Device, Passphrase};
use crate::driver::PromptFns;
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{Features, GetFeatures, Initialize};
use crate::transport::Transport;

/// HWI's path of the Speculos socket.
pub const LEDGER_SIMULATOR_PATH: &str = "tcp:127.0.0.1:9999";
/// HWI's path of the Trezor emulator.
pub const TREZOR_SIMULATOR_PATH: &str = "udp:127.0.0.1:21324";

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
pub(super) fn hid_wallets() -> Vec<(
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
