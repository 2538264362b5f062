//! The async side: the one drive loop ([`drive()`]) that runs any protocol machine over
//! any [`Transport`](crate::transport::Transport) through a [`link::Link`], the caller's
//! handlers ([`prompts`]), and each vendor's glue: [`ledger::Ledger`] (opening the app,
//! policy inference) and [`trezor::Trezor`] (the session).

pub mod abort;
pub mod credentials;
mod drive;
pub mod ledger;
pub mod link;
pub mod prompts;
pub mod thp;
pub mod trezor;
mod trezor_link;

pub use drive::drive;
pub use prompts::{Hooks, PromptFns, Prompts};
