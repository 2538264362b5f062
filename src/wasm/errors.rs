//! Errors as JavaScript sees them: `Error` objects with `code` (the stable string) and,
//! for device errors, `statusWord`.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::Error;

/// A JS `Error` with `name = "HwSignerError"` and `code` set.
pub fn to_js_error(e: Error) -> JsValue {
    let js = js_sys::Error::new(&e.to_string());
    js.set_name("HwSignerError");
    let _ = Reflect::set(
        &js,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code()),
    );
    if let Error::Device { code, .. } = &e {
        let _ = Reflect::set(&js, &JsValue::from_str("statusWord"), &JsValue::from(*code));
    }
    js.into()
}

#[cfg(not(feature = "sim-entry"))]
/// Parses hex text.
///
/// # Errors
/// `invalid-input` naming `field`.
pub fn parse_hex(text: &str, field: &str) -> Result<Vec<u8>, Error> {
    let text = text.trim();
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(field, "not an even-length hex string"));
    }
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    Ok(text
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => digit(*hi) << 4 | digit(*lo),
            _ => 0,
        })
        .collect())
}
