//! Native HID through hidapi: Ledger devices (vendor 0x2c97).
//!
//! Writes carry a leading 0x00 report id (65 bytes); reads return 64-byte reports. The
//! Ledger interface is the one on usage page 0xFFA0, or interface 0 where the OS reports
//! no usage page.

use std::ffi::CString;
use std::time::{Duration, Instant};

use futures::future::LocalBoxFuture;
use hidapi::{DeviceInfo, HidApi, HidDevice};

use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Ledger's USB vendor id.
pub const LEDGER_VENDOR_ID: u16 = 0x2c97;
/// Ledger's HID usage page.
pub const LEDGER_USAGE_PAGE: u16 = 0xffa0;

/// An open Ledger over hidapi.
pub struct HidapiTransport {
    api: HidApi,
    device: HidDevice,
    identity: Identity,
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

/// True for the Ledger's APDU interface among a device's HID interfaces.
pub fn is_ledger_interface(info: &DeviceInfo) -> bool {
    info.vendor_id() == LEDGER_VENDOR_ID
        && (info.usage_page() == LEDGER_USAGE_PAGE
            || (info.usage_page() == 0 && info.interface_number() == 0))
}

/// The Ledger interfaces hidapi sees now.
///
/// # Errors
/// `transport` when hidapi cannot start.
pub fn list_ledgers() -> Result<Vec<Identity>> {
    let api = HidApi::new().map_err(hid_error)?;
    Ok(api
        .device_list()
        .filter(|d| is_ledger_interface(d))
        .map(identity_of)
        .collect())
}

fn identity_of(info: &DeviceInfo) -> Identity {
    Identity {
        vendor_id: info.vendor_id(),
        product_id: info.product_id(),
        usage_page: Some(info.usage_page()),
        product_name: info.product_string().unwrap_or("Ledger").to_string(),
    }
}

fn open_first(api: &HidApi) -> Result<(HidDevice, Identity)> {
    let info = api
        .device_list()
        .find(|d| is_ledger_interface(d))
        .ok_or(Error::Disconnected)?;
    let path: CString = info.path().into();
    let device = api
        .open_path(&path)
        .map_err(|e| Error::Busy(format!("cannot open the ledger: {e}")))?;
    Ok((device, identity_of(info)))
}

impl HidapiTransport {
    /// Opens the first Ledger found.
    ///
    /// # Errors
    /// `disconnected` when none is plugged in, `busy` when it cannot be opened.
    pub fn open_first() -> Result<Self> {
        let api = HidApi::new().map_err(hid_error)?;
        let (device, identity) = open_first(&api)?;
        Ok(HidapiTransport {
            api,
            device,
            identity,
        })
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
            Ok(buf[..n.min(64)].to_vec())
        })
    }

    fn reconnect(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms));
            // Give the device time to drop off the bus before looking for it again.
            std::thread::sleep(Duration::from_millis(500));
            loop {
                self.api.refresh_devices().map_err(hid_error)?;
                if let Ok((device, identity)) = open_first(&self.api) {
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
