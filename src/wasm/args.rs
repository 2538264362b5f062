//! Reading the options objects the JS API takes, field by field (no serde: the default
//! entry's size), with `invalid-input` naming the field a value of the wrong type.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Error, Result};
use crate::protocol::policy::WalletPolicy;

use super::errors::parse_hex;

/// An options object (`undefined` and `null` read as `{}`).
pub struct Args<'a> {
    obj: Option<&'a JsValue>,
    what: &'static str,
}

impl<'a> Args<'a> {
    /// The fields of `value`, named `what` in errors.
    ///
    /// # Errors
    /// `invalid-input` when `value` is neither an object nor `undefined` / `null`.
    pub fn of(value: Option<&'a JsValue>, what: &'static str) -> Result<Self> {
        let obj = value.filter(|v| !v.is_undefined() && !v.is_null());
        if obj.is_some_and(|o| !o.is_object()) {
            return Err(Error::invalid(what, "must be an object"));
        }
        Ok(Args { obj, what })
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        let v = Reflect::get(self.obj?, &JsValue::from_str(key)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    fn wrong(&self, key: &str, want: &str) -> Error {
        Error::invalid(self.what, format!("{key} must be {want}"))
    }

    /// Refuses fields other than `known` (a misspelt field must not pass unnoticed).
    ///
    /// # Errors
    /// `invalid-input` naming the unknown field.
    pub fn only(&self, known: &[&str]) -> Result<()> {
        let Some(obj) = self.obj else { return Ok(()) };
        for key in Object::keys(obj.unchecked_ref::<Object>()).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(Error::invalid(
                    self.what,
                    format!(
                        "unknown field {key:?}, expected one of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A string field.
    ///
    /// # Errors
    /// `invalid-input` when it is there but not a string.
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
            .map(|v| v.as_string().ok_or_else(|| self.wrong(key, "a string")))
            .transpose()
    }

    /// A boolean field, `false` when absent.
    ///
    /// # Errors
    /// `invalid-input` when it is there but not a boolean.
    pub fn flag(&self, key: &str) -> Result<bool> {
        self.get(key)
            .map(|v| v.as_bool().ok_or_else(|| self.wrong(key, "a boolean")))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// A whole number field (0 to 2^32 - 1), 0 when absent.
    ///
    /// # Errors
    /// `invalid-input` when it is there but not such a number.
    pub fn index(&self, key: &str) -> Result<u32> {
        let Some(v) = self.get(key) else { return Ok(0) };
        v.as_f64()
            .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| self.wrong(key, "a whole number from 0 to 4294967295"))
    }

    /// An array of strings.
    ///
    /// # Errors
    /// `invalid-input` when it is there but not an array of strings.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        if !Array::is_array(&v) {
            return Err(self.wrong(key, "an array of strings"));
        }
        Array::from(&v)
            .iter()
            .map(|s| {
                s.as_string()
                    .ok_or_else(|| self.wrong(key, "an array of strings"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// An object field, as its own `Args`.
    pub fn object(&self, key: &str) -> Option<JsValue> {
        self.get(key)
    }
}

/// A registration hmac given as hex.
///
/// # Errors
/// `invalid-input` unless 64 hex digits.
pub fn parse_hmac(hex: Option<String>) -> Result<Option<[u8; 32]>> {
    hex.map(|h| {
        parse_hex(&h, "hmac")?
            .try_into()
            .map_err(|_| Error::invalid("hmac", "must be 32 bytes"))
    })
    .transpose()
}

/// A `WalletPolicy` object: `{name?, template, keys, hmac?}`, nothing else.
///
/// # Errors
/// `invalid-input` for a missing template or keys, fields of the wrong type, unknown
/// fields, a bad hmac or policy.
pub fn policy(value: &JsValue) -> Result<(WalletPolicy, Option<[u8; 32]>)> {
    let a = Args::of(Some(value), "policy")?;
    a.only(&["name", "template", "keys", "hmac"])?;
    let template = a
        .string("template")?
        .ok_or_else(|| Error::invalid("policy", "missing field `template`"))?;
    let keys = a
        .strings("keys")?
        .ok_or_else(|| Error::invalid("policy", "missing field `keys`"))?;
    let name = a.string("name")?.unwrap_or_default();
    Ok((
        WalletPolicy::new(&name, &template, keys)?,
        parse_hmac(a.string("hmac")?)?,
    ))
}
