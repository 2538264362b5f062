#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! One crate to talk to Bitcoin hardware wallets, from a web page (WebAssembly over
//! WebHID and WebUSB) and natively (hidapi, USB through nusb, or the Speculos and
//! Trezor emulators' sockets). The folders show where the sans-IO line runs:
//!
//! ```text
//!   wasm/ (JS API)      bin/hwsigner/ (CLI)      Rust callers
//!            \                 |                  /
//!             device/   Device: one API for every vendor; one Status, one
//!                |      SignOptions, one Signed; xpub provenance checks
//!             driver/   drive(): THE drive loop; Hooks (status, Prompts for PIN and
//!                |      passphrase, time-out, abort); Link = Transport + Codec;
//!                |      per-vendor glue: ledger.rs (open app, policy inference),
//!                |      trezor.rs (session, re-init; trezor/bitcoin_calls.rs)
//! ---------------+------------------------------ no I/O below this line ---------
//!             protocol/ machine.rs: Machine { start, on_reply, on_answer, poll_event }
//!                |        -> Step::Send(msg) | Step::Need(pin, passphrase) | Done
//!                |      codec.rs: a message <-> 64-byte reports or a whole frame
//!                |      ledger/ (framing, APDUs, Request, the Bitcoin app client)
//!                |      trezor/ (codec v1, messages, Call, SignTx from a PSBT)
//!                |      policy/ (BIP-388, the standard-purpose table, musig()),
//!                |      musig/ (MuSig2 rounds, BIP-373 fields), psbt/, path
//!             transport/ the Transport trait; memory.rs; native/ (hidapi, usb,
//!                        speculos, udp); web/ (webhid, webusb, exchange)
//!   sim/  simulated Ledger and Trezor (sans-IO too), served in memory or on sockets
//! ```
//!
//! - **One machine shape** ([`protocol::machine::Machine`]): every protocol operation
//!   of every vendor (a Ledger request with its client commands, a Trezor call with its
//!   buttons, PIN and passphrase) starts, takes the device's replies and the caller's
//!   answers, and returns steps. It never awaits, sleeps, reads a clock or calls back:
//!   a PIN or passphrase request is a [`protocol::machine::Step::Need`], progress is a
//!   queued [`protocol::machine::Status`]. Tests run machines with plain bytes
//!   ([`protocol::machine::run_with`]); the fuzzer does too.
//! - **One drive loop** ([`driver::drive()`]) runs any machine over any
//!   [`transport::Transport`] through a [`driver::link::Link`] (the transport plus the
//!   vendor's [`protocol::codec::Codec`]), reports status events, answers needs from
//!   the caller's [`driver::Prompts`] (JS `onPin`/`onPassphrase`, CLI prompts on stdin, a
//!   Rust trait), applies time-outs, and on an abort sends the codec's cancel message
//!   (Trezor) or lets the call finish (Ledger).
//! - **Transports** move reports or messages and nothing else. Which wallet a USB or
//!   HID interface belongs to is decided in one place, [`protocol::identify`].
//! - **[`device::Device`]** picks the vendor from the transport's identity and gives
//!   one API in the ecosystem's formats: BIP-32 paths, descriptors and BIP-388
//!   policies, base64 PSBTs.
//! - **`cli::hwi`** (feature `cli`) is HWI 3.2.0's command line over the vendor glue
//!   (`hwi` binary, `hwsigner hwi`): HWI's parsing, JSON and error codes, and its rules
//!   for which inputs `signtx` signs, judged by HWI itself (`tests/hwi.rs`).
//!
//! ## Cargo features and the npm entries
//!
//! Natively the default features give everything. The npm package is built three times
//! from this crate (`make build`), each entry its own wasm:
//!
//! - `hwsigner`, with `--no-default-features`: both vendors (THP for the Safe 7
//!   included: about 29 KB gzip of it), every browser transport, PSBTs, policies, and the
//!   host-side checks and finalizing of the standard forms (`protocol::policy::forms`,
//!   `protocol::psbt::finalize`);
//! - `hwsigner/full`, with the two add-ons `miniscript` (any other policy derived and
//!   finalized on the host) and `musig` (MuSig2: `protocol::musig`); without them those
//!   calls are `unsupported`, naming the add-on and `hwsigner/full`;
//! - `hwsigner/simulator`, with `sim-entry`: the simulators' JS bindings alone
//!   (`wasm::sim`), reaching a device entry's `Device` through `ledgerFromExchange` (a
//!   Ledger's APDUs) and `trezorFromLink` (a Trezor One or T's messages, a Safe 7's
//!   64-byte THP packets).
//!
//! What keeps the device entries small: the PSBT view the host reads is decoded field by
//! field (`protocol::psbt::view`, not `bitcoin`'s deserializer) and finalizing rebuilds
//! the raw maps (not `bitcoin`'s serializer); libsecp256k1's table for signing, which
//! the host never does, is left out (`wasm::gen_table`); options are read field by field
//! (`wasm::args`, no serde); no float is formatted. Measure with a build that keeps the
//! names (`cargo build --release --lib --target wasm32-unknown-unknown
//! --no-default-features`, `wasm-bindgen`, `wasm-opt -Oz --debuginfo`) and `twiggy top`.
//!
//! Every signature a device returns is verified against its sighash before it goes into
//! the (new) PSBT (MuSig2 partial signatures with BIP-327 `PartialSigVerify`, see
//! [`protocol::musig`]); the caller's PSBT is never modified. Every failure is an [`Error`]
//! with a stable [`Error::code`]; no input from a caller or a device panics.
//!
//! ## From `signPsbt` to the wire
//!
//! Ledger: `wasm/device_class.rs` (`signPsbt`, the call queue) → `device/mod.rs`
//! (`Device::sign_psbt`) → `driver/ledger.rs` (policy inference, one request per
//! policy) → `protocol/ledger/btc/client.rs` (`sign_psbt`: PSBTv2 maps merkleized) →
//! `protocol/ledger/request.rs` (the machine; client commands answered by
//! `btc/interpreter.rs`) → `driver/drive.rs` → `driver/link.rs` →
//! `protocol/ledger/framing.rs` (64-byte reports) → `transport/web/webhid.rs`.
//!
//! Trezor: `wasm/device_class.rs` → `device/mod.rs` →
//! `driver/trezor/bitcoin_calls.rs` (`Trezor::sign_psbt`: session, fingerprint) →
//! `protocol/trezor/btc/plan.rs` (the SignTx plan from the PSBT) →
//! `protocol/trezor/btc/sign_tx.rs` (answers TxRequests) inside
//! `protocol/trezor/call.rs` (buttons, PIN, passphrase) → `driver/drive.rs` →
//! `driver/link.rs` → `protocol/trezor/framing.rs` (codec v1) →
//! `transport/web/webusb.rs`; then `protocol/trezor/btc/finish.rs` verifies and builds
//! the new PSBT.

#![warn(missing_docs)]
// No input from a caller or a device may panic: in WebAssembly a panic kills the module.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(all(feature = "cli", not(target_arch = "wasm32")))]
pub mod cli;
pub mod device;
pub mod driver;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod protocol;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
// The vendor-neutral data modules, at the crate root for callers.
pub use protocol::{path, policy, psbt};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
