//! PSBT helpers for pages: what a PSBT does (before signing), and finalizing.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::protocol::psbt::raw;
use crate::protocol::psbt::summary::summarize;

use super::device_class::set;
use super::errors::{parse_hex, to_js_error};

/// What a PSBT (base64) does: `{inputs: [{outpoint, amount, ours}], outputs: [{address,
/// amount, change}], fee, network}`. With the device's fingerprint (8 hex digits),
/// inputs it signs are `ours` and outputs back to it are `change`.
#[wasm_bindgen(js_name = psbtSummary, unchecked_return_type = "PsbtSummary")]
pub fn psbt_summary(psbt_base64: &str, fingerprint: Option<String>) -> Result<JsValue, JsValue> {
    let inner = || -> crate::Result<JsValue> {
        let psbt = raw::decode(psbt_base64.as_bytes())?;
        let fpr = match fingerprint {
            Some(f) => Some(bitcoin::bip32::Fingerprint::from(
                <[u8; 4]>::try_from(parse_hex(&f, "fingerprint")?)
                    .map_err(|_| crate::Error::invalid("fingerprint", "must be 8 hex digits"))?,
            )),
            None => None,
        };
        let s = summarize(&psbt, fpr)?;
        let inputs = Array::new();
        for i in &s.inputs {
            let o = Object::new();
            set(&o, "outpoint", i.outpoint.as_str());
            set(
                &o,
                "amount",
                i.amount.map_or(JsValue::NULL, |a| JsValue::from(a as f64)),
            );
            set(&o, "ours", i.ours);
            inputs.push(&o);
        }
        let outputs = Array::new();
        for out in &s.outputs {
            let o = Object::new();
            set(
                &o,
                "address",
                out.address.as_deref().map_or(JsValue::NULL, JsValue::from),
            );
            set(&o, "amount", out.amount as f64);
            set(&o, "change", out.change);
            outputs.push(&o);
        }
        let o = Object::new();
        set(&o, "inputs", inputs);
        set(&o, "outputs", outputs);
        set(
            &o,
            "fee",
            s.fee.map_or(JsValue::NULL, |f| JsValue::from(f as f64)),
        );
        set(&o, "network", s.network.to_string());
        Ok(o.into())
    };
    inner().map_err(to_js_error)
}
