//! Shared by the Trezor tests: the vectors, and PSBTs built from a sign_tx case.
#![allow(dead_code)]

use std::str::FromStr;

use bitcoin::bip32::{DerivationPath, Fingerprint};
use bitcoin::consensus::deserialize;
use bitcoin::key::{CompressedPublicKey, Secp256k1};
use bitcoin::psbt::Psbt;
use bitcoin::{
    absolute, transaction, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Txid, Witness,
};
use hwsigner::driver::trezor::Trezor;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::protocol::trezor::btc::Coin;
use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use serde_json::Value;

pub const PUBLIC_KEYS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/public_keys.json"
));
pub const ADDRESSES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/addresses.json"
));
pub const SIGN_MESSAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/sign_message.json"
));
pub const SIGN_TX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/sign_tx.json"
));

pub mod features;

#[path = "../common/known.rs"]
pub mod known;
#[path = "../common/text.rs"]
mod text;
#[allow(unused_imports)]
pub use text::{cases, hex, to_hex};

pub fn seed() -> Seed {
    Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap()
}

pub fn sim_trezor() -> Trezor<MemoryTransport> {
    Trezor::new(TrezorSim::with_test_seed().unwrap().into_transport())
}

pub fn path(s: &str) -> DerivationPath {
    DerivationPath::from_str(s).unwrap()
}

pub fn coin(case: &Value) -> Coin {
    Coin::from_name(case["coin"].as_str().unwrap()).unwrap()
}

pub fn input_type(name: &str) -> i32 {
    use hwsigner::protocol::trezor::messages::InputScriptType::*;
    match name {
        "SPENDADDRESS" => SPENDADDRESS,
        "SPENDMULTISIG" => SPENDMULTISIG,
        "SPENDWITNESS" => SPENDWITNESS,
        "SPENDP2SHWITNESS" => SPENDP2SHWITNESS,
        "SPENDTAPROOT" => SPENDTAPROOT,
        other => panic!("script type {other}"),
    }
}

/// The script of the key at `path` for an input (or change) script type name.
pub fn script_for(seed: &Seed, p: &DerivationPath, ty: &str) -> ScriptBuf {
    let secp = Secp256k1::new();
    let key = CompressedPublicKey(seed.xpriv(p).unwrap().private_key.public_key(&secp));
    match ty {
        "SPENDADDRESS" | "PAYTOADDRESS" => ScriptBuf::new_p2pkh(&key.pubkey_hash()),
        "SPENDWITNESS" | "PAYTOWITNESS" => ScriptBuf::new_p2wpkh(&key.wpubkey_hash()),
        "SPENDP2SHWITNESS" | "PAYTOP2SHWITNESS" => {
            ScriptBuf::new_p2wpkh(&key.wpubkey_hash()).to_p2sh()
        }
        "SPENDTAPROOT" | "PAYTOTAPROOT" => {
            ScriptBuf::new_p2tr(&secp, key.0.x_only_public_key().0, None)
        }
        other => panic!("script type {other}"),
    }
}

pub const FPR: &str = "5c9e228d";

/// A PSBT with everything a careful wallet puts in, from a sign_tx case.
pub fn psbt_of(case: &Value) -> (RawPsbt, hwsigner::psbt::view::Psbt) {
    let seed = seed();
    let secp = Secp256k1::new();
    let fpr = Fingerprint::from_str(FPR).unwrap();
    let network = match case["coin"].as_str().unwrap() {
        "Bitcoin" => Network::Bitcoin,
        _ => Network::Testnet,
    };
    let mut inputs = Vec::new();
    for i in case["inputs"].as_array().unwrap() {
        inputs.push(TxIn {
            previous_output: OutPoint::new(
                Txid::from_str(i["prev_hash"].as_str().unwrap()).unwrap(),
                i["prev_index"].as_u64().unwrap() as u32,
            ),
            script_sig: ScriptBuf::new(),
            sequence: Sequence(i["sequence"].as_u64().unwrap() as u32),
            witness: Witness::new(),
        });
    }
    let mut outputs = Vec::new();
    for o in case["outputs"].as_array().unwrap() {
        let script = if let Some(a) = o["address"].as_str() {
            bitcoin::Address::from_str(a)
                .unwrap()
                .require_network(network)
                .unwrap()
                .script_pubkey()
        } else if let Some(p) = o["path"].as_str() {
            script_for(&seed, &path(p), o["script_type"].as_str().unwrap())
        } else {
            let data = hex(o["op_return_data"].as_str().unwrap());
            ScriptBuf::new_op_return(bitcoin::script::PushBytesBuf::try_from(data).unwrap())
        };
        outputs.push(TxOut {
            value: Amount::from_sat(o["amount"].as_u64().unwrap()),
            script_pubkey: script,
        });
    }
    let tx = Transaction {
        version: transaction::Version(case["version"].as_i64().unwrap() as i32),
        lock_time: absolute::LockTime::from_consensus(case["lock_time"].as_u64().unwrap() as u32),
        input: inputs,
        output: outputs,
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    for (n, i) in case["inputs"].as_array().unwrap().iter().enumerate() {
        let p = path(i["path"].as_str().unwrap());
        let ty = i["script_type"].as_str().unwrap();
        let key = seed.xpriv(&p).unwrap().private_key.public_key(&secp);
        let spk = script_for(&seed, &p, ty);
        let input = &mut psbt.inputs[n];
        if let Some(raw) = case["prev_txs"][i["prev_hash"].as_str().unwrap()].as_str() {
            input.non_witness_utxo = Some(deserialize(&hex(raw)).unwrap());
        }
        if ty != "SPENDADDRESS" {
            input.witness_utxo = Some(TxOut {
                value: Amount::from_sat(i["amount"].as_u64().unwrap()),
                script_pubkey: spk,
            });
        }
        if ty == "SPENDTAPROOT" {
            let xonly = key.x_only_public_key().0;
            input.tap_internal_key = Some(xonly);
            input.tap_key_origins.insert(xonly, (vec![], (fpr, p)));
        } else {
            input.bip32_derivation.insert(key, (fpr, p));
        }
        if ty == "SPENDP2SHWITNESS" {
            input.redeem_script = Some(ScriptBuf::new_p2wpkh(
                &CompressedPublicKey(key).wpubkey_hash(),
            ));
        }
    }
    for (n, o) in case["outputs"].as_array().unwrap().iter().enumerate() {
        if let Some(p) = o["path"].as_str() {
            let p = path(p);
            let key = seed.xpriv(&p).unwrap().private_key.public_key(&secp);
            if o["script_type"] == "PAYTOTAPROOT" {
                let xonly = key.x_only_public_key().0;
                psbt.outputs[n].tap_internal_key = Some(xonly);
                psbt.outputs[n]
                    .tap_key_origins
                    .insert(xonly, (vec![], (fpr, p)));
            } else {
                psbt.outputs[n].bip32_derivation.insert(key, (fpr, p));
            }
        }
    }
    let raw = RawPsbt::parse(&psbt.serialize()).unwrap();
    let view = raw.view().unwrap();
    (raw, view)
}
