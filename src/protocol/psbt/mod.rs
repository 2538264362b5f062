//! PSBT helpers both vendors use: raw maps kept byte for byte, v0/v2 conversion, and
//! signature verification and insertion.

pub mod change;
pub mod finalize;
pub mod raw;
pub mod sighash;
pub mod signature;
pub mod signing;
pub mod summary;
pub mod view;

pub use raw::RawPsbt;
pub use signing::{Replaced, SignOptions, Signed};
