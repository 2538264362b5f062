//! The async side: the one drive loop that runs any protocol machine over any
//! [`Transport`](crate::transport::Transport), and each vendor's glue (Ledger: opening
//! the app, policy inference; Trezor: the session).

pub mod abort;
pub mod ledger;
pub mod trezor;
mod trezor_btc;
