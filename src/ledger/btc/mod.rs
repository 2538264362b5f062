//! The Ledger Bitcoin app (protocol 2.1+): Merkle commitments, the client-command
//! interpreter, wallet policies, and the app's commands.

pub mod client;
pub mod descriptor;
pub mod interpreter;
pub mod merkle;
pub mod policy;
pub mod standard;
pub mod store;
