//! MuSig2 (BIP-327) in wallet policies, as the Ledger Bitcoin app (2.4+) does it.
//!
//! A `musig(@0,@1)/**` key expression (BIP-388 templates, BIP-390 descriptors) stands
//! for the aggregate of the keys' xpub public keys, **sorted** (the app and Ledger's
//! Python client sort them before KeyAgg), as an xpub with the BIP-328 chain code, then
//! derived like any other key (`/<0;1>/*`). Signing takes two SIGN_PSBT calls per
//! device:
//!
//! 1. **Nonces.** The PSBT has no `PSBT_IN_MUSIG2_PUB_NONCE`: the app yields one
//!    public nonce per (input, musig key expression it is part of), without asking the
//!    user. The host puts them into the PSBT (BIP-373).
//! 2. **Partial signatures.** Once the PSBT holds the nonces of every participant, the
//!    app (after the user approves) yields its partial signatures. The host verifies
//!    each one (BIP-327 `PartialSigVerify`) before it goes into the PSBT, and when
//!    every participant's is there, [`aggregate`] turns them into the input's Schnorr
//!    signature (checked against the BIP-341 sighash) before finalizing.
//!
//! The app decides the round from the PSBT: any public nonce means round 2. So that a
//! page can pass one PSBT from device to device, the host sends the PSBT without the
//! other participants' nonces until every nonce is in ([`prepare`]).
//!
//! [`fields`] (the BIP-373 keys) is always built; the cryptography needs the cargo
//! feature `musig` (the `musig2` crate), without which `musig()` policies are
//! `unsupported`.

pub mod fields;

#[cfg(feature = "musig")]
mod aggregate;
#[cfg(feature = "musig")]
pub mod keys;
#[cfg(feature = "musig")]
mod prepare;
#[cfg(feature = "musig")]
pub mod spend;
#[cfg(feature = "musig")]
mod verify;

#[cfg(feature = "musig")]
pub use aggregate::{aggregate, pending};
#[cfg(feature = "musig")]
pub use prepare::{add_participants, prepare, Prepared, Round};
#[cfg(feature = "musig")]
pub(crate) use verify::check;

use crate::error::Error;

/// The error for a `musig()` policy or MuSig2 field in a build without the `musig`
/// feature (the npm package's default entry).
pub fn unsupported() -> Error {
    Error::Unsupported(
        "musig2 needs the musig add-on (npm: import from \"hwsigner/full\"; rust: cargo feature `musig`)"
            .into(),
    )
}
