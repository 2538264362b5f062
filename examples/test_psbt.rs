//! Prints a base64 test PSBT for the simulated Ledger (Speculos' seed, testnet): two
//! coins received by `wpkh(@0/**)` with the key at m/84'/1'/0', spent to a foreign
//! address with change back. The JS bundler test signs it
//! (tests/js/fixtures/wpkh_psbt.b64 is this program's output).
//!
//! `cargo run --example test_psbt > tests/js/fixtures/wpkh_psbt.b64`

#[path = "../tests/common/fund.rs"]
#[allow(dead_code)]
mod fund;

use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};

fn main() {
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").expect("speculos seed");
    let key = fund::key_info(&seed, "m/84'/1'/0'");
    let policy = WalletPolicy::new("", "wpkh(@0/**)", vec![key]).expect("wpkh policy");
    let psbt = fund::funded_psbt(&policy, 2);
    // Psbt's Display is its base64 encoding.
    println!("{psbt}");
}
