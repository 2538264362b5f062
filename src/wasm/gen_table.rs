//! libsecp256k1's table of multiples of G, left out of the device entries.
//!
//! The C library's context creation (`secp256k1_context_preallocated_create`, called by
//! the `secp256k1` crate's exported `rustsecp256k1_v0_10_0_context_create`, which a
//! `cdylib` always keeps) references `secp256k1_ecmult_gen`, and through it the 32 KB
//! precomputed table `rustsecp256k1_v0_10_0_ecmult_gen_prec_table` (its own object file,
//! `precomputed_ecmult_gen.o`, in the library's archive). That table serves signing and
//! key generation only: the host never signs or creates a key with libsecp256k1 (it
//! verifies signatures, recovers and tweaks public keys, which use the other table),
//! and the context creation passes no seed, so it returns before `ecmult_gen` runs.
//!
//! Defining the symbol here (zeroed, in `.bss`: no bytes in the module) keeps the
//! linker from taking the archive's member: the table's 32 KB of random-looking data
//! (33 KB gzip) leave the module. Builds with the simulators (which sign) keep the real
//! table: this file is compiled only without the `simulator` feature.

/// Same size as the real table (`ECMULT_GEN_PREC_BITS = 2`, the `secp-lowmemory`
/// setting: 128 x 4 points of 64 bytes), all zeros: should signing code ever run here,
/// it reads zeros in bounds rather than other data.
#[no_mangle]
#[used]
static rustsecp256k1_v0_10_0_ecmult_gen_prec_table: [u8; 32_768] = [0; 32_768];
