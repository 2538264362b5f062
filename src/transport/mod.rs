//! The one trait every link to a device implements, and the links themselves.
//!
//! A transport moves bytes and nothing else: 64-byte HID reports for a USB device, or
//! whole messages for an emulator socket. It reports a vanished device as
//! `disconnected` and a silent one as `timeout`. Framing and protocols live above it.
//!
//! | link | where | devices |
//! |---|---|---|
//! | `web::webhid` | browser | Ledger, legacy Trezor One (firmware < 1.7) |
//! | `web::webusb` | browser | current Trezors (0x1209:0x53c1) |
//! | `web::exchange` | browser | a Ledger behind the caller's APDU function |
//! | `native::hidapi` | native | Ledger, legacy Trezor One |
//! | `native::usb` | native (nusb) | current Trezors |
//! | `native::speculos` | native | the Speculos emulator's APDU socket |
//! | `native::udp` | native | the Trezor emulator's UDP port |
//! | [`memory`] | both | the simulator, tests |
//!
//! [`crate::protocol::identify`] classifies devices by their USB/HID numbers for all of
//! them, and `list_devices` (native) lists the wallets plugged in.

use futures::future::LocalBoxFuture;

use crate::error::Result;

pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(all(not(target_arch = "wasm32"), any(feature = "hidapi", feature = "usb")))]
pub use native::list::list_devices;

/// What one `send` / `recv` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

    /// Drops whatever arrived and was not read (late or duplicated packets of an
    /// earlier, failed call), so that it cannot be taken for the next reply.
    fn discard_pending(&mut self) {}

    /// Gets back in step after a reply was given up on (a time-out): what is already
    /// there is dropped, and a link that can tell a late reply from the next one no
    /// other way starts afresh (the Speculos socket reconnects). The protocols resync
    /// on top of this (a new Ledger channel, a Trezor Ping that must come back).
    ///
    /// # Errors
    /// `disconnected` or `transport` when the link cannot be made again.
    fn resync(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        self.discard_pending();
        Box::pin(async { Ok(()) })
    }

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
    fn discard_pending(&mut self) {
        (**self).discard_pending()
    }
    fn resync(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        (**self).resync()
    }
    fn close(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        (**self).close()
    }
}
