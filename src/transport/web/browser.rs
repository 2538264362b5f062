//! Small browser helpers the WebHID and WebUSB transports share: a timer, calling a
//! method of a JS object without trusting it, event listeners that remove themselves,
//! and turning a thrown JS value into a message.
//!
//! Methods are looked up by name (`Reflect`) rather than through typed bindings, so a
//! device object that is not the browser's own (a test fake, a bridge to a simulator)
//! works the same, and a method that throws instead of rejecting becomes an `Err`.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::EventTarget;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// What a timer's callback and its future share.
#[derive(Debug, Default)]
struct Fired {
    done: bool,
    waker: Option<core::task::Waker>,
}

/// A timer: resolves after its time; dropped before, it is cleared, so that time-outs
/// raced against every reply do not pile up in the browser. It owns its callback (no
/// promise): a cleared timer leaves nothing behind, where a promise that never settles
/// would keep a `JsFuture`'s state, its two closures and the waker alive for good.
#[derive(Debug)]
pub struct Sleep {
    id: JsValue,
    fired: Rc<RefCell<Fired>>,
    _callback: Closure<dyn FnMut()>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut fired = self.fired.borrow_mut();
        if fired.done {
            return Poll::Ready(());
        }
        fired.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Resolves after `ms` milliseconds.
pub fn sleep_ms(ms: u32) -> Sleep {
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    let fired = Rc::new(RefCell::new(Fired::default()));
    let shared = fired.clone();
    let callback = Closure::<dyn FnMut()>::new(move || {
        let waker = {
            let mut f = shared.borrow_mut();
            f.done = true;
            f.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    let id = set_timeout(callback.as_ref().unchecked_ref(), ms);
    Sleep {
        id,
        fired,
        _callback: callback,
    }
}

/// The message of a thrown JS value (an `Error`, a `DOMException`, a string).
pub fn js_error(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The `name` of a thrown `DOMException` or `Error` (`NotFoundError`, ...), if any.
pub fn js_error_name(e: &JsValue) -> Option<String> {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
}

/// `globalThis.navigator[name]`, unless missing.
pub fn navigator_property(name: &str) -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let value = Reflect::get(&navigator, &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        None
    } else {
        Some(value)
    }
}

/// A property of a JS object, `undefined` when it cannot be read.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Starts `target[method](...args)` and returns its result as a future (a value that
/// is not a promise resolves at once). The future can be kept across awaits, e.g. a
/// read that outlives one time-out.
///
/// # Errors
/// The thrown JS value; a `TypeError` when `method` is not a function.
pub fn start(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsFuture, JsValue> {
    start_promise(target, method, args).map(JsFuture::from)
}

/// Calls `target[method](...args)` and returns its result as a promise (which can be
/// awaited again after a wait for it was dropped).
///
/// # Errors
/// The JS exception when `method` is not a function or throws.
pub fn start_promise(target: &JsValue, method: &str, args: &[JsValue]) -> Result<Promise, JsValue> {
    let function: Function = get(target, method)
        .dyn_into()
        .map_err(|_| js_sys::TypeError::new(&format!("{method} is not a function")))?;
    let args: Array = args.iter().collect();
    let value = function.apply(target, &args)?;
    Ok(Promise::resolve(&value))
}

/// The bytes a `DataView` (or typed array) shows; empty for anything else, so that a
/// malformed event or transfer result cannot throw.
pub fn view_bytes(view: &JsValue) -> Vec<u8> {
    if let Some(bytes) = view.dyn_ref::<js_sys::Uint8Array>() {
        return bytes.to_vec();
    }
    let buffer = get(view, "buffer");
    if !buffer.is_instance_of::<js_sys::ArrayBuffer>() {
        return Vec::new();
    }
    let number = |key| get(view, key).as_f64().map_or(0, |v| v as u32);
    let (offset, length) = (number("byteOffset"), number("byteLength"));
    let total = get(&buffer, "byteLength").as_f64().map_or(0, |v| v as u32);
    if offset.checked_add(length).is_none_or(|end| end > total) {
        return Vec::new();
    }
    js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, offset, length).to_vec()
}

/// Calls `target[method](...args)` and awaits the result when it is a promise.
///
/// # Errors
/// The thrown or rejected JS value; a `TypeError` when `method` is not a function.
pub async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    start(target, method, args)?.await
}

/// An event listener that stays registered until dropped.
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Adds `handler` for `event` on `target`.
    ///
    /// # Errors
    /// The thrown JS value when `target` refuses the listener.
    pub fn new(
        target: &impl AsRef<JsValue>,
        event: &'static str,
        handler: impl FnMut(JsValue) + 'static,
    ) -> Result<Self, JsValue> {
        let target: EventTarget = target.as_ref().clone().unchecked_into();
        let closure: Closure<dyn FnMut(JsValue)> = Closure::new(handler);
        let add: Function = get(&target, "addEventListener")
            .dyn_into()
            .map_err(|_| js_sys::TypeError::new("not an event target"))?;
        add.call2(&target, &JsValue::from_str(event), closure.as_ref())?;
        Ok(Listener {
            target,
            event,
            closure,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Ok(remove) = get(&self.target, "removeEventListener").dyn_into::<Function>() {
            let _ = remove.call2(
                &self.target,
                &JsValue::from_str(self.event),
                self.closure.as_ref(),
            );
        }
    }
}

impl core::fmt::Debug for Listener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Listener")
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}
