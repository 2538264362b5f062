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

/// Runs `call` while pressing the simulated device's Approve whenever it waits; returns
/// the call's outcome and how many presses it took.
async fn pressing(
    sim: &hwsigner::wasm::Simulator,
    call: js_sys::Promise,
) -> (Result<JsValue, JsValue>, usize) {
    let call = JsFuture::from(call);
    futures::pin_mut!(call);
    let mut presses = 0;
    loop {
        let tick = Box::pin(hwsigner::transport::web::webhid::sleep_ms(10));
        match futures::future::select(call.as_mut(), tick).await {
            futures::future::Either::Left((r, _)) => return (r, presses),
            futures::future::Either::Right(_) => {
                if sim.waiting() {
                    sim.approve().unwrap();
                    presses += 1;
                }
            }
        }
    }
}

/// The simulator entry's Safe 7 as the default entry reaches it: `trezorFromLink` with
/// 64-byte reports (THP packets), the page pressing its buttons (`approve: "manual"`),
/// the pairing code read from `simulator.pairingCode`, the credential in the page's
/// storage; then a new simulated Safe 7 with the same storage connects without pairing.
#[wasm_bindgen_test]
async fn the_simulator_entrys_safe7_pairs_signs_and_refuses_through_trezor_from_link() {
    let store = storage();
    let options = Object::new();
    for (k, v) in [
        ("vendor", JsValue::from("trezor")),
        ("model", "safe7".into()),
        ("approve", "manual".into()),
        ("credentialStorage", store.clone()),
    ] {
        Reflect::set(&options, &k.into(), &v).unwrap();
    }
    let dev = hwsigner::wasm::simulated_device(Some(options.clone().into())).unwrap();
    let sim = dev.simulator().unwrap();
    assert_eq!(sim.framing(), "reports");
    assert_eq!(sim.pairing_code(), None, "no code before pairing");
    let screen = sim.clone();
    let asked = Rc::new(RefCell::new(0));
    let count = asked.clone();
    let on_code = Closure::<dyn FnMut() -> JsValue>::new(move || {
        *count.borrow_mut() += 1;
        JsValue::from_str(&screen.pairing_code().expect("the code is on the screen"))
    });
    dev.set_on_pairing_code(Some(on_code.as_ref().clone().unchecked_into()));
    let (fpr, presses) = pressing(&sim, dev.master_fingerprint()).await;
    assert_eq!(fpr.unwrap().as_string().unwrap(), FPR);
    assert_eq!(*asked.borrow(), 1, "one pairing code asked");
    assert!(presses >= 1, "pairing was allowed on the device");
    assert_eq!(storage_size(&store), 1.0, "the credential is stored");

    // Signing inside THP, the page approving; then a refusal, and the device works on.
    let psbt = hwsigner::wasm::sample_psbt("trezor".into(), Some(2), None).unwrap();
    let (signed, presses) = pressing(&sim, dev.sign_psbt(psbt.clone(), None)).await;
    let signed = signed.unwrap().as_string().unwrap();
    assert!(presses >= 1);
    let signed = hwsigner::protocol::psbt::raw::decode(signed.as_bytes())
        .unwrap()
        .to_bitcoin()
        .unwrap();
    assert!(signed.inputs.iter().all(|i| i.partial_sigs.len() == 1));
    let signing = JsFuture::from(dev.sign_psbt(psbt, None));
    let mut waited = 0;
    while !sim.waiting() && waited < 500 {
        hwsigner::transport::web::webhid::sleep_ms(10).await;
        waited += 1;
    }
    sim.reject().unwrap();
    let err = signing.await.unwrap_err();
    let text = |k: &str| Reflect::get(&err, &k.into()).unwrap().as_string().unwrap();
    assert_eq!(text("code"), "user-rejected", "{}", text("message"));
    let (fpr, _) = pressing(&sim, dev.master_fingerprint()).await;
    assert_eq!(fpr.unwrap().as_string().unwrap(), FPR);
    JsFuture::from(dev.close()).await.unwrap();

    // Another simulated Safe 7 (the same device keys), the same storage: no code.
    Reflect::set(&options, &"approve".into(), &JsValue::TRUE).unwrap();
    let again = hwsigner::wasm::simulated_device(Some(options.into())).unwrap();
    let refuse = Closure::<dyn FnMut() -> JsValue>::new(|| -> JsValue {
        wasm_bindgen::throw_str("no pairing expected")
    });
    again.set_on_pairing_code(Some(refuse.as_ref().clone().unchecked_into()));
    let fpr = JsFuture::from(again.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), FPR);
    assert_eq!(*asked.borrow(), 1);

    // A Safe 7 spoken to in whole codec v1 messages cannot do THP: a typed error.
    let bare = hwsigner::wasm::Simulator::new(Some(
        js_sys::eval("({ vendor: 'trezor', model: 'safe7' })").unwrap(),
    ))
    .unwrap();
    let by_messages = hwsigner::wasm::trezor_from_link(bare.into(), None).unwrap();
    let err = JsFuture::from(by_messages.master_fingerprint())
        .await
        .unwrap_err();
    let text = |k: &str| Reflect::get(&err, &k.into()).unwrap().as_string().unwrap();
    assert_eq!(text("code"), "transport");
    assert!(
        text("message").contains("64-byte reports"),
        "{}",
        text("message")
    );
}
