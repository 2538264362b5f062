//! `SimulatedLedgerLink`: the simulated Ledger Bitcoin app as a bare APDU function, for
//! driving it from another client (Ledger's own `ledger-bitcoin` through a custom
//! `Transport`) or from `ledgerFromExchange`, and for the benchmarks.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::sim::ledger::{SimLedger, SimLedgerOptions};

/// A simulated Ledger with the Bitcoin app open that approves every prompt.
#[wasm_bindgen]
pub struct SimulatedLedgerLink {
    sim: SimLedger,
}

#[wasm_bindgen]
impl SimulatedLedgerLink {
    /// Options: `{mnemonic?, testnet? = true}` (default: the Speculos test mnemonic; an
    /// invalid one gives a device that answers every command with 0x6a80).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "{ mnemonic?: string; testnet?: boolean }")]
        options: Option<JsValue>,
    ) -> SimulatedLedgerLink {
        let mut o = SimLedgerOptions::default();
        if let Some(options) = options.filter(JsValue::is_object) {
            let get = |k: &str| Reflect::get(&options, &JsValue::from_str(k)).ok();
            if let Some(m) = get("mnemonic").and_then(|v| v.as_string()) {
                o.mnemonic = m;
            }
            if let Some(t) = get("testnet").and_then(|v| v.as_bool()) {
                o.testnet = t;
            }
        }
        SimulatedLedgerLink {
            sim: SimLedger::new(o),
        }
    }

    /// Answers one APDU: the reply data followed by the status word.
    pub fn exchange(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.sim.apdu(apdu)
    }

    /// APDUs answered so far.
    #[wasm_bindgen(getter)]
    pub fn exchanges(&self) -> usize {
        self.sim.exchanges()
    }
}
