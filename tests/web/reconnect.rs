//! A Ledger over WebHID that re-enumerates (opening an app) is found again as itself:
//! another granted Ledger, listed first, is not taken for it, whether it is another
//! model or the same model held open by someone else.

use std::cell::RefCell;
use std::rc::Rc;

use hwsigner::driver::ledger::Ledger;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::transport::web::webhid::{self, WebHidTransport};
use hwsigner::transport::Transport;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/tests/js/fake_hid.js")]
extern "C" {
    #[wasm_bindgen(js_name = installTwoFakeLedgers)]
    fn install_two_fake_ledgers(
        mine: &Closure<dyn FnMut(Uint8Array) -> Uint8Array>,
        other: &Closure<dyn FnMut(Uint8Array) -> Uint8Array>,
        other_product_id: u16,
    ) -> JsValue;
}

type Respond = Closure<dyn FnMut(Uint8Array) -> Uint8Array>;

fn responder(mnemonic: &str) -> Respond {
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions {
        mnemonic: mnemonic.into(),
        ..SimLedgerOptions::default()
    })));
    Closure::new(move |apdu: Uint8Array| {
        Uint8Array::from(sim.borrow_mut().apdu(&apdu.to_vec()).as_slice())
    })
}

fn call(handle: &JsValue, name: &str) -> JsValue {
    Reflect::get(handle, &name.into())
        .unwrap()
        .dyn_into::<Function>()
        .unwrap()
        .call0(handle)
        .unwrap()
}

async fn comes_back_as_itself(other_product_id: u16, other_held_open: bool) {
    let (mine, other) = (
        responder(SPECULOS_MNEMONIC),
        responder(TREZOR_TEST_MNEMONIC),
    );
    let handle = install_two_fake_ledgers(&mine, &other, other_product_id);
    if other_held_open {
        JsFuture::from(call(&handle, "openOther").dyn_into::<Promise>().unwrap())
            .await
            .unwrap();
    }
    let device = webhid::request_ledger().await.unwrap();
    let mut ledger = Ledger::new(WebHidTransport::open(device).await.unwrap());
    ledger.set_timeout_ms(5_000);
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "")
        .unwrap()
        .fingerprint();
    assert_eq!(ledger.master_fingerprint().await.unwrap(), me);
    call(&handle, "reenumerate");
    ledger.transport().reconnect(5_000).await.unwrap();
    assert_eq!(
        ledger.master_fingerprint().await.unwrap(),
        me,
        "another ledger was taken for this one (other product {other_product_id:04x}, \
         held open: {other_held_open})"
    );
}

#[wasm_bindgen_test]
async fn a_reenumerated_ledger_is_not_swapped_for_another_model() {
    comes_back_as_itself(0x5011, false).await;
}

#[wasm_bindgen_test]
async fn a_reenumerated_ledger_is_not_swapped_for_one_held_open_elsewhere() {
    comes_back_as_itself(0x4015, true).await;
}
