//! A wallet unplugged at any exchange of a PSBT signing, in the browser: a Ledger over
//! WebHID (fake `navigator.hid`, `disconnectAtExchange`) and a Trezor over WebUSB (fake
//! `navigator.usb`, `disconnectAtIn`), both answered by the simulators. Each index gives
//! `disconnected`; plugged back in, the retry signs. The Ledger retries on the same
//! `Ledger` object after its transport's `reconnect` (at the first and last index:
//! `reconnect` waits 500 ms for re-enumeration) or is picked again; WebUSB has no
//! reconnect, so the Trezor is picked again (`requestDevice`) as a page would.
//!
//! Every index is swept, as natively (`sim_ledger_faults`, `trezor_disconnects`);
//! `make test` gives the browser suite the time for it (`WASM_BINDGEN_TEST_TIMEOUT`).

use std::cell::RefCell;
use std::rc::Rc;

use hwsigner::device::{Device, SignOptions};
use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::web::webhid::WebHidTransport;
use hwsigner::transport::web::webusb::{self, WebUsbTransport};
use hwsigner::transport::Transport;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/tests/js/fake_usb.js")]
extern "C" {
    #[wasm_bindgen(js_name = installFakeTrezor)]
    fn install_fake_usb_trezor(options: &JsValue) -> JsValue;
}

/// A wpkh wallet of `mnemonic` and a PSBT spending one of its coins.
fn wallet(mnemonic: &str) -> (WalletPolicy, RawPsbt) {
    let seed = Seed::from_mnemonic(mnemonic, "").unwrap();
    let key = super::common::fund::key_info(&seed, "m/84'/1'/0'");
    let policy = WalletPolicy::new("", "wpkh(@0/**)", vec![key]).unwrap();
    let psbt = RawPsbt::parse(&super::common::fund::funded_psbt(&policy, 1).serialize()).unwrap();
    (policy, psbt)
}

fn ledger_stat(handle: &JsValue, key: &str) -> usize {
    super::stat(handle, key) as usize
}

/// A fake WebHID Ledger answered by `sim`, disconnecting at exchange `at` (0-based).
fn fake_ledger(
    sim: &Rc<RefCell<SimLedger>>,
    at: i32,
) -> (JsValue, Closure<dyn FnMut(Uint8Array) -> Uint8Array>) {
    let sim = sim.clone();
    super::fake(move |apdu| sim.borrow_mut().apdu(apdu), at)
}

async fn ledger_sign(
    ledger: &mut Ledger<WebHidTransport>,
    policy: &WalletPolicy,
    psbt: &RawPsbt,
) -> Result<RawPsbt, hwsigner::Error> {
    ledger
        .sign_psbt(
            psbt,
            &SignOptions {
                policy: Some((policy.clone(), None)),
                ..Default::default()
            },
        )
        .await
        .map(|s| s.psbt)
}

#[wasm_bindgen_test]
async fn a_ledger_unplugged_at_every_exchange_of_a_signing_over_webhid() {
    let (policy, psbt) = wallet(SPECULOS_MNEMONIC);
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let (handle, _cb) = fake_ledger(&sim, -1);
    let mut ledger = super::open_fake().await;
    ledger.set_timeout_ms(5_000);
    let healthy = ledger_sign(&mut ledger, &policy, &psbt).await.unwrap();
    let exchanges = ledger_stat(&handle, "exchanges");
    assert!(exchanges > 20, "{exchanges}");
    let mut failures = Vec::new();
    let t0 = js_sys::Date::now();
    let indices: Vec<usize> = (0..exchanges).collect();
    for &k in &indices {
        // The same simulated device each time (its seed is derived once).
        let (_handle, _cb) = fake_ledger(&sim, k as i32);
        let mut ledger = super::open_fake().await;
        ledger.set_timeout_ms(5_000);
        match ledger_sign(&mut ledger, &policy, &psbt).await {
            Err(e) if e.code() == "disconnected" => {}
            other => failures.push(format!("at {k}: expected disconnected, got {other:?}")),
        }
        // Plugged back in: what ran on the device was lost with the power.
        sim.borrow_mut().interrupt();
        let (_handle, _cb) = fake_ledger(&sim, -1);
        if k == 0 || k + 1 == exchanges {
            // The same object reconnects.
            if let Err(e) = ledger.transport().reconnect(5_000).await {
                failures.push(format!("at {k}: reconnect failed: {e}"));
                continue;
            }
        } else {
            ledger = super::open_fake().await;
            ledger.set_timeout_ms(5_000);
        }
        match ledger_sign(&mut ledger, &policy, &psbt).await {
            Ok(signed) if signed.serialize() == healthy.serialize() => {}
            Ok(_) => failures.push(format!("at {k}: the retry signed something else")),
            Err(e) => failures.push(format!("at {k}: the retry failed: {e}")),
        }
    }
    console_log!(
        "ledger: disconnected at each of {} exchanges, then signed, in {} ms",
        indices.len(),
        js_sys::Date::now() - t0
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A fake WebUSB Trezor answered by `sim`, vanishing at transferIn `at` (from 1).
fn fake_trezor(
    sim: &Rc<RefCell<TrezorSim>>,
    at: i32,
) -> (JsValue, Closure<dyn FnMut(Uint8Array) -> Array>) {
    let sim = sim.clone();
    let respond = Closure::<dyn FnMut(Uint8Array) -> Array>::new(move |packet: Uint8Array| {
        sim.borrow_mut()
            .handle_packet(&packet.to_vec())
            .unwrap_or_default()
            .iter()
            .map(|p| JsValue::from(Uint8Array::from(p.as_slice())))
            .collect()
    });
    let o = Object::new();
    Reflect::set(&o, &"disconnectAtIn".into(), &at.into()).unwrap();
    Reflect::set(&o, &"vanishDelayMs".into(), &0.into()).unwrap();
    Reflect::set(&o, &"respond".into(), respond.as_ref()).unwrap();
    (install_fake_usb_trezor(&o), respond)
}

fn transfers_in(handle: &JsValue) -> usize {
    let f: js_sys::Function = Reflect::get(handle, &"stats".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let stats = f.call0(handle).unwrap();
    Reflect::get(&stats, &"transfersIn".into())
        .unwrap()
        .as_f64()
        .unwrap() as usize
}

async fn picked_trezor() -> Device {
    let device = webusb::request_trezor().await.unwrap();
    let t: Box<dyn Transport> = Box::new(WebUsbTransport::open(device).await.unwrap());
    let mut d = Device::open(t).unwrap();
    d.set_timeout_ms(5_000);
    d
}

async fn trezor_sign(dev: &mut Device, psbt: &RawPsbt) -> Result<Vec<u8>, hwsigner::Error> {
    dev.sign_psbt(psbt, &SignOptions::default())
        .await
        .map(|s| s.psbt.serialize())
}

#[wasm_bindgen_test]
async fn a_trezor_unplugged_at_every_read_of_a_signing_over_webusb() {
    let (_, psbt) = wallet(TREZOR_TEST_MNEMONIC);
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").unwrap();
    let sim = || {
        Rc::new(RefCell::new(TrezorSim::new(
            seed.clone(),
            Confirm::Approve,
            Faults::none(),
        )))
    };
    let healthy_sim = sim();
    let (handle, _cb) = fake_trezor(&healthy_sim, -1);
    let mut dev = picked_trezor().await;
    let healthy = trezor_sign(&mut dev, &psbt).await.unwrap();
    let reads = transfers_in(&handle);
    assert!(reads > 20, "{reads}");
    let mut failures = Vec::new();
    let t0 = js_sys::Date::now();
    let indices: Vec<usize> = (1..=reads).collect();
    for &k in &indices {
        let s = sim();
        let (_handle, _cb) = fake_trezor(&s, k as i32);
        let mut dev = picked_trezor().await;
        match trezor_sign(&mut dev, &psbt).await {
            Err(e) if e.code() == "disconnected" => {}
            other => failures.push(format!("at read {k}: expected disconnected, got {other:?}")),
        }
        // Plugged back in and picked again: the retry signs.
        s.borrow_mut().set_faults(Faults::none());
        let (_handle, _cb) = fake_trezor(&s, -1);
        let mut dev = picked_trezor().await;
        match trezor_sign(&mut dev, &psbt).await {
            Ok(signed) if signed == healthy => {}
            Ok(_) => failures.push(format!("at read {k}: the retry signed something else")),
            Err(e) => failures.push(format!("at read {k}: the retry failed: {e}")),
        }
    }
    console_log!(
        "trezor: disconnected at each of {} reads, then signed, in {} ms",
        indices.len(),
        js_sys::Date::now() - t0
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
