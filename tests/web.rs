//! Browser tests (headless Chromium via `wasm-pack test`): the recorded vectors, the
//! real WebHID transport against a fake `navigator.hid` (a Ledger here, a legacy
//! Trezor One in `web/trezor_one_hid.rs`), and the WebUSB transport against a fake
//! `navigator.usb` (`web/webusb.rs`).
#![cfg(target_arch = "wasm32")]

mod common;
#[path = "web/disconnects.rs"]
mod disconnects;
#[path = "web/exchange.rs"]
mod exchange;
#[path = "web/memory.rs"]
mod memory;
#[cfg(feature = "musig")]
#[path = "web/musig.rs"]
mod musig;
#[path = "web/reconnect.rs"]
mod reconnect;
#[path = "web/replaces.rs"]
mod replaces;
#[path = "web/thp.rs"]
mod thp;
#[path = "web/trezor_one_hid.rs"]
mod trezor_one_hid;
// The Trezor vectors' helpers share two files with `common` (each test binary of
// the native suite loads one of the two; this one loads both).
#[allow(clippy::duplicate_mod)]
#[path = "trezor_support/mod.rs"]
mod trezor_support;
#[path = "web/unlock.rs"]
mod unlock;
#[path = "web/webusb.rs"]
mod webusb;

use hwsigner::driver::ledger::Ledger;
use hwsigner::transport::web::webhid::{self, WebHidTransport};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/fake_hid.js")]
extern "C" {
    #[wasm_bindgen(js_name = installFakeLedger)]
    fn install_fake_ledger(
        respond: &Closure<dyn FnMut(Uint8Array) -> Uint8Array>,
        options: JsValue,
    ) -> JsValue;
}

/// The `code` of a rejected call.
fn code_of(err: &JsValue) -> String {
    Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

fn stat(fake: &JsValue, key: &str) -> f64 {
    let stats = Reflect::get(fake, &"stats".into())
        .unwrap()
        .dyn_into::<js_sys::Function>()
        .unwrap()
        .call0(fake)
        .unwrap();
    Reflect::get(&stats, &key.into()).unwrap().as_f64().unwrap()
}

fn options(disconnect_at: i32) -> JsValue {
    let o = js_sys::Object::new();
    Reflect::set(&o, &"disconnectAtExchange".into(), &disconnect_at.into()).unwrap();
    o.into()
}

/// Installs a fake Ledger that answers from `respond`.
fn fake(
    mut respond: impl FnMut(&[u8]) -> Vec<u8> + 'static,
    disconnect_at: i32,
) -> (JsValue, Closure<dyn FnMut(Uint8Array) -> Uint8Array>) {
    let cb = Closure::<dyn FnMut(Uint8Array) -> Uint8Array>::new(move |apdu: Uint8Array| {
        Uint8Array::from(respond(&apdu.to_vec()).as_slice())
    });
    let handle = install_fake_ledger(&cb, options(disconnect_at));
    (handle, cb)
}

async fn open_fake() -> Ledger<WebHidTransport> {
    let device = webhid::request_ledger().await.unwrap();
    Ledger::new(WebHidTransport::open(device).await.unwrap())
}

#[wasm_bindgen_test]
async fn all_fifteen_recorded_cases_replay_in_the_browser() {
    let cases = common::all_cases();
    assert_eq!(cases.len(), 15);
    for (file, case) in &cases {
        common::replay(file, case)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[wasm_bindgen_test]
async fn webhid_carries_a_multi_packet_exchange() {
    // 200 bytes out (4 reports), 302 bytes back (6 reports).
    let (handle, _cb) = fake(
        |apdu| {
            assert_eq!(apdu.len(), 205);
            let mut reply: Vec<u8> = (0..300).map(|i| i as u8).collect();
            reply.extend_from_slice(&[0x90, 0x00]);
            reply
        },
        -1,
    );
    let mut ledger = open_fake().await;
    let mut apdu = vec![0xe1, 0x99, 0, 0, 200];
    apdu.extend(std::iter::repeat_n(0xab, 200));
    let reply = ledger.exchange(&apdu).await.unwrap();
    assert_eq!(reply.len(), 302);
    assert_eq!(&reply[..3], &[0, 1, 2]);
    assert_eq!(&reply[300..], &[0x90, 0x00]);
    assert_eq!(stat(&handle, "reportsOut"), 4.0);
    assert_eq!(stat(&handle, "reportsIn"), 6.0);
}

#[wasm_bindgen_test]
async fn webhid_replays_recorded_cases_end_to_end() {
    for (file, index) in [
        ("sign_psbt", 0usize),
        ("get_wallet_address", 1),
        ("sign_message", 0),
    ] {
        let case = common::all_cases()
            .into_iter()
            .filter(|(f, _)| *f == file)
            .nth(index)
            .unwrap()
            .1;
        let recorded = common::exchanges(&case);
        let total = recorded.len();
        let (mut respond, state) = common::responder(recorded);
        let (handle, _cb) = fake(
            move |apdu| respond(apdu).unwrap_or_else(|_| vec![0x6f, 0x00]),
            -1,
        );
        let mut ledger = open_fake().await;
        let result = common::run_case(&mut ledger, file, &case).await;
        common::finish(&state, total, result).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(stat(&handle, "exchanges"), total as f64);
    }
}

#[wasm_bindgen_test]
async fn webhid_disconnect_mid_exchange_is_disconnected() {
    let case = common::all_cases()
        .into_iter()
        .find(|(f, _)| *f == "sign_psbt")
        .unwrap()
        .1;
    let (mut respond, _state) = common::responder(common::exchanges(&case));
    let (_handle, _cb) = fake(
        move |apdu| respond(apdu).unwrap_or_else(|_| vec![0x6f, 0x00]),
        7,
    );
    let mut ledger = open_fake().await;
    ledger.set_timeout_ms(5_000);
    let psbt =
        hwsigner::protocol::psbt::raw::decode(case["psbt"].as_str().unwrap().as_bytes()).unwrap();
    let opts = hwsigner::device::SignOptions {
        policy: Some((common::policy_of(&case), None)),
        ..Default::default()
    };
    let err = ledger.sign_psbt(&psbt, &opts).await.unwrap_err();
    assert_eq!(err.code(), "disconnected", "{err}");
    // The transport stays failed rather than hanging.
    assert_eq!(
        ledger
            .exchange(&[0xe1, 0x05, 0, 1, 0])
            .await
            .unwrap_err()
            .code(),
        "disconnected"
    );
}

#[wasm_bindgen_test]
async fn js_api_resolves_values_and_rejects_with_codes() {
    let (_handle, _cb) = fake(
        |apdu| match apdu {
            [0xe1, 0x05, ..] => vec![0xf5, 0xac, 0xc2, 0xfd, 0x90, 0x00],
            _ => vec![0x69, 0x85],
        },
        -1,
    );
    let dev = hwsigner::wasm::request_device(None).await.unwrap();
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), "f5acc2fd");
    let err = JsFuture::from(dev.sign_message("m/84'/1'/0'/0/0".into(), "hi".into(), None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "user-rejected");
    assert!(err.is_instance_of::<js_sys::Error>());
    let err = JsFuture::from(dev.xpub("m/84'/x".into(), None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "invalid-input");
    // Calls made together run in order and each gets its own answer.
    let a = dev.master_fingerprint();
    let b = dev.master_fingerprint();
    assert_eq!(
        JsFuture::from(a).await.unwrap().as_string().unwrap(),
        "f5acc2fd"
    );
    assert_eq!(
        JsFuture::from(b).await.unwrap().as_string().unwrap(),
        "f5acc2fd"
    );
}

#[wasm_bindgen_test]
async fn the_simulated_ledger_works_in_the_browser() {
    use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
    let dev = hwsigner::wasm::simulated_device(None).unwrap();
    let fpr = JsFuture::from(dev.master_fingerprint()).await.unwrap();
    assert_eq!(fpr.as_string().unwrap(), "f5acc2fd");
    let me = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let policy = hwsigner::protocol::policy::WalletPolicy::new(
        "",
        "wpkh(@0/**)",
        vec![common::fund::key_info(&me, "m/84'/1'/0'")],
    )
    .unwrap();
    let psbt = common::fund::funded_psbt(&policy, 3);
    let b64 = hwsigner::protocol::psbt::raw::encode_base64(&psbt.serialize());
    // No policy given: the standard one is inferred from the PSBT's derivations.
    let signed = JsFuture::from(dev.sign_psbt(b64.clone(), None))
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let signed = hwsigner::protocol::psbt::raw::decode(signed.as_bytes())
        .unwrap()
        .to_bitcoin()
        .unwrap();
    assert!(signed.inputs.iter().all(|i| i.partial_sigs.len() == 1));

    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"approve".into(), &false.into()).unwrap();
    let refusing = hwsigner::wasm::simulated_device(Some(opts.into())).unwrap();
    let err = JsFuture::from(refusing.sign_psbt(b64, None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "user-rejected");
}

#[wasm_bindgen_test]
async fn an_aborted_call_is_cancelled_and_the_next_one_works() {
    let dev = hwsigner::wasm::simulated_device(None).unwrap();
    let psbt = hwsigner::wasm::sample_psbt("ledger".into(), Some(3), None).unwrap();
    let controller = js_sys::eval("new AbortController()").unwrap();
    let signal = Reflect::get(&controller, &"signal".into()).unwrap();
    let options = js_sys::Object::new();
    Reflect::set(&options, &"signal".into(), &signal).unwrap();
    // Queued behind a signing, then aborted: it never reaches the device.
    let first = dev.sign_psbt(psbt.clone(), None);
    let second = dev.xpub("m/84'/1'/0'".into(), Some(options.clone().into()));
    let abort: js_sys::Function = Reflect::get(&controller, &"abort".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    abort.call0(&controller).unwrap();
    let err = JsFuture::from(second).await.unwrap_err();
    assert_eq!(code_of(&err), "cancelled");
    assert!(
        JsFuture::from(first)
            .await
            .unwrap()
            .as_string()
            .unwrap()
            .len()
            > psbt.len()
    );
    // Already aborted: rejected at once; the device still answers the next call.
    let err = JsFuture::from(dev.sign_psbt(psbt, Some(options.into())))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "cancelled");
    assert_eq!(
        JsFuture::from(dev.master_fingerprint())
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        "f5acc2fd"
    );
}

#[wasm_bindgen_test]
async fn status_events_start_with_connecting() {
    let (_handle, _cb) = fake(
        |apdu| match apdu {
            [0xe1, 0x05, ..] => vec![0xf5, 0xac, 0xc2, 0xfd, 0x90, 0x00],
            _ => vec![0x69, 0x85],
        },
        -1,
    );
    let seen = js_sys::Array::new();
    let push = seen.clone();
    let on_status = Closure::<dyn FnMut(JsValue)>::new(move |s: JsValue| {
        push.push(&Reflect::get(&s, &"type".into()).unwrap());
    });
    let options = js_sys::Object::new();
    Reflect::set(&options, &"onStatus".into(), on_status.as_ref()).unwrap();
    let dev = hwsigner::wasm::request_device(Some(options.into()))
        .await
        .unwrap();
    let _ = JsFuture::from(dev.sign_message("m/84'/1'/0'/0/0".into(), "hi".into(), None)).await;
    let types: Vec<String> = seen.iter().map(|v| v.as_string().unwrap()).collect();
    assert_eq!(
        types.first().map(String::as_str),
        Some("connecting"),
        "{types:?}"
    );
    assert!(
        types.contains(&"confirm-on-device".to_string()),
        "{types:?}"
    );
}

#[wasm_bindgen_test]
async fn plugging_a_wallet_in_and_out_is_reported() {
    let (_handle, _cb) = fake(|_| vec![0x90, 0x00], -1);
    let seen = js_sys::Array::new();
    let push = seen.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let field = |k: &str| {
            Reflect::get(&e, &k.into())
                .unwrap()
                .as_string()
                .unwrap_or_default()
        };
        push.push(&format!("{} {}", field("vendor"), field("type")).into());
    });
    let stop: js_sys::Function =
        hwsigner::wasm::on_device_change(callback.as_ref().clone().unchecked_into())
            .unchecked_into();
    let dispatch = |kind: &str, vendor: u16, page: u16| {
        js_sys::eval(&format!(
            "navigator.hid.dispatchEvent(Object.assign(new Event('{kind}'), {{device: {{vendorId: {vendor}, productId: 16405, productName: 'x', collections: [{{usagePage: {page}}}]}}}}))"
        ))
        .unwrap();
    };
    dispatch("connect", 0x2c97, 0xffa0);
    dispatch("connect", 0x2c97, 0xf1d0); // the FIDO interface: not a wallet
    dispatch("disconnect", 0x2c97, 0xffa0);
    stop.call0(&JsValue::NULL).unwrap();
    dispatch("connect", 0x2c97, 0xffa0); // no longer listening
    let got: Vec<String> = seen.iter().map(|v| v.as_string().unwrap()).collect();
    assert_eq!(got, vec!["ledger connect", "ledger disconnect"]);
}

#[wasm_bindgen_test]
async fn the_page_presses_the_simulated_devices_buttons() {
    for vendor in ["ledger", "trezor"] {
        let options = js_sys::Object::new();
        Reflect::set(&options, &"vendor".into(), &vendor.into()).unwrap();
        Reflect::set(&options, &"approve".into(), &"manual".into()).unwrap();
        let dev = hwsigner::wasm::simulated_device(Some(options.into())).unwrap();
        let sim = dev.simulator().expect("a manual simulator has buttons");
        let prompts = js_sys::Array::new();
        let push = prompts.clone();
        let on_prompt = Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
            push.push(&p);
        });
        sim.set_on_prompt(Some(on_prompt.as_ref().clone().unchecked_into()));
        let psbt = hwsigner::wasm::sample_psbt(vendor.into(), Some(2), None).unwrap();

        // Approve: the call waits for the buttons (a Trezor asks twice: outputs, then
        // fee), then completes.
        let signing = JsFuture::from(dev.sign_psbt(psbt.clone(), None));
        futures::pin_mut!(signing);
        let mut presses = 0;
        let signed = loop {
            let tick = Box::pin(hwsigner::transport::web::webhid::sleep_ms(10));
            match futures::future::select(signing.as_mut(), tick).await {
                futures::future::Either::Left((r, _)) => break r.unwrap().as_string().unwrap(),
                futures::future::Either::Right(_) => {
                    if sim.waiting() {
                        sim.approve().unwrap();
                        presses += 1;
                    }
                }
            }
        };
        assert!(presses >= 1, "{vendor}: the device waited for its user");
        assert!(
            prompts
                .iter()
                .any(|p| p.as_string().unwrap().contains("sign transaction")),
            "{vendor}"
        );
        assert!(hwsigner::protocol::psbt::raw::decode(signed.as_bytes())
            .unwrap()
            .to_bitcoin()
            .unwrap()
            .inputs
            .iter()
            .all(|i| i.partial_sigs.len() == 1));

        // Reject: a readable error, and the device works on.
        let signing = JsFuture::from(dev.sign_psbt(psbt, None));
        let mut waited = 0;
        while !sim.waiting() && waited < 300 {
            hwsigner::transport::web::webhid::sleep_ms(10).await;
            waited += 1;
        }
        sim.reject().unwrap();
        assert_eq!(
            code_of(&signing.await.unwrap_err()),
            "user-rejected",
            "{vendor}"
        );
        assert!(sim.approve().is_err(), "{vendor}: nothing waits any more");
        let fpr = JsFuture::from(dev.master_fingerprint())
            .await
            .unwrap()
            .as_string()
            .unwrap();
        assert_eq!(
            fpr,
            if vendor == "ledger" {
                "f5acc2fd"
            } else {
                "5c9e228d"
            }
        );
    }
}

#[wasm_bindgen_test]
async fn a_hundred_concurrent_calls_complete_in_order() {
    let dev = hwsigner::wasm::simulated_device(None).unwrap();
    let order = js_sys::Array::new();
    let mut promises = Vec::new();
    let mut keep = Vec::new();
    for i in 0..100u32 {
        let path = format!("m/84'/1'/{i}'");
        let p = if i % 2 == 0 {
            dev.xpub(path, None)
        } else {
            dev.master_fingerprint()
        };
        let log = order.clone();
        let note = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            log.push(&JsValue::from(i));
        });
        let _ = p.then(&note);
        keep.push(note);
        promises.push(JsFuture::from(p));
    }
    let results = futures::future::join_all(promises).await;
    for (i, r) in results.into_iter().enumerate() {
        let got = r.unwrap().as_string().unwrap();
        if i % 2 == 0 {
            // m/84'/1'/{i}'
            assert_eq!(got, common::known::SPECULOS_84_1_EVEN[i / 2], "call {i}");
        } else {
            assert_eq!(got, "f5acc2fd", "call {i}");
        }
    }
    let finished: Vec<u32> = order.iter().map(|v| v.as_f64().unwrap() as u32).collect();
    assert_eq!(finished, (0..100).collect::<Vec<_>>(), "completion order");
}
