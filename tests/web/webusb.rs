//! WebUSB transport (current Trezors) against the fake `navigator.usb` of
//! tests/js/fake_usb.js, with raw 64-byte packets (no Trezor framing needed).

use hwsigner::transport::web::webusb::{self, WebUsbTransport};
use hwsigner::transport::{Packets, Transport};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/tests/js/fake_usb.js")]
extern "C" {
    #[wasm_bindgen(js_name = installFakeTrezor)]
    fn install_fake_trezor(options: &JsValue) -> JsValue;
}

type Respond = Closure<dyn FnMut(Uint8Array) -> Array>;

/// The fake's handle and the responder it calls (kept alive for the test).
struct Fake {
    handle: JsValue,
    _respond: Option<Respond>,
}

impl Fake {
    fn install(settings: &[(&str, JsValue)], respond: Option<Respond>) -> Self {
        let o = Object::new();
        for (k, v) in settings {
            Reflect::set(&o, &(*k).into(), v).unwrap();
        }
        if let Some(r) = &respond {
            Reflect::set(&o, &"respond".into(), r.as_ref()).unwrap();
        }
        Fake {
            handle: install_fake_trezor(&o),
            _respond: respond,
        }
    }

    fn stats(&self) -> serde_json::Value {
        let f: js_sys::Function = Reflect::get(&self.handle, &"stats".into())
            .unwrap()
            .dyn_into()
            .unwrap();
        let s = js_sys::JSON::stringify(&f.call0(&self.handle).unwrap()).unwrap();
        serde_json::from_str(&String::from(s)).unwrap()
    }

    fn count(&self, key: &str) -> u64 {
        self.stats()[key].as_u64().unwrap()
    }
}

fn responder(mut f: impl FnMut(&[u8]) -> Vec<Vec<u8>> + 'static) -> Respond {
    Closure::new(move |packet: Uint8Array| {
        f(&packet.to_vec())
            .iter()
            .map(|r| JsValue::from(Uint8Array::from(r.as_slice())))
            .collect()
    })
}

fn packet(seed: u8) -> Vec<u8> {
    (0..64u8)
        .map(|i| seed.wrapping_mul(64).wrapping_add(i))
        .collect()
}

fn now() -> f64 {
    js_sys::Date::now()
}

async fn open_fake() -> WebUsbTransport {
    let device = webusb::request_trezor().await.unwrap();
    WebUsbTransport::open(device).await.unwrap()
}

#[wasm_bindgen_test]
async fn webusb_round_trips_a_multi_packet_exchange() {
    // Three packets out; after the third the device answers with five.
    let mut seen = 0;
    let fake = Fake::install(
        &[],
        Some(responder(move |_| {
            seen += 1;
            if seen == 3 {
                (10..15).map(packet).collect()
            } else {
                Vec::new()
            }
        })),
    );
    let mut t = open_fake().await;
    assert_eq!(t.packets(), Packets::Reports64);
    let id = t.identity();
    assert_eq!((id.vendor_id, id.product_id), (0x1209, 0x53c1));
    let sent: Vec<Vec<u8>> = (0..3).map(packet).collect();
    for p in &sent {
        t.send(p).await.unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(t.recv(2_000).await.unwrap());
    }
    let expected: Vec<Vec<u8>> = (10..15).map(packet).collect();
    assert_eq!(got, expected);

    let stats = fake.stats();
    assert_eq!(stats["errors"], serde_json::json!([]));
    assert_eq!(stats["packetsOut"], serde_json::json!(sent));
    assert_eq!(stats["packetsIn"], serde_json::json!(expected));
    assert_eq!(fake.count("transfersOut"), 3);
    assert_eq!(fake.count("transfersIn"), 5);
    assert_eq!(fake.count("opens"), 1);
    assert_eq!(fake.count("selectConfiguration"), 1);
    assert_eq!(fake.count("claims"), 1);
    // The picker was asked for a Trezor and a Trezor in bootloader mode.
    assert_eq!(
        stats["filters"],
        serde_json::json!([
            {"vendorId": 0x1209, "productId": 0x53c1},
            {"vendorId": 0x1209, "productId": 0x53c0},
        ])
    );

    t.close().await.unwrap();
    assert_eq!(fake.count("releases"), 1);
    assert_eq!(fake.count("closes"), 1);
    assert_eq!(t.send(&packet(1)).await.unwrap_err().code(), "disconnected");
}

#[wasm_bindgen_test]
async fn webusb_interface_that_stays_claimed_is_busy() {
    let fake = Fake::install(&[("claimFailures", (-1).into())], None);
    let device = webusb::request_trezor().await.unwrap();
    let start = now();
    let err = WebUsbTransport::open(device).await.unwrap_err();
    assert_eq!(err.code(), "busy", "{err}");
    assert!(
        err.to_string().contains("held by another tab or app"),
        "{err}"
    );
    assert_eq!(fake.count("claims"), u64::from(webusb::CLAIM_TRIES));
    assert!(now() - start >= 2.0 * f64::from(webusb::CLAIM_RETRY_MS) - 20.0);
    // The device is let go again.
    assert_eq!(fake.count("closes"), 1);
}

#[wasm_bindgen_test]
async fn webusb_claim_that_fails_twice_then_works() {
    let fake = Fake::install(&[("claimFailures", 2.into())], None);
    let mut t = open_fake().await;
    assert_eq!(fake.count("claims"), 3);
    t.send(&packet(7)).await.unwrap();
    assert_eq!(t.recv(2_000).await.unwrap(), packet(7));
    t.close().await.unwrap();
}

#[wasm_bindgen_test]
async fn webusb_bootloader_trezor_is_refused_clearly() {
    let fake = Fake::install(&[("productId", 0x53c0.into())], None);
    let err = webusb::request_trezor().await.unwrap_err();
    assert_eq!(err.code(), "unsupported");
    assert_eq!(
        err.to_string(),
        "unsupported: the trezor is in bootloader mode: restart it normally"
    );
    // A granted one is listed, but cannot be opened.
    let granted = webusb::granted_trezors().await.unwrap();
    assert_eq!(granted.len(), 1);
    let err = WebUsbTransport::open(granted.into_iter().next().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bootloader mode"), "{err}");
    assert_eq!(fake.count("opens"), 0);
}

#[wasm_bindgen_test]
async fn webusb_dismissed_picker_is_cancelled() {
    let _fake = Fake::install(&[("cancelPicker", true.into())], None);
    let err = webusb::request_trezor().await.unwrap_err();
    assert_eq!(err.code(), "cancelled");
}

#[wasm_bindgen_test]
async fn webusb_granted_trezors_are_found_without_the_picker() {
    let _fake = Fake::install(&[], None);
    let granted = webusb::granted_trezors().await.unwrap();
    assert_eq!(granted.len(), 1);
    let _fake = Fake::install(&[("granted", false.into())], None);
    assert!(webusb::granted_trezors().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn webusb_disconnect_during_a_pending_read_is_disconnected() {
    // Chrome rejects the pending transfer; a browser (or bridge) that never settles it
    // must not hang the read either: the disconnect event ends it.
    for settle in [true, false] {
        let _fake = Fake::install(
            &[
                ("disconnectAtIn", 1.into()),
                ("settleOnDisconnect", settle.into()),
            ],
            Some(responder(|_| Vec::new())),
        );
        let mut t = open_fake().await;
        t.send(&packet(1)).await.unwrap();
        let start = now();
        let err = t.recv(5_000).await.unwrap_err();
        assert_eq!(err.code(), "disconnected", "settle {settle}: {err}");
        assert!(now() - start < 2_000.0, "settle {settle}: took too long");
        // Later calls fail the same way, at once.
        assert_eq!(t.send(&packet(2)).await.unwrap_err().code(), "disconnected");
        assert_eq!(t.recv(5_000).await.unwrap_err().code(), "disconnected");
        t.close().await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn webusb_silent_device_times_out_and_a_late_reply_is_kept() {
    let fake = Fake::install(&[("replyDelayMs", 300.into())], None);
    let mut t = open_fake().await;
    t.send(&packet(3)).await.unwrap();
    let start = now();
    let err = t.recv(100).await.unwrap_err();
    assert_eq!(err.code(), "timeout", "{err}");
    assert!(now() - start >= 90.0);
    // The read stays in flight: the late reply is the next packet, not lost.
    assert_eq!(t.recv(2_000).await.unwrap(), packet(3));
    assert_eq!(fake.count("transfersIn"), 1);
    // Nothing more comes: another time-out.
    assert_eq!(t.recv(50).await.unwrap_err().code(), "timeout");
    t.close().await.unwrap();
}

#[wasm_bindgen_test]
async fn webusb_bad_transfers_are_errors_not_panics() {
    let bad_in: js_sys::Array = ["stall", "babble", "null", "nodata"]
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    let fake = Fake::install(&[("badIn", bad_in.into()), ("outFailures", 1.into())], None);
    let mut t = open_fake().await;
    // A failed write is a transport error, and the next one goes through.
    let err = t.send(&packet(4)).await.unwrap_err();
    assert_eq!(err.code(), "transport", "{err}");
    t.send(&packet(4)).await.unwrap();
    let err = t.recv(1_000).await.unwrap_err();
    assert_eq!(err.code(), "transport", "{err}");
    assert!(err.to_string().contains("stalled"), "{err}");
    assert_eq!(fake.count("clearHalts"), 1);
    for expected in ["babble", "missing"] {
        let err = t.recv(1_000).await.unwrap_err();
        assert_eq!(err.code(), "transport", "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    // A result without data is an empty packet, for the framing above to refuse.
    assert_eq!(t.recv(1_000).await.unwrap(), Vec::<u8>::new());
    // The echoed packet still arrives afterwards.
    assert_eq!(t.recv(1_000).await.unwrap(), packet(4));
    t.close().await.unwrap();
}

#[wasm_bindgen_test]
async fn webusb_device_gone_before_open_is_disconnected() {
    let fake = Fake::install(&[], None);
    let device = webusb::request_trezor().await.unwrap();
    let vanish: js_sys::Function = Reflect::get(&fake.handle, &"disconnect".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    vanish.call0(&fake.handle).unwrap();
    let err = WebUsbTransport::open(device).await.unwrap_err();
    assert_eq!(err.code(), "disconnected", "{err}");
    assert!(webusb::granted_trezors().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn webusb_reaches_the_simulated_trezor_through_the_js_api() {
    use hwsigner::sim::confirm::Confirm;
    use hwsigner::sim::fault::Faults;
    use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
    use hwsigner::sim::trezor::TrezorSim;
    use wasm_bindgen_futures::JsFuture;

    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let mut sim = TrezorSim::new(seed.clone(), Confirm::Approve, Faults::none());
    let fake = Fake::install(
        &[],
        Some(responder(move |p| sim.handle_packet(p).unwrap_or_default())),
    );
    let options = Object::new();
    Reflect::set(&options, &"vendor".into(), &"trezor".into()).unwrap();
    let dev = hwsigner::wasm::request_device(Some(options.into()))
        .await
        .unwrap();
    assert_eq!(dev.vendor(), "trezor");

    let xpub = JsFuture::from(dev.xpub("m/84'/1'/0'".into(), None))
        .await
        .unwrap();
    assert_eq!(
        xpub.as_string().unwrap(),
        crate::common::known::TREZOR_84_1_0
    );

    let key = crate::common::fund::key_info(&seed, "m/84'/1'/0'");
    let policy =
        hwsigner::protocol::policy::WalletPolicy::new("", "wpkh(@0/**)", vec![key]).unwrap();
    let psbt = crate::common::fund::funded_psbt(&policy, 2);
    let b64 = hwsigner::protocol::psbt::raw::encode_base64(&psbt.serialize());
    let signed = JsFuture::from(dev.sign_psbt(b64, None))
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let signed = hwsigner::protocol::psbt::raw::decode(signed.as_bytes())
        .unwrap()
        .to_bitcoin()
        .unwrap();
    assert!(signed.inputs.iter().all(|i| i.partial_sigs.len() == 1));
    // Every message went through WebUSB transfers.
    assert!(fake.count("transfersOut") > 10, "{}", fake.stats());
}

#[wasm_bindgen_test]
async fn aborting_a_trezor_call_sends_cancel_and_the_session_goes_on() {
    use hwsigner::protocol::trezor::framing::{encode, Decoder};
    use hwsigner::sim::confirm::Confirm;
    use hwsigner::sim::fault::Faults;
    use hwsigner::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
    use hwsigner::sim::trezor::TrezorSim;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen_futures::JsFuture;

    // The simulated Trezor, except that it waits forever after a ButtonAck (a user who
    // does not press anything) and answers Cancel with Failure(ActionCancelled).
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let mut sim = TrezorSim::new(seed, Confirm::Approve, Faults::none());
    let cancels = Rc::new(Cell::new(0));
    let seen = cancels.clone();
    let mut decoder = Decoder::new();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let _fake = Fake::install(
        &[],
        Some(responder(move |p| {
            pending.push(p.to_vec());
            let Ok(Some((ty, _))) = decoder.push(p) else {
                return vec![];
            };
            let packets = std::mem::take(&mut pending);
            match ty {
                27 => vec![],
                20 => {
                    seen.set(seen.get() + 1);
                    // Failure { code: 4 } and the sim forgets the waiting call.
                    let _ = sim.handle_packet(&encode(0, &[]).unwrap()[0]);
                    encode(3, &[0x08, 0x04])
                        .unwrap()
                        .iter()
                        .map(|p| p.to_vec())
                        .collect()
                }
                _ => packets
                    .iter()
                    .flat_map(|p| sim.handle_packet(p).unwrap_or_default())
                    .collect(),
            }
        })),
    );
    let options = Object::new();
    Reflect::set(&options, &"vendor".into(), &"trezor".into()).unwrap();
    let dev = hwsigner::wasm::request_device(Some(options.into()))
        .await
        .unwrap();
    assert_eq!(
        JsFuture::from(dev.master_fingerprint())
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        "5c9e228d"
    );

    let controller = js_sys::eval("new AbortController()").unwrap();
    let call_options = Object::new();
    Reflect::set(
        &call_options,
        &"signal".into(),
        &Reflect::get(&controller, &"signal".into()).unwrap(),
    )
    .unwrap();
    let waiting = dev.sign_message(
        "m/84'/0'/0'/0/0".into(),
        "hello".into(),
        Some(call_options.into()),
    );
    hwsigner::transport::web::webhid::sleep_ms(100).await;
    let abort: js_sys::Function = Reflect::get(&controller, &"abort".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    abort.call0(&controller).unwrap();
    let err = JsFuture::from(waiting).await.unwrap_err();
    assert_eq!(
        Reflect::get(&err, &"code".into())
            .unwrap()
            .as_string()
            .unwrap(),
        "cancelled"
    );
    // The next call waits for the cancelled one to finish, then works.
    assert_eq!(
        JsFuture::from(dev.master_fingerprint())
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        "5c9e228d"
    );
    assert_eq!(cancels.get(), 1, "the trezor got one Cancel");
}
