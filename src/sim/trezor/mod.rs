//! A simulated Trezor (model T, firmware 2.8.0) that speaks codec v1 and really signs
//! from a [`Seed`](crate::sim::seed::Seed): sessions, Features, ButtonRequest on every confirmation (answered
//! by a [`Confirm`](crate::sim::confirm::Confirm) policy), GetPublicKey, GetAddress (multisig too), SignMessage,
//! SignTx in the firmware's streaming order, and the faults of [`Faults`](crate::sim::fault::Faults).
//!
//! It is sans-IO: [`TrezorSim::handle_message`] maps a message to replies, and
//! [`TrezorSim::handle_packet`] does the same over 64-byte packets (applying the
//! link-level faults). [`TrezorSim::into_transport`] puts it behind a
//! [`MemoryTransport`](crate::transport::memory::MemoryTransport); [`serve_udp`] serves it like the emulator.

mod calls;
mod change;
mod firmware;
pub mod keys;
mod link;
mod orig;
mod ownership;
mod scripts;
mod settings;
pub mod sign_tx;
mod stream;
pub mod thp;
#[cfg(not(target_arch = "wasm32"))]
mod udp;
mod unlock;
mod verify;

pub use firmware::TrezorSim;
pub use thp::{Safe7Sim, Safe7Transport};
#[cfg(not(target_arch = "wasm32"))]
pub use udp::{
    matrix_text, serve_debug_link, serve_socket, serve_socket_showing, serve_udp, UdpDevice,
};
pub use unlock::{positions as pin_positions, Model, Protection};
