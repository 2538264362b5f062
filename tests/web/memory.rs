//! No growth: calls through the real WebHID transport (a fake `navigator.hid` answered
//! by the simulated Ledger) leave the count of live heap blocks flat after warm-up.
//! Every wasm-bindgen closure, every `JsFuture`'s shared state and every waker is a heap
//! block, so a timer or an abort listener that outlives its call shows up here, once
//! per HID report. It counts; it does not time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicIsize, Ordering};

use hwsigner::protocol::psbt::raw::encode_base64;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::sample::{funded_psbt, standard_policy};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

/// The system allocator, counting the blocks alive.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes of the module's linear memory.
fn memory_bytes() -> f64 {
    let memory = wasm_bindgen::memory();
    let buffer = Reflect::get(&memory, &"buffer".into()).unwrap();
    Reflect::get(&buffer, &"byteLength".into())
        .unwrap()
        .as_f64()
        .unwrap()
}

/// A `Device` on a fake WebHID Ledger answered by the simulator.
async fn simulated_hid_device() -> (
    hwsigner::wasm::JsDevice,
    JsValue,
    wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Uint8Array) -> js_sys::Uint8Array>,
) {
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let (handle, cb) = super::fake(move |apdu| sim.borrow_mut().apdu(apdu), -1);
    let dev = hwsigner::wasm::request_device(None).await.unwrap();
    (dev, handle, cb)
}

/// Options with an `AbortSignal` that is never aborted.
fn with_signal() -> JsValue {
    let controller = js_sys::eval("new AbortController()").unwrap();
    let options = js_sys::Object::new();
    Reflect::set(
        &options,
        &"signal".into(),
        &Reflect::get(&controller, &"signal".into()).unwrap(),
    )
    .unwrap();
    options.into()
}

#[wasm_bindgen_test]
async fn a_thousand_calls_leave_no_live_blocks_behind() {
    let (dev, handle, _cb) = simulated_hid_device().await;
    let call = || async {
        let sig = JsFuture::from(dev.sign_message(
            "m/84'/1'/0'/0/0".into(),
            "hello".into(),
            Some(with_signal()),
        ))
        .await
        .unwrap();
        assert_eq!(sig.as_string().unwrap().len(), 88);
    };
    for _ in 0..100 {
        call().await;
    }
    let (blocks, bytes, reports) = (live(), memory_bytes(), super::stat(&handle, "reportsIn"));
    for _ in 0..1000 {
        call().await;
    }
    let reports = super::stat(&handle, "reportsIn") - reports;
    let grown = live() - blocks;
    console_log!(
        "{}",
        format!(
            "1000 calls, {reports} hid reports in: live blocks {blocks} -> {}, memory {bytes} -> {} bytes",
            live(),
            memory_bytes()
        )
    );
    assert!(reports >= 1000.0, "every call went over hid: {reports}");
    // A leak of one timer or listener per call or per report is >= 1000 blocks.
    assert!(grown < 50, "{grown} heap blocks more after 1000 calls");
}

#[wasm_bindgen_test]
async fn repeated_signings_leave_no_live_blocks_behind() {
    let (dev, _handle, _cb) = simulated_hid_device().await;
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let policy = standard_policy(&seed, "wpkh", true).unwrap();
    let psbt = encode_base64(&funded_psbt(&policy, 10).unwrap().serialize());
    let sign = || async {
        let signed = JsFuture::from(dev.sign_psbt(psbt.clone(), Some(with_signal())))
            .await
            .unwrap();
        assert!(signed.as_string().unwrap().len() > psbt.len());
    };
    for _ in 0..2 {
        sign().await;
    }
    let (blocks, bytes) = (live(), memory_bytes());
    for _ in 0..8 {
        sign().await;
    }
    let grown = live() - blocks;
    console_log!(
        "{}",
        format!(
            "8 signings of 10 inputs: live blocks {blocks} -> {}, memory {bytes} -> {} bytes",
            live(),
            memory_bytes()
        )
    );
    // About 300 hid reports per signing: a leak per report is thousands of blocks.
    assert!(grown < 50, "{grown} heap blocks more after 8 signings");
}
