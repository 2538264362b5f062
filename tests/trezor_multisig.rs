//! Multisig PSBTs (p2sh, p2wsh, p2sh-p2wsh, 2 of 3 with one key on the device) signed
//! through the full SignTx flow against the simulator; every signature is verified
//! outside the crate (miniscript's sighash of the caller's PSBT, secp256k1), and the
//! device's transaction carries it where the script type puts it.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::str::FromStr;

use bitcoin::bip32::Fingerprint;
use bitcoin::consensus::deserialize;
use bitcoin::key::Secp256k1;
use bitcoin::psbt::Psbt;
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute, transaction, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};
use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::protocol::psbt::RawPsbt;
use hwsigner::protocol::trezor::btc::Coin;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
use miniscript::psbt::PsbtExt;
use trezor_support::*;

fn multisig_psbt(kind: &str) -> (RawPsbt, bitcoin::PublicKey) {
    let secp = Secp256k1::new();
    let ours_path = path("m/48'/1'/0'/2'/0/0");
    let ours = bitcoin::PublicKey::new(
        seed()
            .xpriv(&ours_path)
            .unwrap()
            .private_key
            .public_key(&secp),
    );
    let other = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let k2 = bitcoin::PublicKey::new(
        other
            .xpriv(&path("m/48'/1'/0'/2'/0/0"))
            .unwrap()
            .private_key
            .public_key(&secp),
    );
    let k3 = bitcoin::PublicKey::new(
        other
            .xpriv(&path("m/48'/1'/1'/2'/0/0"))
            .unwrap()
            .private_key
            .public_key(&secp),
    );
    let ms = bitcoin::script::Builder::new()
        .push_int(2)
        .push_key(&k2)
        .push_key(&ours)
        .push_key(&k3)
        .push_int(3)
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script();
    let spk = match kind {
        "p2sh" => ms.to_p2sh(),
        "p2wsh" => ms.to_p2wsh(),
        _ => ms.to_p2wsh().to_p2sh(),
    };
    let prev = Transaction {
        version: transaction::Version(2),
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(bitcoin::Txid::from_str(&"11".repeat(32)).unwrap(), 3),
            script_sig: ScriptBuf::from_bytes(vec![0x51]),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat(5_000),
                script_pubkey: ScriptBuf::new_op_return([1u8, 2]),
            },
            TxOut {
                value: Amount::from_sat(100_000),
                script_pubkey: spk.clone(),
            },
        ],
    };
    let tx = Transaction {
        version: transaction::Version(2),
        lock_time: absolute::LockTime::from_consensus(800_000),
        input: vec![TxIn {
            previous_output: OutPoint::new(prev.compute_txid(), 1),
            script_sig: ScriptBuf::new(),
            sequence: Sequence(0xffff_fffd),
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(99_000),
            script_pubkey: ScriptBuf::new_p2wpkh(
                &bitcoin::CompressedPublicKey(k2.inner).wpubkey_hash(),
            ),
        }],
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    let input = &mut psbt.inputs[0];
    input.non_witness_utxo = Some(prev.clone());
    if kind != "p2sh" {
        input.witness_utxo = Some(prev.output[1].clone());
        input.witness_script = Some(ms.clone());
    }
    match kind {
        "p2sh" => input.redeem_script = Some(ms.clone()),
        "p2sh-p2wsh" => input.redeem_script = Some(ms.to_p2wsh()),
        _ => {}
    }
    input
        .bip32_derivation
        .insert(ours.inner, (Fingerprint::from_str(FPR).unwrap(), ours_path));
    input
        .bip32_derivation
        .insert(k2.inner, (other.fingerprint(), path("m/48'/1'/0'/2'/0/0")));
    input
        .bip32_derivation
        .insert(k3.inner, (other.fingerprint(), path("m/48'/1'/1'/2'/0/0")));
    (RawPsbt::parse(&psbt.serialize()).unwrap(), ours)
}

#[test]
fn multisig_inputs_are_signed_and_verified() {
    for kind in ["p2sh", "p2wsh", "p2sh-p2wsh"] {
        let (raw, ours) = multisig_psbt(kind);
        let mut t = sim_trezor();
        let signed = block_on(t.sign_psbt(
            &raw,
            &SignOptions {
                network: Some(Coin::Testnet.network()),
                ..Default::default()
            },
        ))
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let view = signed.psbt.to_bitcoin().unwrap();
        let sigs = &view.inputs[0].partial_sigs;
        assert_eq!(sigs.len(), 1, "{kind}");
        assert!(sigs.contains_key(&ours), "{kind}");
        // The signature verifies over the sighash of the PSBT the caller gave.
        let given = Psbt::deserialize(&raw.serialize()).unwrap();
        let msg = given
            .sighash_msg(0, &mut SighashCache::new(&given.unsigned_tx), None)
            .unwrap()
            .to_secp_msg();
        assert_eq!(sigs[&ours].sighash_type, EcdsaSighashType::All, "{kind}");
        Secp256k1::verification_only()
            .verify_ecdsa(&msg, &sigs[&ours].signature, &ours.inner)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let tx: Transaction = deserialize(&signed.serialized_transaction().unwrap()).unwrap();
        let mut bare = tx.clone();
        bare.input[0].script_sig = ScriptBuf::new();
        bare.input[0].witness = Witness::new();
        assert_eq!(bare, given.unsigned_tx, "{kind}: the device's transaction");
        let sig = sigs[&ours].to_vec();
        if kind == "p2sh" {
            // OP_0 <sig> <redeem script>
            let script = tx.input[0].script_sig.as_bytes();
            assert_eq!(script[0], 0);
            assert_eq!(&script[2..2 + sig.len()], sig.as_slice(), "{kind}");
            assert!(tx.input[0].witness.is_empty());
        } else {
            let w: Vec<&[u8]> = tx.input[0].witness.iter().collect();
            assert_eq!(w.len(), 3, "{kind}");
            assert!(w[0].is_empty());
            assert_eq!(w[1], sig.as_slice());
            assert_eq!(
                w[2],
                view.inputs[0].witness_script.as_ref().unwrap().as_bytes()
            );
        }
    }
}
