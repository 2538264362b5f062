//! Trezor devices over codec v1: framing, hand-written protobuf messages, the call
//! machine (buttons, PIN, passphrase, failures), the Bitcoin calls, and the async
//! [`Trezor`] that drives them over any [`Transport`](crate::transport::Transport).
//!
//! Trezor Safe 7 speaks only the encrypted Trezor Host Protocol (THP); it answers
//! codec v1 with Failure 17, which surfaces as `unsupported`.

pub mod abort;
pub mod btc;
pub mod device;
mod device_btc;
pub mod failure;
pub mod features;
pub mod framing;
pub mod messages;
pub mod session;

pub use device::{Status, Trezor};
