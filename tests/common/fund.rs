//! Test PSBTs: spend made-up coins that a wallet policy received.

use bitcoin::bip32::DerivationPath;
use bitcoin::psbt::Psbt;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::sim::seed::Seed;
use std::str::FromStr;

/// The key string `[fpr/path]xpub` of `seed` at `path` (testnet).
pub fn key_info(seed: &Seed, path: &str) -> String {
    let p = DerivationPath::from_str(path).unwrap();
    let xpub = seed.xpub(&p, bitcoin::NetworkKind::Test).unwrap();
    format!(
        "[{}/{}]{}",
        seed.fingerprint(),
        path.trim_start_matches("m/"),
        xpub
    )
}

/// A PSBT spending `n` coins received by `policy` (see `hwsigner::sim::sample`).
pub fn funded_psbt(policy: &WalletPolicy, n: usize) -> Psbt {
    hwsigner::sim::sample::funded_psbt(policy, n).unwrap()
}

/// The policies the simulated Ledger signs for: each standard single-key one, and
/// registered ones mixing this device's key with a foreign one. `(label, policy,
/// needs registration)`.
pub fn test_policies() -> Vec<(&'static str, WalletPolicy, bool)> {
    use hwsigner::sim::seed::{SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let other = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let k = |s: &Seed, p: &str| key_info(s, p);
    let p = |name: &str, t: &str, keys: Vec<String>| WalletPolicy::new(name, t, keys).unwrap();
    let shared = || vec![k(&me, "m/48'/1'/0'/2'"), k(&other, "m/48'/1'/0'/2'")];
    vec![
        (
            "wpkh",
            p("", "wpkh(@0/**)", vec![k(&me, "m/84'/1'/0'")]),
            false,
        ),
        (
            "sh(wpkh)",
            p("", "sh(wpkh(@0/**))", vec![k(&me, "m/49'/1'/0'")]),
            false,
        ),
        (
            "pkh",
            p("", "pkh(@0/**)", vec![k(&me, "m/44'/1'/0'")]),
            false,
        ),
        ("tr", p("", "tr(@0/**)", vec![k(&me, "m/86'/1'/0'")]), false),
        (
            "wsh(sortedmulti)",
            p("Multisig", "wsh(sortedmulti(2,@0/**,@1/**))", shared()),
            true,
        ),
        (
            "miniscript",
            p(
                "Decaying",
                "wsh(or_d(pk(@0/**),and_v(v:pkh(@1/**),older(100))))",
                shared(),
            ),
            true,
        ),
        (
            "tr script path",
            p("Tapscript", "tr(@1/**,pk(@0/**))", shared()),
            true,
        ),
    ]
}
