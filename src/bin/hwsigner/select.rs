//! `--device`: which wallet a command talks to, and opening it.

use hwsigner::device::Device;
use hwsigner::transport::hidapi::HidapiTransport;
use hwsigner::transport::identify::{classify, DeviceKind};
use hwsigner::transport::speculos::SpeculosTransport;
use hwsigner::transport::udp::UdpTransport;
use hwsigner::transport::usb::UsbTransport;
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
}

impl Selection {
    /// Reads `auto|hid|usb|speculos[:HOST:PORT]|trezor-udp[:HOST:PORT]`.
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
            _ => Err(Failure::usage(format!(
                "--device {text:?} is not auto, hid, usb, speculos[:HOST:PORT] or trezor-udp[:HOST:PORT]"
            ))),
        }
    }

    /// Opens the selected wallet.
    ///
    /// # Errors
    /// [`Failure::NoDevice`] when no wallet is plugged in; the transport's error when
    /// one is there but cannot be opened (busy, no permission, bootloader mode).
    pub fn open(&self) -> Result<Device, Failure> {
        match self {
            Selection::Auto => open_auto(),
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
        for bad in ["", "hid:1", "ledger", "usb:x"] {
            assert!(Selection::parse(bad).is_err(), "{bad}");
        }
    }
}
