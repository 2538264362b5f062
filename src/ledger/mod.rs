//! Ledger devices: framing, APDUs, the dashboard, the Bitcoin app client, and the async
//! [`Ledger`] that drives them over any [`Transport`].

pub mod apdu;
pub mod btc;
pub mod dashboard;
pub mod device;
pub mod framing;
pub mod request;

pub use device::{Ledger, SignOptions};
