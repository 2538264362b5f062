//! `onPin` and `onPassphrase` in the browser: a simulated Trezor One with a PIN and
//! passphrase protection, unlocked by handlers that read the simulated screen.

use std::cell::RefCell;
use std::rc::Rc;

use hwsigner::sim::trezor::pin_positions;
use hwsigner::wasm::sim::SimulatedDevice as JsDevice;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::code_of;

/// Computed outside this crate (python `mnemonic` + `cryptography`): the "all" x 12
/// seed's master fingerprint with the passphrase "TREZOR".
const FPR_TREZOR_PASSPHRASE: &str = "4b854ccf";

fn trezor_one() -> JsDevice {
    let options = js_sys::Object::new();
    for (k, v) in [("vendor", "trezor"), ("model", "one"), ("pin", "1234")] {
        Reflect::set(&options, &k.into(), &v.into()).unwrap();
    }
    Reflect::set(&options, &"passphrase".into(), &true.into()).unwrap();
    hwsigner::wasm::simulated_device(Some(options.into())).unwrap()
}

/// An `onPin` that reads the matrix off the simulated screen, answers `pin` (through a
/// promise, as a page's dialog would) and counts the questions.
fn on_pin(
    dev: &JsDevice,
    pin: &'static str,
    asked: Rc<RefCell<Vec<String>>>,
) -> Closure<dyn FnMut(JsValue) -> JsValue> {
    let sim = dev.simulator().unwrap();
    Closure::new(move |request: JsValue| {
        let kind = Reflect::get(&request, &"kind".into())
            .unwrap()
            .as_string()
            .unwrap();
        asked.borrow_mut().push(kind);
        let matrix: Vec<u8> = js_sys::Array::from(&sim.pin_matrix())
            .iter()
            .map(|d| d.as_f64().unwrap() as u8)
            .collect();
        let positions = pin_positions(pin, &matrix.try_into().unwrap()).unwrap();
        Promise::resolve(&JsValue::from_str(&positions)).into()
    })
}

type Log = Rc<RefCell<Vec<String>>>;

/// Records the `type` of every status event; keep the closure alive while it is used.
fn record_statuses(dev: &JsDevice) -> (Log, Closure<dyn FnMut(JsValue)>) {
    let types = Rc::new(RefCell::new(Vec::new()));
    let log = types.clone();
    let on_status = Closure::<dyn FnMut(JsValue)>::new(move |s: JsValue| {
        let t = Reflect::get(&s, &"type".into())
            .unwrap()
            .as_string()
            .unwrap();
        log.borrow_mut().push(t);
    });
    dev.set_on_status(Some(on_status.as_ref().clone().unchecked_into()));
    (types, on_status)
}

#[wasm_bindgen_test]
async fn handlers_unlock_a_trezor_one_and_a_wrong_pin_is_typed() {
    let dev = trezor_one();
    // No handler: a clear error, no hang.
    let e = JsFuture::from(dev.master_fingerprint()).await.unwrap_err();
    assert_eq!(code_of(&e), "device-locked");
    let message = Reflect::get(&e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("onPin"), "{message}");

    // A wrong pin: wrong-pin, asked once.
    let asked = Rc::new(RefCell::new(Vec::new()));
    let wrong = on_pin(&dev, "4321", asked.clone());
    dev.set_on_pin(Some(wrong.as_ref().clone().unchecked_into::<Function>()));
    let e = JsFuture::from(dev.master_fingerprint()).await.unwrap_err();
    assert_eq!(code_of(&e), "wrong-pin");
    assert_eq!(*asked.borrow(), ["current"]);

    // The right pin and a passphrase (a string, not a promise, works too).
    let right = on_pin(&dev, "1234", asked.clone());
    dev.set_on_pin(Some(right.as_ref().clone().unchecked_into::<Function>()));
    let offered = Rc::new(RefCell::new(Vec::new()));
    let seen = offered.clone();
    let passphrase = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |request: JsValue| {
        seen.borrow_mut().push(
            Reflect::get(&request, &"onDevice".into())
                .unwrap()
                .as_bool()
                .unwrap(),
        );
        JsValue::from_str("TREZOR")
    });
    dev.set_on_passphrase(Some(passphrase.as_ref().clone().unchecked_into()));
    let (statuses, _on_status) = record_statuses(&dev);
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), FPR_TREZOR_PASSPHRASE);
    assert_eq!(*asked.borrow(), ["current", "current"]);
    assert_eq!(
        *offered.borrow(),
        [false],
        "a trezor one takes no passphrase on the device"
    );
    let types = statuses.borrow().clone();
    assert!(types.contains(&"enter-pin".to_string()), "{types:?}");
    assert!(types.contains(&"enter-passphrase".to_string()), "{types:?}");
    // One connection asks once.
    JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(asked.borrow().len(), 2);

    // Lock: both asked again; a handler that rejects cancels the call.
    JsFuture::from(dev.lock()).await.unwrap();
    let refuse =
        Closure::<dyn FnMut(JsValue) -> JsValue>::new(|_| Promise::reject(&"no".into()).into());
    dev.set_on_passphrase(Some(refuse.as_ref().clone().unchecked_into()));
    let e = JsFuture::from(dev.master_fingerprint()).await.unwrap_err();
    assert_eq!(code_of(&e), "cancelled");
    assert_eq!(asked.borrow().len(), 3);
}

#[wasm_bindgen_test]
async fn a_simulated_model_t_takes_the_passphrase_on_the_device() {
    let options = js_sys::Object::new();
    for (k, v) in [
        ("vendor", "trezor"),
        ("pin", "1234"),
        ("devicePassphrase", "TREZOR"),
    ] {
        Reflect::set(&options, &k.into(), &v.into()).unwrap();
    }
    Reflect::set(&options, &"passphrase".into(), &true.into()).unwrap();
    let dev = hwsigner::wasm::simulated_device(Some(options.into())).unwrap();
    let on_device = Closure::<dyn FnMut(JsValue) -> JsValue>::new(|request: JsValue| {
        assert!(Reflect::get(&request, &"onDevice".into())
            .unwrap()
            .is_truthy());
        let answer = js_sys::Object::new();
        Reflect::set(&answer, &"onDevice".into(), &true.into()).unwrap();
        answer.into()
    });
    dev.set_on_passphrase(Some(on_device.as_ref().clone().unchecked_into()));
    let (statuses, _on_status) = record_statuses(&dev);
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), FPR_TREZOR_PASSPHRASE);
    let types = statuses.borrow().clone();
    assert!(
        types.contains(&"enter-pin-on-device".to_string()),
        "{types:?}"
    );
    assert!(
        types.contains(&"enter-passphrase-on-device".to_string()),
        "{types:?}"
    );
}
