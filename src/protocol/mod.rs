//! Everything below the line where I/O starts: no async, no transport, no clocks.
//!
//! Every protocol operation of every vendor is a state machine of one shape
//! ([`machine::Machine`]): it starts, takes the device's replies and the caller's
//! answers, and returns [`machine::Step`]s. The driver ([`crate::driver`]) runs them
//! over a [`Transport`](crate::transport::Transport); tests run them with plain bytes.
//!
//! | module | owns |
//! |---|---|
//! | [`machine`] | the step shape every operation shares, and the one [`machine::Status`] |
//! | [`path`], [`policy`], [`psbt`] | BIP-32 paths, BIP-388 policies (the standard-purpose table once), PSBT maps, signatures, summaries, finalizing |
//! | [`musig`] | MuSig2 in wallet policies: BIP-373 fields, round detection, partial signature checks, aggregation |
//! | [`identify`] | which wallet a USB/HID interface is, from its numbers |
//! | [`ledger`] | HID framing, APDUs, the dashboard, the Bitcoin app client |
//! | [`trezor`] | codec v1, protobuf messages, calls, SignTx from a PSBT |
//! | [`thp`] | the Trezor Host Protocol (Safe 7): channel, Noise handshake, pairing |
//! | [`codec`] | how a message becomes 64-byte reports or a whole frame, per vendor |
//! | [`bytes`] | hex, varints, a bounds-checked reader |
//! | [`message`] | the BIP-137 header rule both vendors' message signatures follow |

pub mod bytes;
pub mod codec;
pub mod identify;
pub mod ledger;
pub mod machine;
pub mod message;
pub mod musig;
pub mod path;
pub mod policy;
pub mod psbt;
pub mod thp;
pub mod trezor;
