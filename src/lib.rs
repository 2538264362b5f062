#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! One crate to talk to Bitcoin hardware wallets, from a web page (WebAssembly over
//! WebHID and WebUSB) and natively (hidapi, USB through nusb, or the Speculos and
//! Trezor emulators' sockets).
//!
//! Data flows down one stack, and each layer knows only the one below it:
//!
//! - **Protocol clients** ([`ledger::btc`], [`ledger::dashboard`], [`trezor::btc`]) are
//!   sans-IO state machines ([`ledger::request::Request`], [`trezor::session::Call`]): a
//!   command goes out as bytes, replies come in as bytes, and the machine says what to
//!   send next or hands back a checked result. They never await, sleep or read a clock,
//!   so recorded exchanges and the simulators test them exactly. A Trezor call also
//!   answers ButtonRequest itself and PIN/passphrase requests through the caller's
//!   callbacks ([`trezor::session::Interaction`]), and maps Failure codes to [`Error`]s.
//! - **Framing** ([`ledger::framing`], [`ledger::apdu`], [`trezor::framing`]) are pure
//!   functions over 64-byte reports, APDUs and Trezor codec v1 packets. Trezor's
//!   protobuf messages ([`trezor::messages`]) are written by hand with `prost` derives:
//!   no protoc and no build script, so the wasm build needs nothing but cargo.
//! - **Transports** ([`transport`]) move reports or messages and nothing else; the same
//!   [`transport::Transport`] trait is implemented in the browser by WebHID (Ledger,
//!   legacy Trezor One) and WebUSB (current Trezors), natively by hidapi, USB (nusb)
//!   and the Speculos socket, and by an in-memory link for tests. Which wallet a USB or
//!   HID interface belongs to is decided in one place, [`transport::identify`].
//! - **[`ledger::Ledger`]** drives requests over a transport, one call at a time, and
//!   adds what needs several requests (inferring a standard policy for a PSBT, opening
//!   the Bitcoin app and following the device through its USB re-enumeration).
//!   **[`trezor::Trezor`]** does the same for Trezor calls: it keeps and resumes the
//!   session, re-initializes after a failed call, and turns a PSBT into the SignTx
//!   stream (script types from the PSBT's scripts, change by path, previous
//!   transactions) and the device's signatures back into a new PSBT.
//!
//! Every signature a device returns is verified against its sighash before it goes into
//! the (new) PSBT; the caller's PSBT is never modified. Every failure is an [`Error`]
//! with a stable [`Error::code`]; no input from a caller or a device panics.

// No input from a caller or a device may panic: in WebAssembly a panic kills the module.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod device;
pub mod driver;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod protocol;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
// The vendor-neutral data modules, at the crate root for callers.
pub use protocol::{path, policy, psbt};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
