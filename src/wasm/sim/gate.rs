//! `Simulator`: a simulated Ledger or Trezor in the page, as a link the default entry
//! drives (`ledgerFromExchange` for the Ledger's APDUs, `trezorFromLink` for a Trezor
//! One or T's messages and a Safe 7's 64-byte THP packets), with the device's buttons
//! and screen for the page.
//!
//! With `approve: "manual"` the simulator runs as if its user approved, but every reply
//! that follows a confirmation is held back: the page is told the prompt, and
//! `approve()` releases the reply while `reject()` replaces it with the vendor's refusal
//! (status 0x6985 for a Ledger, Failure ActionCancelled for a Trezor) and resets the
//! simulator's command. A Safe 7's ACKs go out at once (else the host sends its message
//! again); only its answer waits for the button.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::error::{Error, Result};
use crate::protocol::trezor::framing as trezor_framing;
use crate::sim::confirm::{Confirm, Prompt};
use crate::sim::fault::Faults;
use crate::sim::ledger::{SimLedger, SimLedgerOptions};
use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use crate::sim::trezor::{Model, Safe7Sim, TrezorSim};

use crate::wasm::errors::to_js_error;

/// The USB product id a simulated Ledger reports (a Nano S Plus).
pub const LEDGER_PRODUCT_ID: u16 = 0x5011;

enum Sim {
    Ledger(SimLedger),
    /// A Trezor One or T, reached by whole codec v1 messages.
    Trezor(Box<TrezorSim>),
    /// A Trezor Safe 7, reached by 64-byte THP packets.
    Safe7(Box<Safe7Sim>),
}

/// A reply held behind a prompt, and who waits for it.
enum Held {
    /// A Ledger reply and the resolve function of its exchange's promise.
    Ledger(Vec<u8>, Function),
    /// A Trezor's reply messages (or a Safe 7's packets).
    Trezor(Vec<Vec<u8>>),
}

struct Gate {
    sim: Sim,
    /// Trezor replies not yet read (whole messages).
    inbox: VecDeque<Vec<u8>>,
    /// Resolve functions of pending `read()` promises.
    readers: VecDeque<Function>,
    held: Option<Held>,
    prompts: Rc<RefCell<Vec<String>>>,
    on_prompt: Option<Function>,
}

fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

impl Gate {
    fn deliver(&mut self, messages: Vec<Vec<u8>>) {
        self.inbox.extend(messages);
        while !self.readers.is_empty() {
            let (Some(reader), Some(message)) = (self.readers.pop_front(), self.inbox.pop_front())
            else {
                break;
            };
            let _ = reader.call1(&JsValue::NULL, &bytes(&message));
        }
    }

    /// The prompt the last command raised, and who to tell (called once the gate is
    /// no longer borrowed, so the page's handler may read `waiting` or press a button).
    fn prompt(&self) -> Option<(String, Option<Function>)> {
        let text = self.prompts.borrow().last().cloned()?;
        Some((text, self.on_prompt.clone()))
    }

    fn answer(&mut self, approve: bool) -> Result<()> {
        let held = self
            .held
            .take()
            .ok_or_else(|| Error::invalid("simulator", "nothing waits for an answer"))?;
        match (held, &mut self.sim) {
            (Held::Ledger(reply, resolve), Sim::Ledger(sim)) => {
                let reply = if approve {
                    reply
                } else {
                    let faults = sim.context().faults.clone();
                    sim.set_faults(faults);
                    vec![0x69, 0x85]
                };
                let _ = resolve.call1(&JsValue::NULL, &bytes(&reply));
            }
            (Held::Trezor(replies), Sim::Trezor(sim)) => {
                if approve {
                    self.deliver(replies);
                } else {
                    // Back to idle (the simulator forgets the flow), then the refusal:
                    // Failure { code: 4 (ActionCancelled) }.
                    let _ = sim.handle_message(0, &[]);
                    self.deliver(vec![trezor_framing::encode_message(3, &[0x08, 0x04])?]);
                }
            }
            (Held::Trezor(replies), Sim::Safe7(sim)) => {
                let refusal = if approve { replies } else { sim.refuse_last() };
                self.deliver(refusal);
            }
            _ => {
                return Err(Error::protocol(
                    "the simulator's held reply is of another vendor",
                ))
            }
        }
        Ok(())
    }
}

/// Tells the page's `onPrompt` handler, if any, the prompt's text.
fn tell(prompt: Option<(String, Option<Function>)>) {
    if let Some((text, Some(f))) = prompt {
        let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&text));
    }
}

/// A simulated device. `simulatedDevice()` (the `hwsigner/simulator` entry) hands it to
/// the default entry as the device's link and as `device.simulator`.
#[wasm_bindgen]
#[derive(Clone)]
pub struct Simulator {
    gate: Rc<RefCell<Gate>>,
    vendor: &'static str,
}

fn prompt_text(p: &Prompt) -> String {
    match p {
        Prompt::Show(s) => format!("show {s}"),
        Prompt::RegisterPolicy(s) => format!("register {s}"),
        Prompt::SignTransaction(s) => format!("sign transaction: {s}"),
        Prompt::SignMessage(s) => format!("sign message: {s}"),
        Prompt::OpenApp(s) => format!("open {s}"),
        Prompt::EnterPin => "enter the pin on the device".into(),
        Prompt::EnterPassphrase => "type the passphrase on the device".into(),
    }
}

/// The mnemonic option (`mnemonic`, or `seed` as design.md names it).
fn mnemonic_of(get: &impl Fn(&str) -> JsValue) -> Option<String> {
    get("mnemonic")
        .as_string()
        .or_else(|| get("seed").as_string())
}

/// A simulated Trezor with the options `model` ("one" | "t" | "safe7"), `pin`,
/// `passphrase` (protection on) and `devicePassphrase` (what its user types on a T).
fn protected_trezor(
    mut sim: TrezorSim,
    get: &impl Fn(&str) -> JsValue,
    mnemonic: &str,
) -> Result<TrezorSim> {
    match get("model").as_string().as_deref() {
        None | Some("t") | Some("T") | Some("safe7") => {}
        Some("one") | Some("1") => sim = sim.with_model(Model::One),
        Some(other) => {
            return Err(Error::invalid(
                "model",
                format!("{other:?} is not \"one\", \"t\" or \"safe7\""),
            ))
        }
    }
    // The firmware scrambles the matrix with its RNG.
    sim = sim.with_matrix_seed((js_sys::Math::random() * 9.0e15) as u64);
    if let Some(pin) = get("pin").as_string() {
        if pin.is_empty() || !pin.chars().all(|c| ('1'..='9').contains(&c)) {
            return Err(Error::invalid("pin", "digits 1 to 9"));
        }
        sim = sim.with_pin(&pin);
    }
    if get("passphrase").is_truthy() {
        sim = sim.with_passphrase(mnemonic);
    }
    if let Some(p) = get("devicePassphrase").as_string() {
        sim = sim.with_device_passphrase(&p);
    }
    Ok(sim)
}

impl Simulator {
    fn build(options: JsValue) -> Result<Self> {
        let get = |key: &str| {
            if options.is_object() {
                Reflect::get(&options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
            } else {
                JsValue::UNDEFINED
            }
        };
        let vendor = get("vendor").as_string().unwrap_or_else(|| "ledger".into());
        let vendor = match vendor.as_str() {
            "ledger" => "ledger",
            "trezor" => "trezor",
            other => {
                return Err(Error::invalid(
                    "vendor",
                    format!("{other:?} is neither \"ledger\" nor \"trezor\""),
                ))
            }
        };
        let mut o = SimLedgerOptions::default();
        if let Some(m) = mnemonic_of(&get) {
            o.mnemonic = m;
        }
        if let Some(t) = get("testnet").as_bool() {
            o.testnet = t;
        }
        let approve = get("approve");
        let prompts: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
        o.confirm = if approve.as_string().as_deref() == Some("manual") {
            let record = prompts.clone();
            Confirm::Ask(Rc::new(move |p: &Prompt| {
                record.borrow_mut().push(prompt_text(p));
                true
            }))
        } else if let Some(b) = approve.as_bool() {
            if b {
                Confirm::Approve
            } else {
                Confirm::Refuse
            }
        } else if let Some(f) = approve.dyn_ref::<Function>() {
            let f = f.clone();
            Confirm::Ask(Rc::new(move |p: &Prompt| {
                f.call1(&JsValue::NULL, &JsValue::from_str(&prompt_text(p)))
                    .map(|v| v.is_truthy())
                    .unwrap_or(false)
            }))
        } else {
            Confirm::Approve
        };
        let sim = if vendor == "trezor" {
            let mnemonic = mnemonic_of(&get).unwrap_or_else(|| TREZOR_TEST_MNEMONIC.into());
            let seed = Seed::from_mnemonic(&mnemonic, "")?;
            let sim = protected_trezor(
                TrezorSim::new(seed, o.confirm, Faults::none()),
                &get,
                &mnemonic,
            )?;
            if get("model").as_string().as_deref() == Some("safe7") {
                // A new random seed: each page's simulated Safe 7 shows other codes.
                let sim =
                    Safe7Sim::new(sim).with_random_seed((js_sys::Math::random() * 9.0e15) as u64);
                Sim::Safe7(Box::new(sim))
            } else {
                Sim::Trezor(Box::new(sim))
            }
        } else {
            Sim::Ledger(SimLedger::new(o))
        };
        Ok(Simulator {
            gate: Rc::new(RefCell::new(Gate {
                sim,
                inbox: VecDeque::new(),
                readers: VecDeque::new(),
                held: None,
                prompts,
                on_prompt: None,
            })),
            vendor,
        })
    }

    fn write_message(&self, frame: &[u8]) -> Result<()> {
        let mut g = self.gate.borrow_mut();
        g.prompts.borrow_mut().clear();
        let replies = match &mut g.sim {
            Sim::Trezor(sim) => {
                let (ty, payload) = trezor_framing::decode_message(frame)?;
                sim.handle_message(ty, &payload)
                    .into_iter()
                    .map(|(t, p)| trezor_framing::encode_message(t, &p))
                    .collect::<Result<Vec<_>>>()?
            }
            Sim::Safe7(sim) => {
                if frame.len() != crate::protocol::codec::REPORT_SIZE {
                    return Err(Error::invalid(
                        "simulator",
                        "a simulated safe 7 takes 64-byte reports (trezorFromLink with framing \"reports\")",
                    ));
                }
                let mut replies = sim.handle_packet(frame)?;
                // ACKs go out at once (else the host sends its message again); the
                // answer waits for the button.
                let is_ack = |p: &Vec<u8>| p.first().is_some_and(|c| c & 0xf7 == 0x20);
                let acks: Vec<Vec<u8>> = replies.iter().filter(|p| is_ack(p)).cloned().collect();
                replies.retain(|p| !is_ack(p));
                g.deliver(acks);
                replies
            }
            Sim::Ledger(_) => {
                return Err(Error::Unsupported(
                    "a simulated ledger takes apdus (exchange)".into(),
                ))
            }
        };
        let prompt = g.prompt();
        if prompt.is_some() {
            g.held = Some(Held::Trezor(replies));
        } else {
            g.deliver(replies);
        }
        drop(g);
        tell(prompt);
        Ok(())
    }
}

#[wasm_bindgen]
impl Simulator {
    /// A simulated device (see `SimulatedDeviceOptions`).
    ///
    /// # Errors
    /// `invalid-input` for an unknown vendor or model, a bad PIN or mnemonic.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "SimulatedDeviceOptions")] options: Option<
            JsValue,
        >,
    ) -> core::result::Result<Simulator, JsValue> {
        Self::build(options.unwrap_or(JsValue::UNDEFINED)).map_err(to_js_error)
    }

    /// `"ledger"` or `"trezor"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"ledger\" | \"trezor\"")]
    pub fn vendor(&self) -> String {
        self.vendor.to_string()
    }

    /// What a Trezor's `write` and `read` carry (`trezorFromLink`'s `framing`):
    /// `"messages"` for a One or T, `"reports"` (64-byte THP packets) for a Safe 7.
    #[wasm_bindgen(getter, unchecked_return_type = "\"messages\" | \"reports\"")]
    pub fn framing(&self) -> String {
        match self.gate.borrow().sim {
            Sim::Safe7(_) => "reports",
            _ => "messages",
        }
        .into()
    }

    /// Ledger: answers one APDU with the reply data and status word; the promise waits
    /// for the page's `approve()` / `reject()` after a confirmation in manual mode.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn exchange(&self, apdu: &[u8]) -> Promise {
        let mut g = self.gate.borrow_mut();
        g.prompts.borrow_mut().clear();
        let Sim::Ledger(sim) = &mut g.sim else {
            return Promise::reject(&to_js_error(Error::Unsupported(
                "a simulated trezor takes messages (write/read)".into(),
            )));
        };
        let reply = sim.apdu(apdu);
        let Some(prompt) = g.prompt() else {
            return Promise::resolve(&bytes(&reply));
        };
        let mut resolve = None;
        let promise = Promise::new(&mut |r, _| resolve = Some(r));
        if let Some(r) = resolve {
            g.held = Some(Held::Ledger(reply, r));
        }
        drop(g);
        tell(Some(prompt));
        promise
    }

    /// Trezor: takes one message (`type u16 BE | length u32 BE | protobuf`), or one
    /// 64-byte packet on a Safe 7 (see `framing`).
    ///
    /// # Errors
    /// `protocol` for a badly framed message; `unsupported` on a simulated Ledger.
    pub fn write(&self, message: &[u8]) -> core::result::Result<(), JsValue> {
        self.write_message(message).map_err(to_js_error)
    }

    /// Trezor: the next reply message (a Safe 7: packet), when there is one.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn read(&self) -> Promise {
        let mut g = self.gate.borrow_mut();
        if let Some(message) = g.inbox.pop_front() {
            return Promise::resolve(&bytes(&message));
        }
        let mut resolve = None;
        let promise = Promise::new(&mut |r, _| resolve = Some(r));
        if let Some(r) = resolve {
            g.readers.push_back(r);
        }
        promise
    }

    /// Receives the text of each confirmation the simulated device asks for.
    #[wasm_bindgen(setter = onPrompt)]
    pub fn set_on_prompt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "((prompt: string) => void) | undefined")]
        callback: Option<Function>,
    ) {
        self.gate.borrow_mut().on_prompt = callback;
    }

    /// A prompt waits for an answer.
    #[wasm_bindgen(getter)]
    pub fn waiting(&self) -> bool {
        self.gate.borrow().held.is_some()
    }

    /// The PIN matrix a simulated Trezor One shows while it waits for the PIN: its
    /// nine digits in reading order (top-left first), or `null`.
    #[wasm_bindgen(getter = pinMatrix, unchecked_return_type = "number[] | null")]
    pub fn pin_matrix(&self) -> JsValue {
        match &self.gate.borrow().sim {
            Sim::Trezor(sim) => match sim.pin_matrix() {
                Some(m) => m
                    .iter()
                    .map(|d| JsValue::from(*d))
                    .collect::<js_sys::Array>()
                    .into(),
                None => JsValue::NULL,
            },
            Sim::Ledger(_) | Sim::Safe7(_) => JsValue::NULL,
        }
    }

    /// The 6-digit pairing code a simulated Trezor Safe 7 shows while it pairs, or
    /// `null`.
    #[wasm_bindgen(getter = pairingCode)]
    pub fn pairing_code(&self) -> Option<String> {
        match &self.gate.borrow().sim {
            Sim::Safe7(sim) => sim.pairing_code(),
            _ => None,
        }
    }

    /// Power off and on (a simulated Trezor forgets its PIN entry and sessions; a
    /// Safe 7 its channels).
    #[wasm_bindgen(js_name = powerCycle)]
    pub fn power_cycle(&self) {
        match &mut self.gate.borrow_mut().sim {
            Sim::Trezor(sim) => sim.power_off(),
            Sim::Safe7(sim) => sim.power_off(),
            Sim::Ledger(_) => {}
        }
    }

    /// Presses Approve.
    ///
    /// # Errors
    /// Rejects with `invalid-input` when nothing waits for an answer.
    pub fn approve(&self) -> core::result::Result<(), JsValue> {
        self.gate.borrow_mut().answer(true).map_err(to_js_error)
    }

    /// Presses Reject.
    ///
    /// # Errors
    /// Rejects with `invalid-input` when nothing waits for an answer.
    pub fn reject(&self) -> core::result::Result<(), JsValue> {
        self.gate.borrow_mut().answer(false).map_err(to_js_error)
    }
}
