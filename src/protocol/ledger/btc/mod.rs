//! The Ledger Bitcoin app (protocol 2.1+): Merkle commitments, the client-command
//! interpreter, and the app's commands.

pub mod client;
pub mod interpreter;
pub mod merkle;
pub mod store;
