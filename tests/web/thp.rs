//! The Trezor Host Protocol in Chromium, over the WebUSB transport and the fake
//! `navigator.usb` (tests/js/fake_usb.js) whose device is the simulated Safe 7: the
//! JS API pairs (`onPairingCode` reads the simulated screen), keeps the credential in
//! the storage the page passes, and reconnects without pairing; the Rust API signs
//! the Trezor vectors' transactions byte for byte inside THP.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use hwsigner::device::SignOptions;
use hwsigner::driver::credentials::MemoryCredentials;
use hwsigner::driver::trezor::Trezor;
use hwsigner::sim::trezor::Safe7Sim;
use hwsigner::transport::web::webusb::{self, WebUsbTransport};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::trezor_support::{cases, coin, psbt_of, to_hex, FPR, SIGN_TX};

#[wasm_bindgen(module = "/tests/js/fake_usb.js")]
extern "C" {
    #[wasm_bindgen(js_name = installFakeTrezor)]
    fn install_fake_trezor(options: &JsValue) -> JsValue;
}

type Respond = Closure<dyn FnMut(Uint8Array) -> Array>;

/// Installs the fake with the shared simulated Safe 7 behind it.
fn install(sim: &Rc<RefCell<Safe7Sim>>) -> Respond {
    let sim = sim.clone();
    let respond: Respond = Closure::new(move |packet: Uint8Array| {
        sim.borrow_mut()
            .handle_packet(&packet.to_vec())
            .unwrap_or_default()
            .iter()
            .map(|r| JsValue::from(Uint8Array::from(r.as_slice())))
            .collect()
    });
    let o = Object::new();
    Reflect::set(&o, &"respond".into(), respond.as_ref()).unwrap();
    install_fake_trezor(&o);
    respond
}

/// A storage like localStorage, in a plain object, that the test can read.
fn storage() -> JsValue {
    js_sys::eval(
        "(() => { const m = new Map(); return { getItem: (k) => (m.has(k) ? m.get(k) : null), \
         setItem: (k, v) => { m.set(k, String(v)); }, size: () => m.size }; })()",
    )
    .unwrap()
}

fn storage_size(s: &JsValue) -> f64 {
    Reflect::get(s, &"size".into())
        .unwrap()
        .dyn_into::<js_sys::Function>()
        .unwrap()
        .call0(s)
        .unwrap()
        .as_f64()
        .unwrap()
}

#[wasm_bindgen_test]
async fn the_js_api_pairs_a_safe7_then_reconnects_with_the_stored_credential() {
    let sim = Rc::new(RefCell::new(Safe7Sim::with_test_seed().unwrap()));
    let _respond = install(&sim);
    let store = storage();
    let options = Object::new();
    Reflect::set(&options, &"vendor".into(), &"trezor".into()).unwrap();
    Reflect::set(&options, &"credentialStorage".into(), &store).unwrap();
    let dev = hwsigner::wasm::request_device(Some(options.clone().into()))
        .await
        .unwrap();
    let asked = Rc::new(RefCell::new(0));
    let (screen, count) = (sim.clone(), asked.clone());
    let on_code = Closure::<dyn FnMut() -> JsValue>::new(move || {
        *count.borrow_mut() += 1;
        let code = screen.borrow().pairing_code().unwrap();
        js_sys::Promise::resolve(&JsValue::from_str(&code)).into()
    });
    dev.set_on_pairing_code(Some(on_code.as_ref().clone().unchecked_into()));
    let statuses = Rc::new(RefCell::new(Vec::new()));
    let seen = statuses.clone();
    let on_status = Closure::<dyn FnMut(JsValue)>::new(move |s: JsValue| {
        let t = Reflect::get(&s, &"type".into())
            .unwrap()
            .as_string()
            .unwrap();
        seen.borrow_mut().push(t);
    });
    dev.set_on_status(Some(on_status.as_ref().clone().unchecked_into()));
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), FPR);
    assert_eq!(*asked.borrow(), 1);
    assert!(statuses.borrow().iter().any(|s| s == "enter-pairing-code"));
    assert_eq!(storage_size(&store), 1.0, "the credential is stored");
    let info = JsFuture::from(dev.info()).await.unwrap();
    assert_eq!(
        Reflect::get(&info, &"model".into())
            .unwrap()
            .as_string()
            .unwrap(),
        "Safe 7"
    );
    JsFuture::from(dev.close()).await.unwrap();

    // Again, with the stored credential: no code asked (the handler would throw).
    let dev = hwsigner::wasm::request_device(Some(options.into()))
        .await
        .unwrap();
    let refuse = Closure::<dyn FnMut() -> JsValue>::new(|| -> JsValue {
        wasm_bindgen::throw_str("no pairing expected")
    });
    dev.set_on_pairing_code(Some(refuse.as_ref().clone().unchecked_into()));
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), FPR);
    assert_eq!(*asked.borrow(), 1);
}

#[wasm_bindgen_test]
async fn a_missing_or_wrong_pairing_code_is_a_typed_error() {
    let sim = Rc::new(RefCell::new(Safe7Sim::with_test_seed().unwrap()));
    let _respond = install(&sim);
    let options = Object::new();
    Reflect::set(&options, &"vendor".into(), &"trezor".into()).unwrap();
    Reflect::set(&options, &"credentialStorage".into(), &storage()).unwrap();
    let dev = hwsigner::wasm::request_device(Some(options.into()))
        .await
        .unwrap();
    let e = JsFuture::from(dev.master_fingerprint()).await.unwrap_err();
    let message = Reflect::get(&e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("onPairingCode"), "{message}");
    let wrong = Closure::<dyn FnMut() -> JsValue>::new(|| JsValue::from_str("000000"));
    dev.set_on_pairing_code(Some(wrong.as_ref().clone().unchecked_into()));
    let e = JsFuture::from(dev.master_fingerprint()).await.unwrap_err();
    let code = Reflect::get(&e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap();
    // "000000" is the shown code one time in a million; then this still pairs.
    if sim.borrow().pairing_code().as_deref() != Some("000000") {
        assert_eq!(code, "invalid-input");
    }
    let bad = js_sys::Object::new();
    assert!(dev.set_credential_storage(bad.into()).is_err());
}

/// A pairing-code handler that reads the simulated screen.
struct Screen(Rc<RefCell<Safe7Sim>>);

impl hwsigner::driver::Prompts for Screen {
    fn pin(
        &mut self,
        _: hwsigner::protocol::machine::PinKind,
    ) -> LocalBoxFuture<'_, hwsigner::Result<String>> {
        Box::pin(async { Err(hwsigner::Error::Cancelled) })
    }
    fn passphrase(
        &mut self,
        _: bool,
    ) -> LocalBoxFuture<'_, hwsigner::Result<hwsigner::protocol::machine::Passphrase>> {
        Box::pin(async { Err(hwsigner::Error::Cancelled) })
    }
    fn pairing_code(&mut self) -> LocalBoxFuture<'_, hwsigner::Result<String>> {
        let code = self.0.borrow().pairing_code();
        Box::pin(async move { code.ok_or(hwsigner::Error::Cancelled) })
    }
}

#[wasm_bindgen_test]
async fn webusb_signs_the_18_vectors_byte_for_byte_inside_thp() {
    let sim = Rc::new(RefCell::new(Safe7Sim::with_test_seed().unwrap()));
    let _respond = install(&sim);
    let device = webusb::request_trezor().await.unwrap();
    let transport = WebUsbTransport::open(device).await.unwrap();
    let mut t = Trezor::new(transport);
    t.set_credential_store(Box::new(MemoryCredentials::new()));
    t.set_prompts(Box::new(Screen(sim.clone())));
    assert_eq!(t.master_fingerprint().await.unwrap().to_string(), FPR);
    assert!(t.is_thp() && t.paired_now());
    let mut failures = Vec::new();
    for case in cases(SIGN_TX) {
        let name = case["name"].as_str().unwrap().to_string();
        let (raw, _) = psbt_of(&case);
        let options = SignOptions {
            network: Some(coin(&case).network()),
            ..Default::default()
        };
        match t.sign_psbt(&raw, &options).await {
            Ok(signed) => {
                if to_hex(&signed.serialized_transaction().unwrap())
                    != case["expected_serialized_tx"].as_str().unwrap()
                {
                    failures.push(format!("{name}: differs"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
