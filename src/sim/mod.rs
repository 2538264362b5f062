//! Simulated devices that speak the real wire protocols and really sign, from a BIP-39
//! seed: for developing and testing without hardware (feature `simulator`).
//!
//! Both simulators are sans-IO: bytes in, bytes out. They are served in memory (the
//! demo page, the browser tests), over HID framing in memory (to exercise the WebHID
//! path), and natively on the emulators' sockets so that the vendors' own clients can
//! be pointed at them. [`fault`] lists the misbehaviours a test can switch on.

pub mod confirm;
pub mod fault;
pub mod ledger;
pub mod sample;
pub mod seed;
pub mod trezor;
