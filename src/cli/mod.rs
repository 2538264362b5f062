//! Command-line interfaces that live in the library (feature `cli`), so that the
//! binaries stay thin: [`hwi`], HWI's interface (the `hwi` binary and `hwsigner hwi`).

pub mod hwi;
