//! The Bitcoin calls of a Trezor, as sans-IO [`Call`](crate::protocol::trezor::call::Call)s:
//! keys and addresses, message signing, and PSBT signing through SignTx.

pub mod descriptor;
pub mod finish;
pub mod keys;
pub mod message;
pub mod multisig;
pub mod plan;
pub mod sign_tx;

pub use keys::{Coin, DeviceXpub};
pub use message::SignedMessage;
