//! Native USB through nusb: current Trezors (One >= 1.7, T, Safe; vendor 0x1209,
//! product 0x53c1), the devices browsers reach through WebUSB.
//!
//! The transport claims interface 0 and moves 64-byte interrupt transfers on endpoints
//! 0x01 (out) and 0x81 (in). A read that times out stays queued with the OS and is
//! picked up by the next `recv`, so a late report is not lost. A Trezor in bootloader
//! mode (product 0x53c0) is refused with a clear message.

use std::time::Duration;

use futures::future::LocalBoxFuture;
use nusb::transfer::{Buffer, In, Interrupt, Out, TransferError};
use nusb::{DeviceInfo, MaybeFuture};

use crate::error::{Error, Result};
use crate::protocol::identify::{bootloader_error, classify_usb, DeviceKind, TREZOR_INTERFACE};
use crate::transport::{Identity, Packets, Transport};

/// The OUT endpoint of a Trezor's message interface.
pub const ENDPOINT_OUT: u8 = 0x01;
/// The IN endpoint of a Trezor's message interface.
pub const ENDPOINT_IN: u8 = 0x81;
/// The size of one transfer.
pub const PACKET_SIZE: usize = 64;
/// How long one write may take, in milliseconds.
pub const WRITE_TIMEOUT_MS: u64 = 10_000;

/// What a USB device is, from its ids and the class of its interface 0.
pub fn kind_of(info: &DeviceInfo) -> Option<DeviceKind> {
    let class = info
        .interfaces()
        .find(|i| i.interface_number() == TREZOR_INTERFACE)
        .map(|i| i.class());
    classify_usb(info.vendor_id(), info.product_id(), class)
}

fn identity_of(info: &DeviceInfo) -> Identity {
    Identity {
        vendor_id: info.vendor_id(),
        product_id: info.product_id(),
        usage_page: None,
        product_name: info.product_string().unwrap_or("Trezor").to_string(),
    }
}

fn usb_error(e: nusb::Error) -> Error {
    Error::Transport(format!("usb: {e}"))
}

/// The Trezors (including any in bootloader mode) nusb sees now.
///
/// # Errors
/// `transport` when the system's USB devices cannot be listed.
pub fn list_trezors() -> Result<Vec<Identity>> {
    Ok(nusb::list_devices()
        .wait()
        .map_err(usb_error)?
        .filter(|d| kind_of(d).is_some())
        .map(|d| identity_of(&d))
        .collect())
}

/// Where a device is plugged: its bus number (three digits) and port numbers,
/// colon-separated (`001:1:4`, as trezorlib names WebUSB devices).
pub fn port_path(info: &DeviceInfo) -> String {
    let bus: u32 = info.bus_id().parse().unwrap_or(0);
    let mut path = format!("{bus:03}");
    for p in info.port_chain() {
        path.push_str(&format!(":{p}"));
    }
    path
}

/// The Trezors nusb sees now, with their [`port_path`]s.
///
/// # Errors
/// `transport` when the system's USB devices cannot be listed.
pub fn list_trezor_ports() -> Result<Vec<(String, Identity)>> {
    Ok(nusb::list_devices()
        .wait()
        .map_err(usb_error)?
        .filter(|d| kind_of(d).is_some())
        .map(|d| (port_path(&d), identity_of(&d)))
        .collect())
}

/// Which step of opening failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Open,
    Claim,
}

/// How a failed open or claim reads to the caller: a vanished device is
/// `disconnected`, missing permissions a `transport` error with the fix, and an
/// interface that cannot be claimed `busy` (another app holds it).
fn open_error(kind: nusb::ErrorKind, step: Step, detail: &dyn core::fmt::Display) -> Error {
    match (kind, step) {
        (nusb::ErrorKind::Disconnected, _) | (nusb::ErrorKind::NotFound, Step::Open) => {
            Error::Disconnected
        }
        (nusb::ErrorKind::PermissionDenied, _) => Error::Transport(format!(
            "no permission to use the trezor (on linux, install trezor's udev rules): {detail}"
        )),
        (nusb::ErrorKind::Busy, Step::Open) => {
            Error::Busy(format!("cannot open the trezor: {detail}"))
        }
        (_, Step::Claim) => Error::Busy(format!(
            "the trezor is held by another app (cannot claim interface {TREZOR_INTERFACE}: {detail})"
        )),
        (_, Step::Open) => Error::Transport(format!("cannot open the trezor: {detail}")),
    }
}

fn transfer_error(e: TransferError) -> Error {
    match e {
        TransferError::Disconnected => Error::Disconnected,
        other => Error::Transport(format!("usb transfer failed: {other}")),
    }
}

/// An open Trezor over native USB.
pub struct UsbTransport {
    identity: Identity,
    out: nusb::Endpoint<Interrupt, Out>,
    input: nusb::Endpoint<Interrupt, In>,
    gone: bool,
}

impl core::fmt::Debug for UsbTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UsbTransport")
            .field("identity", &self.identity)
            .field("gone", &self.gone)
            .finish_non_exhaustive()
    }
}

impl UsbTransport {
    /// Opens the first Trezor found.
    ///
    /// # Errors
    /// `disconnected` when none is plugged in, `unsupported` when the only one is in
    /// bootloader mode, `busy` when its interface cannot be claimed, `transport` when
    /// USB cannot be used at all (permissions: install Trezor's udev rules on Linux).
    pub fn open_first() -> Result<Self> {
        let devices: Vec<DeviceInfo> = nusb::list_devices()
            .wait()
            .map_err(usb_error)?
            .filter(|d| kind_of(d).is_some())
            .collect();
        match devices
            .iter()
            .find(|d| kind_of(d) == Some(DeviceKind::Trezor))
        {
            Some(info) => Self::open(info),
            None if devices.is_empty() => Err(Error::Disconnected),
            None => Err(bootloader_error()),
        }
    }

    /// Opens the Trezor plugged at `port` (a [`port_path`]).
    ///
    /// # Errors
    /// `disconnected` when no Trezor is there; see [`UsbTransport::open`].
    pub fn open_port(port: &str) -> Result<Self> {
        let info = nusb::list_devices()
            .wait()
            .map_err(usb_error)?
            .find(|d| kind_of(d).is_some() && port_path(d) == port)
            .ok_or(Error::Disconnected)?;
        Self::open(&info)
    }

    /// Opens the Trezor `info` describes.
    ///
    /// # Errors
    /// `unsupported` for a Trezor in bootloader mode, `disconnected` when it is gone,
    /// `busy` when another app holds its interface, `transport` otherwise.
    pub fn open(info: &DeviceInfo) -> Result<Self> {
        if kind_of(info) == Some(DeviceKind::TrezorBootloader) {
            return Err(bootloader_error());
        }
        let device = info
            .open()
            .wait()
            .map_err(|e| open_error(e.kind(), Step::Open, &e))?;
        let interface = device
            .claim_interface(TREZOR_INTERFACE)
            .wait()
            .map_err(|e| open_error(e.kind(), Step::Claim, &e))?;
        let out = interface
            .endpoint::<Interrupt, Out>(ENDPOINT_OUT)
            .map_err(usb_error)?;
        let input = interface
            .endpoint::<Interrupt, In>(ENDPOINT_IN)
            .map_err(usb_error)?;
        Ok(UsbTransport {
            identity: identity_of(info),
            out,
            input,
            gone: false,
        })
    }

    fn check(&mut self, result: Result<Vec<u8>>) -> Result<Vec<u8>> {
        if matches!(result, Err(Error::Disconnected)) {
            self.gone = true;
        }
        result
    }

    fn read(&mut self, timeout_ms: u32) -> Result<Vec<u8>> {
        if self.gone {
            return Err(Error::Disconnected);
        }
        if self.input.pending() == 0 {
            let buffer = self.input.allocate(PACKET_SIZE);
            self.input.submit(buffer);
        }
        let completion = self
            .input
            .wait_next_complete(Duration::from_millis(u64::from(timeout_ms)))
            .ok_or(Error::Timeout {
                after_ms: timeout_ms,
            })?;
        let buffer = completion.into_result().map_err(transfer_error)?;
        Ok(buffer.into_vec())
    }

    fn write(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        if self.gone {
            return Err(Error::Disconnected);
        }
        self.out.submit(Buffer::from(data.to_vec()));
        let Some(completion) = self
            .out
            .wait_next_complete(Duration::from_millis(WRITE_TIMEOUT_MS))
        else {
            // Take the cancelled transfer back so the endpoint stays usable.
            self.out.cancel_all();
            let _ = self.out.wait_next_complete(Duration::from_secs(1));
            return Err(Error::Timeout {
                after_ms: WRITE_TIMEOUT_MS as u32,
            });
        };
        completion.status.map_err(transfer_error)?;
        if completion.actual_len != data.len() {
            return Err(Error::Transport(format!(
                "usb write sent {} of {} bytes",
                completion.actual_len,
                data.len()
            )));
        }
        Ok(Vec::new())
    }
}

impl Transport for UsbTransport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let result = self.write(data);
            self.check(result).map(|_| ())
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            let result = self.read(timeout_ms);
            self.check(result)
        })
    }

    fn discard_pending(&mut self) {
        // A read still submitted belongs to a reply given up on: its packet, whenever it
        // comes, is stale. Cancel it and take it back (drained, not read).
        if !self.gone && self.input.pending() > 0 {
            self.input.cancel_all();
            while self.input.pending() > 0 {
                if self
                    .input
                    .wait_next_complete(Duration::from_millis(200))
                    .is_none()
                {
                    break;
                }
            }
        }
    }

    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            // Pending reads are cancelled; the interface is released when the
            // endpoints (its last references) are dropped with the transport.
            if !self.gone && self.input.pending() > 0 {
                self.input.cancel_all();
                let _ = self.input.wait_next_complete(Duration::from_secs(1));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nusb::ErrorKind;

    #[test]
    fn open_and_claim_failures_read_clearly() {
        let code = |kind, step| open_error(kind, step, &"os says no").code();
        assert_eq!(code(ErrorKind::Disconnected, Step::Open), "disconnected");
        assert_eq!(code(ErrorKind::NotFound, Step::Open), "disconnected");
        assert_eq!(code(ErrorKind::Disconnected, Step::Claim), "disconnected");
        assert_eq!(code(ErrorKind::Busy, Step::Open), "busy");
        assert_eq!(code(ErrorKind::Busy, Step::Claim), "busy");
        assert_eq!(code(ErrorKind::Other, Step::Claim), "busy");
        assert_eq!(code(ErrorKind::Other, Step::Open), "transport");
        let denied = open_error(ErrorKind::PermissionDenied, Step::Claim, &"eacces");
        assert_eq!(denied.code(), "transport");
        assert!(denied.to_string().contains("udev rules"), "{denied}");
        let held = open_error(ErrorKind::Busy, Step::Claim, &"ebusy").to_string();
        assert_eq!(
            held,
            "the device is busy: the trezor is held by another app (cannot claim interface 0: ebusy)"
        );
    }

    #[test]
    fn transfer_failures_map_to_codes() {
        assert_eq!(
            transfer_error(TransferError::Disconnected),
            Error::Disconnected
        );
        for e in [
            TransferError::Stall,
            TransferError::Fault,
            TransferError::Cancelled,
            TransferError::InvalidArgument,
        ] {
            assert_eq!(transfer_error(e).code(), "transport");
        }
    }
}
