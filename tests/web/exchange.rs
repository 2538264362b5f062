//! `ledgerFromExchange`: a Ledger behind a JS function that exchanges whole APDUs, here
//! the simulated Ledger (`SimulatedLedgerLink`), answered through promises as another
//! library's transport would; plus its time-out and its errors.

use std::cell::RefCell;
use std::rc::Rc;

use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::psbt::raw::{encode_base64, RawPsbt};
use hwsigner::sim::sample::{funded_psbt, standard_policy};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
use hwsigner::transport::web::exchange::ExchangeTransport;
use hwsigner::wasm::{ledger_from_exchange, SimulatedLedgerLink};
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

/// A JS function answering each APDU with a promise of `answer(apdu)`; counts calls.
fn exchange_fn(
    mut answer: impl FnMut(Vec<u8>) -> JsValue + 'static,
) -> (Function, Rc<RefCell<usize>>) {
    let calls = Rc::new(RefCell::new(0));
    let count = calls.clone();
    let f = Closure::<dyn FnMut(Uint8Array) -> JsValue>::new(move |apdu: Uint8Array| {
        *count.borrow_mut() += 1;
        answer(apdu.to_vec())
    })
    .into_js_value()
    .unchecked_into::<Function>();
    (f, calls)
}

fn simulator_fn() -> (Function, Rc<RefCell<usize>>) {
    let mut link = SimulatedLedgerLink::new(None);
    exchange_fn(move |apdu| {
        Promise::resolve(&Uint8Array::from(link.exchange(&apdu).as_slice())).into()
    })
}

#[wasm_bindgen_test]
async fn a_ledger_behind_an_exchange_function_signs() {
    let (f, calls) = simulator_fn();
    let device = ledger_from_exchange(f, None);
    let fingerprint = JsFuture::from(device.master_fingerprint()).await.unwrap();
    assert_eq!(fingerprint.as_string().as_deref(), Some("f5acc2fd"));
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    for script in ["wpkh", "tr"] {
        let policy = standard_policy(&seed, script, true).unwrap();
        let psbt = funded_psbt(&policy, 3).unwrap().serialize();
        let before = *calls.borrow();
        let signed = JsFuture::from(device.sign_psbt(encode_base64(&psbt), None))
            .await
            .unwrap_or_else(|e| panic!("{script}: {e:?}"))
            .as_string()
            .unwrap();
        let signed = hwsigner::protocol::psbt::raw::decode(signed.as_bytes())
            .unwrap()
            .to_bitcoin()
            .unwrap();
        let sigs: usize = signed
            .inputs
            .iter()
            .map(|i| i.partial_sigs.len() + usize::from(i.tap_key_sig.is_some()))
            .sum();
        assert_eq!(sigs, 3, "{script}");
        assert!(
            *calls.borrow() > before + 10,
            "the apdus went through the function"
        );
    }
}

#[wasm_bindgen_test]
async fn repeated_signings_ask_for_the_fingerprint_and_xpub_once() {
    let (f, calls) = simulator_fn();
    let mut ledger = Ledger::new(ExchangeTransport::new(f));
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let policy = standard_policy(&seed, "wpkh", true).unwrap();
    let psbt = RawPsbt::parse(&funded_psbt(&policy, 2).unwrap().serialize()).unwrap();
    let options = hwsigner::device::SignOptions {
        policy: None,
        ..Default::default()
    };
    ledger.sign_psbt(&psbt, &options).await.unwrap();
    let first = *calls.borrow();
    ledger.sign_psbt(&psbt, &options).await.unwrap();
    assert_eq!(
        *calls.borrow() - first,
        first - 2,
        "the second signing skips GET_MASTER_FINGERPRINT and GET_EXTENDED_PUBKEY"
    );
}

#[wasm_bindgen_test]
async fn a_silent_exchange_times_out_and_the_next_answer_is_taken() {
    let silent = Rc::new(RefCell::new(true));
    let mut link = SimulatedLedgerLink::new(None);
    let s = silent.clone();
    let (f, _) = exchange_fn(move |apdu| {
        let reply = Uint8Array::from(link.exchange(&apdu).as_slice());
        if *s.borrow() {
            Promise::new(&mut |_, _| {}).into()
        } else {
            Promise::resolve(&reply).into()
        }
    });
    let mut ledger = Ledger::new(ExchangeTransport::new(f));
    ledger.set_timeout_ms(40);
    let e = ledger.master_fingerprint().await.unwrap_err();
    assert_eq!(e.code(), "timeout", "{e}");
    *silent.borrow_mut() = false;
    // Many quick answers in a row share one timer, then a silent one still times out.
    for _ in 0..50 {
        assert_eq!(
            ledger.master_fingerprint().await.unwrap().to_string(),
            "f5acc2fd"
        );
    }
    *silent.borrow_mut() = true;
    assert_eq!(
        ledger.master_fingerprint().await.unwrap_err().code(),
        "timeout"
    );
}

#[wasm_bindgen_test]
async fn exchange_functions_that_throw_or_answer_nonsense_are_typed_errors() {
    let (f, _) = exchange_fn(|_| {
        js_sys::Reflect::get(&JsValue::UNDEFINED, &"x".into()).unwrap_or(JsValue::NULL)
    });
    let mut ledger = Ledger::new(ExchangeTransport::new(f));
    // `null` is no byte array: an answer without a status word.
    assert_eq!(
        ledger.master_fingerprint().await.unwrap_err().code(),
        "protocol"
    );
    let (f, _) = exchange_fn(|_| Promise::reject(&js_sys::Error::new("unplugged")).into());
    let mut ledger = Ledger::new(ExchangeTransport::new(f));
    let e = ledger.master_fingerprint().await.unwrap_err();
    assert_eq!(e.code(), "transport");
    assert!(e.to_string().contains("unplugged"), "{e}");
    let thrower: Function = Function::new_no_args("throw new Error('boom')");
    let mut ledger = Ledger::new(ExchangeTransport::new(thrower));
    let e = ledger.master_fingerprint().await.unwrap_err();
    assert!(e.to_string().contains("boom"), "{e}");
}

/// A `{write, read}` object in JS whose reads resolve only when the test says so;
/// `writes` and `reads` count the calls.
fn held_link() -> (JsValue, js_sys::Array, js_sys::Array) {
    let make = Function::new_no_args(
        "const writes = [], resolvers = [];
         const link = {
           write(m) { writes.push(Array.from(m)); },
           read() { return new Promise((resolve) => resolvers.push(resolve)); },
         };
         return [link, writes, resolvers];",
    );
    let parts: js_sys::Array = make.call0(&JsValue::NULL).unwrap().unchecked_into();
    (
        parts.get(0),
        parts.get(1).unchecked_into(),
        parts.get(2).unchecked_into(),
    )
}

#[wasm_bindgen_test]
async fn a_message_link_keeps_a_read_across_a_time_out() {
    use hwsigner::transport::web::link::MessageLink;
    use hwsigner::transport::Transport;
    let (link, writes, resolvers) = held_link();
    let mut t = MessageLink::new(link);
    t.send(&[0, 0, 0, 0, 0, 0]).await.unwrap();
    assert_eq!(writes.length(), 1);
    // Nothing comes: a time-out, and the read stays under way.
    assert_eq!(t.recv(30).await.unwrap_err().code(), "timeout");
    assert_eq!(t.recv(30).await.unwrap_err().code(), "timeout");
    assert_eq!(resolvers.length(), 1, "one read() for both waits");
    // The late message is the next one received: not lost, not asked for twice.
    let resolve: Function = resolvers.get(0).unchecked_into();
    let message = Uint8Array::from(&[0u8, 17, 0, 0, 0, 1, 0x0a][..]);
    resolve.call1(&JsValue::NULL, &message).unwrap();
    assert_eq!(t.recv(30).await.unwrap(), vec![0, 17, 0, 0, 0, 1, 0x0a]);
    // A read that gives less than a header is the link's fault, said so.
    let recv = t.recv(1000);
    futures::pin_mut!(recv);
    assert!(futures::FutureExt::now_or_never(recv.as_mut()).is_none());
    let resolve: Function = resolvers.get(1).unchecked_into();
    resolve
        .call1(&JsValue::NULL, &Uint8Array::from(&[0u8, 3][..]))
        .unwrap();
    assert_eq!(recv.await.unwrap_err().code(), "protocol");
}
