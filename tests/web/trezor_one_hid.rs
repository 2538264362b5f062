//! WebHID transport serving a legacy Trezor One (firmware before 1.7) against the fake
//! `navigator.hid` of tests/js/fake_hid.js, with raw 64-byte reports.

use hwsigner::protocol::identify::DeviceKind;
use hwsigner::transport::web::webhid::{self, WebHidTransport};
use hwsigner::transport::Transport;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/tests/js/fake_hid.js")]
extern "C" {
    #[wasm_bindgen(js_name = installFakeTrezorOne)]
    fn install_fake_trezor_one(options: &JsValue) -> JsValue;
}

fn stats(handle: &JsValue) -> serde_json::Value {
    let f: js_sys::Function = Reflect::get(handle, &"stats".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let s = js_sys::JSON::stringify(&f.call0(handle).unwrap()).unwrap();
    serde_json::from_str(&String::from(s)).unwrap()
}

fn report(seed: u8) -> Vec<u8> {
    let mut r = vec![b'?'];
    r.extend((1..64u8).map(|i| seed ^ i));
    r
}

#[wasm_bindgen_test]
async fn webhid_trezor_one_round_trips_reports() {
    // Each report is answered by two: itself with byte 1 set to 0xaa, then 0xbb.
    let respond = Closure::<dyn FnMut(Uint8Array) -> Array>::new(|r: Uint8Array| {
        let r = r.to_vec();
        [0xaa, 0xbb]
            .iter()
            .map(|b| {
                let mut x = r.clone();
                x[1] = *b;
                JsValue::from(Uint8Array::from(x.as_slice()))
            })
            .collect()
    });
    let o = Object::new();
    Reflect::set(&o, &"respond".into(), respond.as_ref()).unwrap();
    let handle = install_fake_trezor_one(&o);

    // Granted devices: the Trezor One, not its FIDO interface, not the Ledger.
    assert_eq!(webhid::granted_trezor_ones().await.unwrap().len(), 1);
    assert_eq!(webhid::granted_ledgers().await.unwrap().len(), 1);

    let device = webhid::request_trezor_one().await.unwrap();
    assert_eq!(
        stats(&handle)["filters"],
        serde_json::json!([{"vendorId": 0x534c, "productId": 1, "usagePage": 0xff00}])
    );
    let mut t = WebHidTransport::open(device).await.unwrap();
    assert_eq!(t.kind(), DeviceKind::TrezorOneHid);
    let id = t.identity();
    assert_eq!(
        (id.vendor_id, id.product_id, id.usage_page),
        (0x534c, 0x0001, Some(0xff00))
    );
    let sent = [report(1), report(2)];
    for r in &sent {
        t.send(r).await.unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(t.recv(2_000).await.unwrap());
    }
    let mut expected = Vec::new();
    for r in &sent {
        for b in [0xaa, 0xbb] {
            let mut x = r.clone();
            x[1] = b;
            expected.push(x);
        }
    }
    assert_eq!(got, expected);
    let s = stats(&handle);
    assert_eq!(s["errors"], serde_json::json!([]));
    assert_eq!(s["reportsOut"], serde_json::json!(sent));
    assert_eq!(s["reportsIn"].as_array().unwrap().len(), 4);
    assert_eq!(t.recv(50).await.unwrap_err().code(), "timeout");
    t.close().await.unwrap();
}

#[wasm_bindgen_test]
async fn webhid_refuses_current_trezors() {
    let err = webhid::request(DeviceKind::Trezor).await.unwrap_err();
    assert_eq!(err.code(), "unsupported");
    assert!(err.to_string().contains("webusb"), "{err}");
}
