#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! One crate to talk to Bitcoin hardware wallets, from a web page (WebAssembly over
//! WebHID) and natively (hidapi, or the Speculos emulator's socket).
//!
//! Data flows down one stack, and each layer knows only the one below it:
//!
//! - **Protocol clients** ([`ledger::btc`], [`ledger::dashboard`]) are sans-IO state
//!   machines ([`ledger::request::Request`]): a command goes out as bytes, replies come
//!   in as bytes, and the machine says what to send next or hands back a checked result.
//!   They never await, sleep or read a clock, so recorded exchanges test them exactly.
//! - **Framing** ([`ledger::framing`], [`ledger::apdu`]) are pure functions over
//!   64-byte HID reports and APDUs.
//! - **Transports** ([`transport`]) move reports or messages and nothing else; the same
//!   [`transport::Transport`] trait is implemented by WebHID in the browser, hidapi and
//!   the Speculos socket natively, and an in-memory link for tests.
//! - **[`ledger::Ledger`]** drives requests over a transport, one call at a time, and
//!   adds what needs several requests (inferring a standard policy for a PSBT, opening
//!   the Bitcoin app and following the device through its USB re-enumeration).
//!
//! Every signature a device returns is verified against its sighash before it goes into
//! the (new) PSBT; the caller's PSBT is never modified. Every failure is an [`Error`]
//! with a stable [`Error::code`]; no input from a caller or a device panics.

pub mod bytes;
pub mod error;
pub mod ledger;
pub mod psbt;
pub mod queue;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod transport;
pub mod trezor;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
