//! Native links: hidapi (Ledger, legacy Trezor One), USB through nusb (current
//! Trezors), the Speculos emulator's TCP socket and the Trezor emulator's UDP port, and
//! the list of wallets plugged in.

#[cfg(feature = "hidapi")]
pub mod hidapi;
#[cfg(any(feature = "hidapi", feature = "usb"))]
pub mod list;
#[cfg(feature = "speculos")]
pub mod speculos;
#[cfg(feature = "trezor-udp")]
pub mod udp;
#[cfg(feature = "usb")]
pub mod usb;
