//! Ledger, sans-IO: the 64-byte HID framing, APDUs and status words, the dashboard's
//! commands, one request as a state machine ([`request::Request`]), and the Bitcoin
//! app's client ([`btc`]).

pub mod apdu;
pub mod btc;
pub mod dashboard;
pub mod framing;
pub mod request;
