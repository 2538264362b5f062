//! PSBT helpers for pages: what a PSBT does (before signing), and finalizing.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::protocol::psbt::raw;
use crate::protocol::psbt::summary::summarize_with_policy;

use super::device_class::set;
use super::errors::{parse_hex, to_js_error};

fn amount(a: Option<u64>) -> JsValue {
    a.map_or(JsValue::NULL, |a| JsValue::from(a as f64))
}

/// What a PSBT (base64) does, as `PsbtSummary`: inputs `{outpoint, amount, verified,
/// ours, sighash}`, outputs `{address, amount, change, claimsChange}`, `fee`,
/// `feeVerified`, `network` and `warnings`. With the device's fingerprint (8 hex
/// digits), inputs it signs are `ours`, and an output is `change` only when its script
/// is rebuilt from the device's key, or from `policy` (`{template, keys, name?}`, for
/// multisig and other policies). An output that carries the fingerprint without being
/// change has `claimsChange` and a warning: show it as a payment.
#[wasm_bindgen(js_name = psbtSummary, unchecked_return_type = "PsbtSummary")]
pub fn psbt_summary(
    psbt_base64: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "string")] fingerprint: Option<String>,
    #[wasm_bindgen(unchecked_optional_param_type = "WalletPolicy")] policy: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let inner = || -> crate::Result<JsValue> {
        let psbt = raw::decode(psbt_base64.as_bytes())?;
        let fpr = match fingerprint {
            Some(f) => Some(bitcoin::bip32::Fingerprint::from(
                <[u8; 4]>::try_from(parse_hex(&f, "fingerprint")?)
                    .map_err(|_| crate::Error::invalid("fingerprint", "must be 8 hex digits"))?,
            )),
            None => None,
        };
        let policy = match policy.filter(|p| !p.is_undefined() && !p.is_null()) {
            // An hmac is accepted and ignored, so a `signPsbt` policy can be passed.
            Some(value) => Some(super::args::policy(&value)?.0),
            None => None,
        };
        let s = summarize_with_policy(&psbt, fpr, policy.as_ref())?;
        let inputs = Array::new();
        for i in &s.inputs {
            let o = Object::new();
            set(&o, "outpoint", i.outpoint.as_str());
            set(&o, "amount", amount(i.amount));
            set(&o, "verified", i.verified);
            set(&o, "ours", i.ours);
            set(&o, "sighash", i.sighash.as_str());
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
            set(&o, "claimsChange", out.claims_change);
            outputs.push(&o);
        }
        let warnings: Array = s.warnings.iter().map(|w| JsValue::from_str(w)).collect();
        let o = Object::new();
        set(&o, "inputs", inputs);
        set(&o, "outputs", outputs);
        set(&o, "fee", amount(s.fee));
        set(&o, "feeVerified", s.fee_verified);
        set(&o, "network", s.network.to_string());
        set(&o, "warnings", warnings);
        Ok(o.into())
    };
    inner().map_err(to_js_error)
}
