//! Trezor, sans-IO: codec v1 framing, hand-written protobuf messages, one call as a
//! state machine ([`call::Call`]: buttons, PIN, passphrase, failures), the features
//! check, and the Bitcoin calls ([`btc`]).
//!
//! Trezor Safe 7 speaks only the encrypted Trezor Host Protocol (THP); it answers
//! codec v1 with Failure 17, which surfaces as `unsupported`.

pub mod btc;
pub mod call;
pub mod failure;
pub mod features;
pub mod framing;
pub mod messages;
