//! Browser links: WebHID (Ledger, legacy Trezor One), WebUSB (current Trezors), a
//! Ledger behind the caller's own APDU function, and the browser timers they share.

pub mod browser;
pub mod exchange;
pub mod link;
pub mod webhid;
pub mod webusb;
