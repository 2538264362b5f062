//! `signPsbt(psbt, {replaces})` in the browser: a taproot fee bump on the simulated
//! Trezor; a replaced transaction this PSBT does not replace is refused as bad input.

use hwsigner::protocol::psbt::raw;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::code_of;
use crate::trezor_support::cases;
use crate::trezor_support::features::{features_psbt, REPLACEMENT};

fn case(name: &str) -> serde_json::Value {
    cases(REPLACEMENT)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn options(replaced: &bitcoin::Transaction) -> JsValue {
    let o = js_sys::Object::new();
    let list = Array::new();
    list.push(&bitcoin::consensus::encode::serialize_hex(replaced).into());
    Reflect::set(&o, &"replaces".into(), &list).unwrap();
    Reflect::set(&o, &"finalize".into(), &true.into()).unwrap();
    o.into()
}

#[wasm_bindgen_test]
async fn a_fee_bump_signs_with_the_replaced_transaction_named() {
    let options_trezor = js_sys::Object::new();
    Reflect::set(&options_trezor, &"vendor".into(), &"trezor".into()).unwrap();
    let dev = hwsigner::wasm::simulated_device(Some(options_trezor.into())).unwrap();
    let bump = case("test_signtx_replacement::test_p2tr_fee_bump");
    let (psbt, _, replaces) = features_psbt(&bump);
    let base64 = raw::encode_base64(&psbt.serialize());
    let signed = JsFuture::from(dev.sign_psbt(base64.clone(), Some(options(&replaces[0].tx))))
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let (_, tx) = hwsigner::device::finalize(&raw::decode(signed.as_bytes()).unwrap()).unwrap();
    assert_eq!(
        bitcoin::consensus::encode::serialize_hex(&tx),
        bump["expected_serialized_tx"].as_str().unwrap()
    );
    let (_, _, other) = features_psbt(&case("test_signtx_replacement::test_p2wpkh_finalize"));
    let e = JsFuture::from(dev.sign_psbt(base64, Some(options(&other[0].tx))))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "invalid-input");
}
