//! A signature is only as good as the key it is tied to: a valid signature over the
//! right sighash, by a key the input's script does not use, is a device's lie, even
//! when the PSBT gives no derivations or lists the key in its derivations.
#![cfg(not(target_arch = "wasm32"))]

use bitcoin::bip32::DerivationPath;
use bitcoin::hashes::Hash;
use bitcoin::key::Keypair;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{LeafVersion, TapLeafHash};
use bitcoin::{ecdsa, taproot, PublicKey, TxOut};
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::signature::{InputSignature, Verifier};
use hwsigner::sim::sample;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};

fn me() -> Seed {
    Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap()
}

fn other() -> Seed {
    Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap()
}

fn path(p: &str) -> DerivationPath {
    p.parse().unwrap()
}

fn key_info(seed: &Seed, p: &str) -> String {
    let xpub = seed.xpub(&path(p), bitcoin::NetworkKind::Test).unwrap();
    format!(
        "[{}/{}]{xpub}",
        seed.fingerprint(),
        p.trim_start_matches("m/")
    )
}

/// A valid ECDSA signature of input `index`'s sighash by `secret`.
fn ecdsa_sig(psbt: &Psbt, index: usize, secret: &SecretKey) -> InputSignature {
    let secp = Secp256k1::new();
    let mut cache = SighashCache::new(&psbt.unsigned_tx);
    let (msg, ty) = psbt.sighash_ecdsa(index, &mut cache).unwrap();
    InputSignature::Ecdsa {
        pubkey: PublicKey::new(secret.public_key(&secp)),
        sig: ecdsa::Signature {
            signature: secp.sign_ecdsa(&msg, secret),
            sighash_type: ty,
        },
    }
}

fn verify(psbt: &Psbt, index: usize, sig: &InputSignature) -> Result<(), hwsigner::Error> {
    let view = hwsigner::psbt::RawPsbt::parse(&psbt.serialize())?.view()?;
    Verifier::new(&view).verify(index, sig)
}

fn lie(r: Result<(), hwsigner::Error>, what: &str) {
    let e = r.expect_err("a signature by a key the script does not use passed");
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains(what), "{e}");
}

#[test]
fn an_input_without_derivations_still_binds_the_key_to_its_script() {
    let policy = sample::wpkh_policy(&me(), true).unwrap();
    let mut psbt = sample::funded_psbt(&policy, 1).unwrap();
    psbt.inputs[0].bip32_derivation.clear();
    let foreign = SecretKey::from_slice(&[7; 32]).unwrap();
    lie(
        verify(&psbt, 0, &ecdsa_sig(&psbt, 0, &foreign)),
        "which the input's script does not use",
    );
    // The key of the p2wpkh script passes, derivations or not.
    let mine = me().xpriv(&path("m/84'/1'/0'/0/0")).unwrap().private_key;
    verify(&psbt, 0, &ecdsa_sig(&psbt, 0, &mine)).unwrap();
}

#[test]
fn a_key_listed_in_the_derivations_but_not_in_the_witness_script_is_refused() {
    let policy = WalletPolicy::new(
        "Multisig",
        "wsh(sortedmulti(2,@0/**,@1/**))",
        vec![
            key_info(&me(), "m/48'/1'/0'/2'"),
            key_info(&other(), "m/48'/1'/0'/2'"),
        ],
    )
    .unwrap();
    let mut psbt = sample::funded_psbt(&policy, 1).unwrap();
    let secp = Secp256k1::new();
    let foreign = SecretKey::from_slice(&[9; 32]).unwrap();
    // The PSBT claims the foreign key is one of the input's.
    psbt.inputs[0].bip32_derivation.insert(
        foreign.public_key(&secp),
        (me().fingerprint(), path("m/48'/1'/0'/2'/0/7")),
    );
    lie(
        verify(&psbt, 0, &ecdsa_sig(&psbt, 0, &foreign)),
        "which the input's script does not use",
    );
    for seed in [me(), other()] {
        let k = seed.xpriv(&path("m/48'/1'/0'/2'/0/0")).unwrap().private_key;
        verify(&psbt, 0, &ecdsa_sig(&psbt, 0, &k)).unwrap();
    }
}

#[test]
fn a_script_path_signature_must_be_by_a_key_of_that_leaf() {
    // Internal key: the other seed's; the one leaf: pk(my key).
    let policy = WalletPolicy::new(
        "Tapscript",
        "tr(@1/**,pk(@0/**))",
        vec![
            key_info(&me(), "m/48'/1'/0'/2'"),
            key_info(&other(), "m/48'/1'/0'/2'"),
        ],
    )
    .unwrap();
    let psbt = sample::funded_psbt(&policy, 1).unwrap();
    let (_, (script, _)) = psbt.inputs[0].tap_scripts.iter().next().unwrap();
    let leaf = TapLeafHash::from_script(script, LeafVersion::TapScript);
    let prevouts: Vec<TxOut> = psbt
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    let msg = {
        let mut cache = SighashCache::new(&psbt.unsigned_tx);
        let h = cache
            .taproot_script_spend_signature_hash(
                0,
                &Prevouts::All(&prevouts),
                leaf,
                TapSighashType::Default,
            )
            .unwrap();
        Message::from_digest(h.to_byte_array())
    };
    let secp = Secp256k1::new();
    let sign = |seed: &Seed| {
        let sk = seed.xpriv(&path("m/48'/1'/0'/2'/0/0")).unwrap().private_key;
        let kp = Keypair::from_secret_key(&secp, &sk);
        InputSignature::TapScript {
            key: kp.x_only_public_key().0,
            leaf,
            sig: taproot::Signature {
                signature: secp.sign_schnorr_with_aux_rand(&msg, &kp, &[0; 32]),
                sighash_type: TapSighashType::Default,
            },
        }
    };
    // The internal key has a key origin in the PSBT, but the leaf is pk(my key) only.
    lie(verify(&psbt, 0, &sign(&other())), "which leaf");
    verify(&psbt, 0, &sign(&me())).unwrap();
}
