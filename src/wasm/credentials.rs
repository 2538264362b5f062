//! THP pairing credentials in the page: a `Storage`-like object the page passes
//! (`getItem` / `setItem`), by default `localStorage`, under one key.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::driver::credentials::CredentialStore;
use crate::error::{Error, Result};
use crate::protocol::thp::credentials::{self, Credential};

/// The key the credentials are kept under.
pub const KEY: &str = "hwsigner.thp.credentials";

/// Credentials in a JS storage.
pub struct JsCredentialStore {
    storage: JsValue,
}

impl JsCredentialStore {
    /// Uses `storage` (anything with `getItem(key)` and `setItem(key, value)`).
    pub fn new(storage: JsValue) -> Self {
        JsCredentialStore { storage }
    }

    /// `localStorage`, when the page has one.
    pub fn local_storage() -> Option<Self> {
        let s = Reflect::get(&js_sys::global(), &JsValue::from_str("localStorage")).ok()?;
        s.is_object().then(|| Self::new(s))
    }

    fn method(&self, name: &str) -> Option<Function> {
        Reflect::get(&self.storage, &JsValue::from_str(name))
            .ok()?
            .dyn_into::<Function>()
            .ok()
    }
}

/// Whether `value` can be a credential storage.
pub fn is_storage(value: &JsValue) -> bool {
    let has = |k: &str| {
        Reflect::get(value, &JsValue::from_str(k))
            .ok()
            .is_some_and(|f| f.is_function())
    };
    value.is_object() && has("getItem") && has("setItem")
}

impl CredentialStore for JsCredentialStore {
    fn load(&mut self) -> Vec<Credential> {
        self.method("getItem")
            .and_then(|f| f.call1(&self.storage, &JsValue::from_str(KEY)).ok())
            .and_then(|v| v.as_string())
            .map(|t| credentials::parse(&t))
            .unwrap_or_default()
    }

    fn save(&mut self, credential: &Credential) -> Result<()> {
        let text = credentials::with(&self.load(), credential);
        let set = self
            .method("setItem")
            .ok_or_else(|| Error::Transport("the credential storage has no setItem".into()))?;
        set.call2(
            &self.storage,
            &JsValue::from_str(KEY),
            &JsValue::from_str(&text),
        )
        .map(|_| ())
        .map_err(|_| Error::Transport("the credential storage refused the credential".into()))
    }
}
