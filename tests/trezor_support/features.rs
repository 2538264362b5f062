//! PSBTs (and replaced transactions) from the cases of sign_tx_external.json,
//! sign_tx_replacement.json and sign_tx_multisig_change.json: external inputs with
//! their final scriptSig / witness or proof of ownership, multisig inputs and change
//! described by the cosigners' xpubs (global xpubs and key origins), and the
//! transactions a replacement replaces.

use std::collections::BTreeMap;
use std::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource, Xpub};
use bitcoin::consensus::deserialize;
use bitcoin::key::{CompressedPublicKey, Secp256k1};
use bitcoin::psbt::{raw::ProprietaryKey, Psbt};
use bitcoin::{
    absolute, transaction, Amount, Network, OutPoint, PublicKey, ScriptBuf, Sequence, Transaction,
    TxIn, TxOut, Txid, Witness,
};
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::protocol::psbt::Replaced;
use hwsigner::protocol::trezor::btc::plan::OWNERSHIP_PROOF_PREFIX;
use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use serde_json::Value;

use super::{hex, path, script_for};

pub const EXTERNAL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/sign_tx_external.json"
));
pub const REPLACEMENT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/sign_tx_replacement.json"
));
pub const MULTISIG_CHANGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/trezor/sign_tx_multisig_change.json"
));

/// The seed of a case: its `mnemonic`, else "all all ...".
pub fn case_seed(case: &Value) -> Seed {
    let words = case["mnemonic"].as_str().unwrap_or(TREZOR_TEST_MNEMONIC);
    Seed::from_mnemonic(words, "").unwrap()
}

pub fn network(case: &Value) -> Network {
    match case["coin"].as_str().unwrap() {
        "Bitcoin" => Network::Bitcoin,
        _ => Network::Testnet,
    }
}

/// An xpub in any SLIP-132 dress (xpub, tpub, Vpub, ...), as plain xpub/tpub.
pub fn xpub(s: &str) -> Xpub {
    let mut data = bitcoin::base58::decode_check(s).unwrap();
    let mainnet = matches!(
        data[..4],
        [0x04, 0x88, 0xb2, 0x1e]
            | [0x04, 0x9d, 0x7c, 0xb2]
            | [0x04, 0xb2, 0x47, 0x46]
            | [0x02, 0x95, 0xb4, 0x3f]
            | [0x02, 0xaa, 0x7e, 0xd3]
    );
    let version: [u8; 4] = if mainnet {
        [0x04, 0x88, 0xb2, 0x1e]
    } else {
        [0x04, 0x35, 0x87, 0xcf]
    };
    data[..4].copy_from_slice(&version);
    Xpub::decode(&data).unwrap()
}

fn flip(case: &Value, index: usize, field: &str, value: &str) -> Vec<u8> {
    let mut bytes = hex(value);
    if let Some(c) = case.get("corrupt") {
        if c["input"].as_u64() == Some(index as u64) && c["field"] == field {
            bytes[c["byte"].as_u64().unwrap() as usize] ^= 1;
        }
    }
    bytes
}

/// A multisig description of a case: its script (keys in the given order) and, per
/// key, its xpub and the origin the PSBT gives it: ours when the xpub is the seed's at
/// the signer's account path, else the xpub's own fingerprint as a root.
pub struct CaseMultisig {
    pub script: ScriptBuf,
    pub keys: Vec<(PublicKey, Xpub, KeySource)>,
}

pub fn multisig_of(seed: &Seed, ours: &DerivationPath, m: &Value) -> CaseMultisig {
    let secp = Secp256k1::new();
    let below: Vec<ChildNumber> = m["address_n"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| ChildNumber::from(i.as_u64().unwrap() as u32))
        .collect();
    assert_ne!(m["pubkeys_order"], "LEXICOGRAPHIC");
    let steps: Vec<ChildNumber> = ours.into_iter().copied().collect();
    let account: DerivationPath = steps[..steps.len() - below.len()].to_vec().into();
    let ours_key = seed
        .xpub(&account, bitcoin::NetworkKind::Main)
        .unwrap()
        .public_key;
    let mut keys = Vec::new();
    for node in m["nodes"].as_array().unwrap() {
        let x = xpub(node.as_str().unwrap());
        let key = PublicKey::new(x.derive_pub(&secp, &below).unwrap().public_key);
        let (fpr, base): (Fingerprint, DerivationPath) = if x.public_key == ours_key {
            (seed.fingerprint(), account.clone())
        } else {
            (x.fingerprint(), DerivationPath::master())
        };
        keys.push((key, x, (fpr, base)));
    }
    let mut b = bitcoin::script::Builder::new().push_int(m["m"].as_i64().unwrap());
    for (k, _, _) in &keys {
        b = b.push_key(k);
    }
    let script = b
        .push_int(keys.len() as i64)
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script();
    let keys = keys
        .into_iter()
        .map(|(k, x, (f, base))| (k, x, (f, base.extend(&below))))
        .collect();
    CaseMultisig { script, keys }
}

/// (scriptPubKey, redeem script, witness script) of a multisig by script type name.
fn multisig_scripts(
    ms: &CaseMultisig,
    ty: &str,
) -> (ScriptBuf, Option<ScriptBuf>, Option<ScriptBuf>) {
    let s = ms.script.clone();
    match ty {
        "SPENDMULTISIG" | "PAYTOMULTISIG" => (s.to_p2sh(), Some(s), None),
        "SPENDWITNESS" | "PAYTOWITNESS" => (s.to_p2wsh(), None, Some(s)),
        "SPENDP2SHWITNESS" | "PAYTOP2SHWITNESS" => {
            (s.to_p2wsh().to_p2sh(), Some(s.to_p2wsh()), Some(s))
        }
        other => panic!("multisig script type {other}"),
    }
}

fn script_of_output(seed: &Seed, o: &Value, network: Network) -> ScriptBuf {
    if let Some(a) = o["address"].as_str() {
        bitcoin::Address::from_str(a)
            .unwrap()
            .require_network(network)
            .unwrap()
            .script_pubkey()
    } else if let Some(p) = o["path"].as_str() {
        match o.get("multisig") {
            Some(m) => {
                multisig_scripts(
                    &multisig_of(seed, &path(p), m),
                    o["script_type"].as_str().unwrap(),
                )
                .0
            }
            None => script_for(seed, &path(p), o["script_type"].as_str().unwrap()),
        }
    } else {
        let data = hex(o["op_return_data"].as_str().unwrap());
        ScriptBuf::new_op_return(bitcoin::script::PushBytesBuf::try_from(data).unwrap())
    }
}

/// The transaction a replaced-transaction entry describes (its txid is checked).
pub fn replaced_tx(case: &Value, txid: &str, seed: &Seed) -> Replaced {
    let r = &case["replaces"][txid];
    let network = network(case);
    let corrupt = case.get("corrupt_replaced").filter(|c| c["txid"] == txid);
    let input = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let mut witness = i["witness"].as_str().map(hex).unwrap_or_default();
            if let Some(c) = corrupt {
                if c["input"].as_u64() == Some(k as u64) && c["field"] == "witness" {
                    witness[c["byte"].as_u64().unwrap() as usize] ^= 1;
                }
            }
            TxIn {
                previous_output: OutPoint::new(
                    Txid::from_str(i["prev_hash"].as_str().unwrap()).unwrap(),
                    i["prev_index"].as_u64().unwrap() as u32,
                ),
                script_sig: ScriptBuf::from_bytes(hex(i["script_sig"].as_str().unwrap_or(""))),
                sequence: Sequence(i["sequence"].as_u64().unwrap() as u32),
                witness: if witness.is_empty() {
                    Witness::new()
                } else {
                    deserialize(&witness).unwrap()
                },
            }
        })
        .collect();
    let outs = r["outputs"].as_array().unwrap();
    let output = outs
        .iter()
        .map(|o| TxOut {
            value: Amount::from_sat(o["amount"].as_u64().unwrap()),
            script_pubkey: script_of_output(seed, o, network),
        })
        .collect();
    let tx = Transaction {
        version: transaction::Version(r["version"].as_i64().unwrap() as i32),
        lock_time: absolute::LockTime::from_consensus(r["lock_time"].as_u64().unwrap() as u32),
        input,
        output,
    };
    assert_eq!(tx.compute_txid().to_string(), txid, "replaced tx");
    let mut replaced = Replaced::new(tx);
    for (m, o) in outs.iter().enumerate() {
        if let Some(p) = o["path"].as_str() {
            replaced = replaced.with_dropped_change(m as u32, (seed.fingerprint(), path(p)));
        }
    }
    replaced
}

/// A PSBT with everything a careful wallet puts in, and the transactions it
/// replaces, from a case.
pub fn features_psbt(case: &Value) -> (RawPsbt, hwsigner::psbt::view::Psbt, Vec<Replaced>) {
    let seed = case_seed(case);
    let secp = Secp256k1::new();
    let fpr = seed.fingerprint();
    let network = network(case);
    let inputs: Vec<TxIn> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| TxIn {
            previous_output: OutPoint::new(
                Txid::from_str(i["prev_hash"].as_str().unwrap()).unwrap(),
                i["prev_index"].as_u64().unwrap() as u32,
            ),
            script_sig: ScriptBuf::new(),
            sequence: Sequence(i["sequence"].as_u64().unwrap() as u32),
            witness: Witness::new(),
        })
        .collect();
    let outputs: Vec<TxOut> = case["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| TxOut {
            value: Amount::from_sat(o["amount"].as_u64().unwrap()),
            script_pubkey: script_of_output(&seed, o, network),
        })
        .collect();
    let tx = Transaction {
        version: transaction::Version(case["version"].as_i64().unwrap() as i32),
        lock_time: absolute::LockTime::from_consensus(case["lock_time"].as_u64().unwrap() as u32),
        input: inputs,
        output: outputs,
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).unwrap();
    let mut xpubs: BTreeMap<Xpub, KeySource> = BTreeMap::new();
    for (n, i) in case["inputs"].as_array().unwrap().iter().enumerate() {
        let ty = i["script_type"].as_str().unwrap();
        let amount = Amount::from_sat(i["amount"].as_u64().unwrap());
        let prev: Option<Transaction> = case["prev_txs"][i["prev_hash"].as_str().unwrap()]
            .as_str()
            .map(|raw| deserialize(&hex(raw)).unwrap());
        let input = &mut psbt.inputs[n];
        input.non_witness_utxo = prev.clone();
        let spk = if ty == "EXTERNAL" {
            let spk = ScriptBuf::from_bytes(hex(i["script_pubkey"].as_str().unwrap()));
            if let Some(s) = i["script_sig"].as_str().filter(|s| !s.is_empty()) {
                input.final_script_sig =
                    Some(ScriptBuf::from_bytes(flip(case, n, "script_sig", s)));
            }
            if let Some(w) = i["witness"].as_str().filter(|s| !s.is_empty()) {
                input.final_script_witness =
                    Some(deserialize(&flip(case, n, "witness", w)).unwrap());
            }
            if let Some(p) = i["ownership_proof"].as_str() {
                input.proprietary.insert(
                    ProprietaryKey {
                        prefix: OWNERSHIP_PROOF_PREFIX.to_vec(),
                        subtype: 0,
                        key: Vec::new(),
                    },
                    flip(case, n, "ownership_proof", p),
                );
            }
            spk
        } else {
            let p = path(i["path"].as_str().unwrap());
            let key = seed.xpriv(&p).unwrap().private_key.public_key(&secp);
            match i.get("multisig") {
                Some(m) => {
                    let ms = multisig_of(&seed, &p, m);
                    let (spk, rs, ws) = multisig_scripts(&ms, ty);
                    input.redeem_script = rs;
                    input.witness_script = ws;
                    for (k, x, origin) in &ms.keys {
                        input.bip32_derivation.insert(k.inner, origin.clone());
                        let (f, full) = origin;
                        let steps: Vec<ChildNumber> = full.into_iter().copied().collect();
                        let below = m["address_n"].as_array().unwrap().len();
                        let base: DerivationPath = steps[..steps.len() - below].to_vec().into();
                        xpubs.insert(*x, (*f, base));
                    }
                    assert!(input.bip32_derivation.contains_key(&key), "our key");
                    spk
                }
                None => {
                    let spk = script_for(&seed, &p, ty);
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
                    spk
                }
            }
        };
        if let Some(prev) = &prev {
            let vout = i["prev_index"].as_u64().unwrap() as usize;
            assert_eq!(prev.output[vout].script_pubkey, spk, "input {n} script");
            assert_eq!(prev.output[vout].value, amount, "input {n} amount");
        }
        if ty != "SPENDADDRESS" || prev.is_none() {
            input.witness_utxo = Some(TxOut {
                value: amount,
                script_pubkey: spk,
            });
        }
    }
    for (n, o) in case["outputs"].as_array().unwrap().iter().enumerate() {
        let Some(p) = o["path"].as_str() else {
            continue;
        };
        let p = path(p);
        let out = &mut psbt.outputs[n];
        match o.get("multisig") {
            Some(m) => {
                let ms = multisig_of(&seed, &p, m);
                let (_, rs, ws) = multisig_scripts(&ms, o["script_type"].as_str().unwrap());
                out.redeem_script = rs;
                out.witness_script = ws;
                for (k, x, origin) in &ms.keys {
                    out.bip32_derivation.insert(k.inner, origin.clone());
                    let (f, full) = origin;
                    let steps: Vec<ChildNumber> = full.into_iter().copied().collect();
                    let below = m["address_n"].as_array().unwrap().len();
                    let base: DerivationPath = steps[..steps.len() - below].to_vec().into();
                    xpubs.insert(*x, (*f, base));
                }
            }
            None => {
                let key = seed.xpriv(&p).unwrap().private_key.public_key(&secp);
                if o["script_type"] == "PAYTOTAPROOT" {
                    let xonly = key.x_only_public_key().0;
                    out.tap_internal_key = Some(xonly);
                    out.tap_key_origins.insert(xonly, (vec![], (fpr, p)));
                } else {
                    out.bip32_derivation.insert(key, (fpr, p));
                }
            }
        }
    }
    psbt.xpub = xpubs;
    let replaces = case
        .get("replaces")
        .and_then(Value::as_object)
        .map(|r| {
            r.keys()
                .map(|txid| replaced_tx(case, txid, &seed))
                .collect()
        })
        .unwrap_or_default();
    let raw = RawPsbt::parse(&psbt.serialize()).unwrap();
    let view = raw.view().unwrap();
    (raw, view, replaces)
}
