//! Native HID through hidapi: Ledger devices (vendor 0x2c97) and the legacy Trezor One
//! (vendor 0x534c, product 0x0001, firmware before 1.7).
//!
//! Writes carry a leading 0x00 report id (65 bytes); reads return 64-byte reports. The
//! Ledger interface is the one on usage page 0xFFA0, the Trezor One's on 0xFF00, or
//! interface 0 where the OS reports no usage page (see
//! [`crate::protocol::identify`]). FIDO interfaces are never opened.

use std::ffi::CString;
use std::time::{Duration, Instant};

use futures::future::LocalBoxFuture;
use hidapi::{DeviceInfo, HidApi, HidDevice};

use crate::error::{Error, Result};
use crate::protocol::identify::{classify_hid, DeviceKind};
pub use crate::protocol::identify::{LEDGER_USAGE_PAGE, LEDGER_VENDOR_ID};
use crate::transport::{Identity, Packets, Transport};

/// An open Ledger or legacy Trezor One over hidapi.
pub struct HidapiTransport {
    api: HidApi,
    device: HidDevice,
    identity: Identity,
    kind: DeviceKind,
}

impl core::fmt::Debug for HidapiTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HidapiTransport")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

fn hid_error(e: hidapi::HidError) -> Error {
    Error::Transport(e.to_string())
}

/// What a HID interface is (`None`: not a wallet's protocol interface).
pub fn kind_of(api: &HidApi, info: &DeviceInfo) -> Option<DeviceKind> {
    let page = match info.usage_page() {
        0 => descriptor_usage_page(api, info),
        page => Some(page),
    };
    classify_hid(
        info.vendor_id(),
        info.product_id(),
        page,
        Some(info.interface_number()),
    )
}

/// Where the platform reports no usage page, reads the interface's HID report
/// descriptor for it (wallet vendors only: other devices are not opened).
fn descriptor_usage_page(api: &HidApi, info: &DeviceInfo) -> Option<u16> {
    let maybe_wallet = matches!(
        info.vendor_id(),
        LEDGER_VENDOR_ID | crate::protocol::identify::TREZOR_ONE_HID_VENDOR_ID
    );
    if !maybe_wallet {
        return None;
    }
    let device = info.open_device(api).ok()?;
    let mut buf = [0u8; hidapi::MAX_REPORT_DESCRIPTOR_SIZE];
    let n = device.get_report_descriptor(&mut buf).ok()?;
    crate::protocol::identify::report_descriptor::primary_usage_page(buf.get(..n)?)
        .ok()
        .flatten()
}

/// True for the Ledger's APDU interface among a device's HID interfaces.
pub fn is_ledger_interface(api: &HidApi, info: &DeviceInfo) -> bool {
    kind_of(api, info) == Some(DeviceKind::Ledger)
}

/// True for the legacy Trezor One's message interface among its HID interfaces.
pub fn is_trezor_one_interface(api: &HidApi, info: &DeviceInfo) -> bool {
    kind_of(api, info) == Some(DeviceKind::TrezorOneHid)
}

/// The wallet interfaces (Ledger and legacy Trezor One) hidapi sees now.
///
/// # Errors
/// `transport` when hidapi cannot start.
pub fn list_wallets() -> Result<Vec<Identity>> {
    let api = HidApi::new().map_err(hid_error)?;
    Ok(api
        .device_list()
        .filter_map(|d| kind_of(&api, d).map(|k| identity_of(d, k)))
        .collect())
}

/// The Ledger interfaces hidapi sees now.
///
/// # Errors
/// `transport` when hidapi cannot start.
pub fn list_ledgers() -> Result<Vec<Identity>> {
    let api = HidApi::new().map_err(hid_error)?;
    Ok(api
        .device_list()
        .filter(|d| is_ledger_interface(&api, d))
        .map(|d| identity_of(d, DeviceKind::Ledger))
        .collect())
}

/// The wallet interfaces hidapi sees now, with their platform paths (what
/// [`HidapiTransport::open_path`] takes).
///
/// # Errors
/// `transport` when hidapi cannot start.
pub fn list_wallet_paths() -> Result<Vec<(String, DeviceKind, Identity)>> {
    let api = HidApi::new().map_err(hid_error)?;
    Ok(api
        .device_list()
        .filter_map(|d| {
            let kind = kind_of(&api, d)?;
            let path = d.path().to_string_lossy().into_owned();
            Some((path, kind, identity_of(d, kind)))
        })
        .collect())
}

fn identity_of(info: &DeviceInfo, kind: DeviceKind) -> Identity {
    let fallback = match kind {
        DeviceKind::TrezorOneHid => "Trezor One",
        _ => "Ledger",
    };
    Identity {
        vendor_id: info.vendor_id(),
        product_id: info.product_id(),
        usage_page: Some(info.usage_page()),
        product_name: info.product_string().unwrap_or(fallback).to_string(),
    }
}

fn open_first(api: &HidApi, kind: DeviceKind) -> Result<(HidDevice, Identity)> {
    let info = api
        .device_list()
        .find(|d| kind_of(api, d) == Some(kind))
        .ok_or(Error::Disconnected)?;
    let path: CString = info.path().into();
    let device = api
        .open_path(&path)
        .map_err(|e| Error::Busy(format!("cannot open the {}: {e}", kind.name())))?;
    Ok((device, identity_of(info, kind)))
}

impl HidapiTransport {
    /// Opens the first Ledger found.
    ///
    /// # Errors
    /// `disconnected` when none is plugged in, `busy` when it cannot be opened.
    pub fn open_first() -> Result<Self> {
        Self::open_first_of(DeviceKind::Ledger)
    }

    /// Opens the first device of `kind` found (`Ledger` or `TrezorOneHid`).
    ///
    /// # Errors
    /// `unsupported` for a kind that is not HID, `disconnected` when none is plugged
    /// in, `busy` when it cannot be opened.
    pub fn open_first_of(kind: DeviceKind) -> Result<Self> {
        if !matches!(kind, DeviceKind::Ledger | DeviceKind::TrezorOneHid) {
            return Err(Error::Unsupported(
                "current trezors are not hid devices: use the usb transport".into(),
            ));
        }
        let api = HidApi::new().map_err(hid_error)?;
        let (device, identity) = open_first(&api, kind)?;
        Ok(HidapiTransport {
            api,
            device,
            identity,
            kind,
        })
    }

    /// Opens the wallet interface at `path` (a path from [`list_wallet_paths`]).
    ///
    /// # Errors
    /// `disconnected` when no wallet interface has that path, `busy` when it cannot be
    /// opened.
    pub fn open_path(path: &str) -> Result<Self> {
        let api = HidApi::new().map_err(hid_error)?;
        let (info, kind) = api
            .device_list()
            .find_map(|d| {
                let kind = kind_of(&api, d)?;
                (d.path().to_string_lossy() == path).then_some((d, kind))
            })
            .ok_or(Error::Disconnected)?;
        let identity = identity_of(info, kind);
        let c_path: CString = info.path().into();
        let device = api
            .open_path(&c_path)
            .map_err(|e| Error::Busy(format!("cannot open the {}: {e}", kind.name())))?;
        Ok(HidapiTransport {
            api,
            device,
            identity,
            kind,
        })
    }

    /// Which kind of device this transport serves.
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }
}

impl Transport for HidapiTransport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut report = Vec::with_capacity(data.len() + 1);
            report.push(0x00);
            report.extend_from_slice(data);
            self.device
                .write(&report)
                .map_err(|_| Error::Disconnected)?;
            Ok(())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            let mut buf = [0u8; 64];
            let timeout = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
            let n = self
                .device
                .read_timeout(&mut buf, timeout)
                .map_err(|_| Error::Disconnected)?;
            if n == 0 {
                return Err(Error::Timeout {
                    after_ms: timeout_ms,
                });
            }
            Ok(buf.iter().take(n).copied().collect())
        })
    }

    fn discard_pending(&mut self) {
        // Reports already queued by the OS: read with time-out 0 until none is left
        // (bounded, in case the device keeps sending).
        let mut buf = [0u8; 64];
        for _ in 0..4096 {
            match self.device.read_timeout(&mut buf, 0) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }

    fn reconnect(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms));
            // Give the device time to drop off the bus before looking for it again.
            std::thread::sleep(Duration::from_millis(500));
            loop {
                self.api.refresh_devices().map_err(hid_error)?;
                if let Ok((device, identity)) = open_first(&self.api, self.kind) {
                    self.device = device;
                    self.identity = identity;
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    return Err(Error::Disconnected);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    }
}
