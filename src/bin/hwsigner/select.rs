//! `--device`: which wallet a command talks to, and opening it.

use std::cell::RefCell;
use std::rc::Rc;

use hwsigner::device::{Device, Vendor};
use hwsigner::protocol::identify::{classify, DeviceKind};
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::native::hidapi::HidapiTransport;
use hwsigner::transport::native::speculos::SpeculosTransport;
use hwsigner::transport::native::udp::UdpTransport;
use hwsigner::transport::native::usb::UsbTransport;
use hwsigner::transport::{list_devices, Transport};
use hwsigner::Error;

use crate::failure::Failure;

/// Default address of the Speculos APDU socket.
pub const SPECULOS_ADDR: &str = "127.0.0.1:9999";
/// Default address of the Trezor emulator.
pub const TREZOR_UDP_ADDR: &str = "127.0.0.1:21324";

/// Where to find the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The first Ledger on HID, else the first Trezor on USB, else a Trezor One on HID.
    Auto,
    /// The first HID wallet: a Ledger, else a legacy Trezor One.
    Hid,
    /// The first Trezor on USB.
    Usb,
    /// A Ledger (or the simulator) on a Speculos APDU socket.
    Speculos(String),
    /// A Trezor emulator (or the simulator) on UDP.
    TrezorUdp(String),
    /// A simulated wallet in this process (the test seeds).
    Simulator(Vendor),
}

/// Said on stderr when `auto` finds nothing and falls back to the simulator.
pub const FALLBACK_NOTICE: &str = "no device plugged in: using the simulated Ledger (test seed)";

impl Selection {
    /// Reads `auto|hid|usb|speculos[:HOST:PORT]|trezor-udp[:HOST:PORT]|simulator:VENDOR`.
    ///
    /// # Errors
    /// A usage error for anything else.
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let (kind, addr) = match text.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (text, None),
        };
        let with_addr = |default: &str| addr.unwrap_or(default).to_string();
        match (kind, addr) {
            ("auto", None) => Ok(Selection::Auto),
            ("hid", None) => Ok(Selection::Hid),
            ("usb", None) => Ok(Selection::Usb),
            ("speculos", _) => Ok(Selection::Speculos(with_addr(SPECULOS_ADDR))),
            ("trezor-udp", _) => Ok(Selection::TrezorUdp(with_addr(TREZOR_UDP_ADDR))),
            ("simulator", None | Some("ledger")) => Ok(Selection::Simulator(Vendor::Ledger)),
            ("simulator", Some("trezor")) => Ok(Selection::Simulator(Vendor::Trezor)),
            _ => Err(Failure::usage(format!(
                "--device {text:?} is not auto, hid, usb, speculos[:HOST:PORT], \
                 trezor-udp[:HOST:PORT], simulator:ledger or simulator:trezor"
            ))),
        }
    }

    /// Opens the selected wallet; a simulated Ledger runs the "Bitcoin Test" app unless
    /// `testnet` is `Some(false)`. `auto` falls back to the simulated Ledger, saying so
    /// on stderr, when no wallet is plugged in.
    ///
    /// # Errors
    /// [`Failure::NoDevice`] when no wallet is plugged in; the transport's error when
    /// one is there but cannot be opened (busy, no permission, bootloader mode).
    pub fn open(&self, testnet: Option<bool>) -> Result<Device, Failure> {
        match self {
            Selection::Auto => match open_auto() {
                Err(Failure::NoDevice) => {
                    eprintln!("{FALLBACK_NOTICE}");
                    simulator(Vendor::Ledger, testnet)
                }
                other => other,
            },
            Selection::Simulator(vendor) => simulator(*vendor, testnet),
            Selection::Hid => found(open_hid(DeviceKind::Ledger)).or_else(|e| match e {
                Failure::NoDevice => found(open_hid(DeviceKind::TrezorOneHid)),
                other => Err(other),
            }),
            Selection::Usb => found(open_usb()),
            Selection::Speculos(addr) => {
                let t: Box<dyn Transport> = Box::new(SpeculosTransport::connect(addr)?);
                Ok(Device::ledger(t))
            }
            Selection::TrezorUdp(addr) => {
                let t: Box<dyn Transport> = match UdpTransport::connect(addr) {
                    Err(Error::Disconnected) => {
                        return Err(Failure::Hw(Error::Transport(format!(
                            "no trezor emulator answers on udp {addr}"
                        ))))
                    }
                    other => Box::new(other?),
                };
                Ok(Device::trezor(t))
            }
        }
    }
}

/// A simulated wallet in this process: the Ledger with Speculos' seed (f5acc2fd), the
/// Trezor with the all-all-all seed (5c9e228d); both approve every prompt.
pub fn simulator(vendor: Vendor, testnet: Option<bool>) -> Result<Device, Failure> {
    let t: Box<dyn Transport> = match vendor {
        Vendor::Ledger => {
            let options = SimLedgerOptions {
                testnet: testnet.unwrap_or(true),
                ..SimLedgerOptions::default()
            };
            Box::new(apdu_transport(Rc::new(RefCell::new(SimLedger::new(
                options,
            )))))
        }
        Vendor::Trezor => {
            let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "")?;
            Box::new(TrezorSim::new(seed, Confirm::Approve, Faults::none()).into_transport())
        }
        other => return Err(Error::Unsupported(format!("no simulated {}", other.name())).into()),
    };
    Ok(match vendor {
        Vendor::Trezor => Device::trezor(t),
        _ => Device::ledger(t),
    })
}

/// `disconnected` while opening means nothing was there.
fn found(opened: Result<Device, Error>) -> Result<Device, Failure> {
    opened.map_err(|e| match e {
        Error::Disconnected => Failure::NoDevice,
        other => Failure::Hw(other),
    })
}

fn open_hid(kind: DeviceKind) -> Result<Device, Error> {
    let t: Box<dyn Transport> = Box::new(HidapiTransport::open_first_of(kind)?);
    Device::open(t)
}

fn open_usb() -> Result<Device, Error> {
    let t: Box<dyn Transport> = Box::new(UsbTransport::open_first()?);
    Device::open(t)
}

/// Lists what is plugged in first, so that "nothing there" and "there but cannot be
/// opened" read differently; then opens the first by preference.
fn open_auto() -> Result<Device, Failure> {
    let kinds: Vec<DeviceKind> = list_devices()
        .map_err(|_| Failure::NoDevice)?
        .iter()
        .filter_map(classify)
        .collect();
    let has = |k: DeviceKind| kinds.contains(&k);
    if has(DeviceKind::Ledger) {
        found(open_hid(DeviceKind::Ledger))
    } else if has(DeviceKind::Trezor) || has(DeviceKind::TrezorBootloader) {
        found(open_usb())
    } else if has(DeviceKind::TrezorOneHid) {
        found(open_hid(DeviceKind::TrezorOneHid))
    } else {
        Err(Failure::NoDevice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_selections() {
        assert_eq!(Selection::parse("auto").unwrap(), Selection::Auto);
        assert_eq!(
            Selection::parse("speculos").unwrap(),
            Selection::Speculos(SPECULOS_ADDR.into())
        );
        assert_eq!(
            Selection::parse("trezor-udp:[::1]:21324").unwrap(),
            Selection::TrezorUdp("[::1]:21324".into())
        );
        assert_eq!(
            Selection::parse("simulator:trezor").unwrap(),
            Selection::Simulator(Vendor::Trezor)
        );
        for bad in ["", "hid:1", "ledger", "usb:x", "simulator:x"] {
            assert!(Selection::parse(bad).is_err(), "{bad}");
        }
    }
}
