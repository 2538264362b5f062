//! MuSig2 in the browser through the JS API: two simulated Ledgers (two seeds) register
//! a `musig()` policy, show its address, run both rounds of `signPsbt`, and
//! `finalizePsbt` aggregates; the final transaction's Schnorr signatures are checked
//! against the BIP-341 sighash with rust-bitcoin.

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{schnorr, Message, Secp256k1, XOnlyPublicKey};
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash};
use bitcoin::{Transaction, TxOut};
use hwsigner::wasm::JsDevice;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::code_of;

const SPECULOS: &str = "glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin";
const ALL: &str = "all all all all all all all all all all all all";
const OTHER: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap()
}

fn device(mnemonic: &str) -> JsDevice {
    hwsigner::wasm::simulated_device(Some(obj(&[("mnemonic", mnemonic.into())])))
        .unwrap()
        .into_device()
}

async fn text(p: js_sys::Promise) -> String {
    JsFuture::from(p).await.unwrap().as_string().unwrap()
}

/// `[fpr/87'/1'/0']tpub…` of a device.
async fn key_of(dev: &JsDevice, path: &str) -> String {
    let fpr = text(dev.master_fingerprint()).await;
    let xpub = text(dev.xpub(path.into(), None)).await;
    format!("[{fpr}/{}]{xpub}", path.trim_start_matches("m/"))
}

fn policy(name: &str, template: &str, keys: &[String], hmac: Option<&str>) -> JsValue {
    let k = js_sys::Array::new();
    for key in keys {
        k.push(&key.into());
    }
    let mut pairs = vec![
        ("name", name.into()),
        ("template", template.into()),
        ("keys", k.into()),
    ];
    if let Some(h) = hmac {
        pairs.push(("hmac", h.into()));
    }
    obj(&pairs)
}

fn check_witness(tx: &Transaction, prevouts: &[TxOut], i: usize, leaf_spend: bool) {
    let secp = Secp256k1::verification_only();
    let witness: Vec<&[u8]> = tx.input[i].witness.iter().collect();
    let output_key =
        XOnlyPublicKey::from_slice(&prevouts[i].script_pubkey.as_bytes()[2..]).unwrap();
    let mut cache = SighashCache::new(tx);
    let sig = schnorr::Signature::from_slice(witness[0]).unwrap();
    let ty = bitcoin::TapSighashType::Default;
    let (hash, key) = if leaf_spend {
        assert_eq!(witness.len(), 3);
        let script = bitcoin::ScriptBuf::from_bytes(witness[1].to_vec());
        let control = ControlBlock::decode(witness[2]).unwrap();
        assert!(control.verify_taproot_commitment(&secp, output_key, &script));
        let leaf = TapLeafHash::from_script(&script, LeafVersion::TapScript);
        let key = XOnlyPublicKey::from_slice(&script.as_bytes()[1..33]).unwrap();
        (
            cache
                .taproot_script_spend_signature_hash(i, &Prevouts::All(prevouts), leaf, ty)
                .unwrap(),
            key,
        )
    } else {
        assert_eq!(witness.len(), 1);
        (
            cache
                .taproot_key_spend_signature_hash(i, &Prevouts::All(prevouts), ty)
                .unwrap(),
            output_key,
        )
    };
    secp.verify_schnorr(&sig, &Message::from_digest(hash.to_byte_array()), &key)
        .unwrap();
}

async fn two_of_two(template: &str, third: Option<String>, leaf_spend: bool) {
    let a = device(SPECULOS);
    let b = device(ALL);
    let mut keys = Vec::new();
    keys.extend(third);
    keys.push(key_of(&a, "m/87'/1'/0'").await);
    keys.push(key_of(&b, "m/87'/1'/0'").await);
    let bare = policy("MuSig", template, &keys, None);
    let mut hmacs = Vec::new();
    let mut addresses = Vec::new();
    for dev in [&a, &b] {
        let reg = JsFuture::from(dev.register_policy(bare.clone()))
            .await
            .unwrap();
        let hmac = get(&reg, "hmac").as_string().unwrap();
        let with_hmac = policy("MuSig", template, &keys, Some(&hmac));
        Reflect::set(&with_hmac, &"display".into(), &true.into()).unwrap();
        addresses.push(text(dev.address(with_hmac)).await);
        hmacs.push(hmac);
    }
    assert_eq!(addresses[0], addresses[1]);
    assert!(addresses[0].starts_with("tb1p"), "{}", addresses[0]);
    let opts = |i: usize| obj(&[("policy", policy("MuSig", template, &keys, Some(&hmacs[i])))]);

    let p0 = hwsigner::wasm::sample_policy_psbt(bare.clone(), Some(2)).unwrap();
    // Round 1 (nonces), device to device, then round 2 (partial signatures).
    let mut psbt = p0.clone();
    for (i, dev) in [&a, &b, &a, &b].into_iter().enumerate() {
        psbt = text(dev.sign_psbt(psbt, Some(opts(i % 2)))).await;
    }
    // A PSBT with the nonces but without partial signatures is not final.
    let e = hwsigner::wasm::finalize_psbt(&p0).unwrap_err();
    assert_eq!(code_of(&e), "invalid-input");
    let done = hwsigner::wasm::finalize_psbt(&psbt).unwrap();
    let tx_hex = get(&done, "tx").as_string().unwrap();
    let tx: Transaction = bitcoin::consensus::encode::deserialize_hex(&tx_hex).unwrap();
    let funded = hwsigner::protocol::psbt::raw::decode(p0.as_bytes())
        .unwrap()
        .to_bitcoin()
        .unwrap();
    let prevouts: Vec<TxOut> = funded
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    for i in 0..2 {
        check_witness(&tx, &prevouts, i, leaf_spend);
    }
}

#[wasm_bindgen_test]
async fn musig2_key_path_two_of_two_in_the_browser() {
    two_of_two("tr(musig(@0,@1)/**)", None, false).await;
}

#[wasm_bindgen_test]
async fn musig2_script_path_two_of_two_in_the_browser() {
    let third = device(OTHER);
    let internal = key_of(&third, "m/86'/1'/0'").await;
    two_of_two("tr(@0/**,pk(musig(@1,@2)/**))", Some(internal), true).await;
}
