//! The one trait every link to a device implements, and the links themselves.
//!
//! A transport moves bytes and nothing else: 64-byte HID reports for a USB device, or
//! whole messages for an emulator socket. It reports a vanished device as
//! `disconnected` and a silent one as `timeout`. Framing and protocols live above it.

use futures::future::LocalBoxFuture;

use crate::error::Result;

#[cfg(all(not(target_arch = "wasm32"), feature = "hidapi"))]
pub mod hidapi;
pub mod memory;
#[cfg(all(not(target_arch = "wasm32"), feature = "speculos"))]
pub mod speculos;
#[cfg(all(not(target_arch = "wasm32"), feature = "trezor-udp"))]
pub mod udp;
#[cfg(target_arch = "wasm32")]
pub mod webhid;

/// What one `send` / `recv` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packets {
    /// 64-byte HID reports; the protocol above frames and reassembles.
    Reports64,
    /// Whole messages (an emulator socket): one APDU out, one reply in (Ledger), or
    /// one `type u16 BE | length u32 BE | protobuf` message each way (Trezor).
    Messages,
}

/// Which device sits at the other end, as far as the link can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// USB vendor id (0 for emulators).
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// HID usage page, where known.
    pub usage_page: Option<u16>,
    /// Product name, where known.
    pub product_name: String,
}

/// A link to one device.
pub trait Transport {
    /// What one send or recv carries.
    fn packets(&self) -> Packets;

    /// What the link knows about the device.
    fn identity(&self) -> Identity;

    /// Sends one report or message.
    ///
    /// # Errors
    /// `disconnected` when the device is gone, `transport` when the write fails.
    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>>;

    /// Receives the next report or message, waiting at most `timeout_ms`.
    ///
    /// # Errors
    /// `timeout`, `disconnected` or `transport`.
    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>>;

    /// Finds the device again after it re-enumerated on USB (a Ledger opening or
    /// quitting an app), waiting at most `timeout_ms`. Links that never re-enumerate
    /// succeed at once.
    ///
    /// # Errors
    /// `disconnected` when the device does not come back in time.
    fn reconnect(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        let _ = timeout_ms;
        Box::pin(async { Ok(()) })
    }

    /// Releases the device.
    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn packets(&self) -> Packets {
        (**self).packets()
    }
    fn identity(&self) -> Identity {
        (**self).identity()
    }
    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        (**self).send(data)
    }
    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        (**self).recv(timeout_ms)
    }
    fn reconnect(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        (**self).reconnect(timeout_ms)
    }
    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        (**self).close()
    }
}
