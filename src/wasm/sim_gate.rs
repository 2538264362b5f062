//! A simulated device whose user answers later, through buttons on the page.
//!
//! The simulator runs as if its user approved, but every reply that follows a
//! confirmation is held back: the page is told the prompt, and `approve()` releases
//! the reply while `reject()` replaces it with the vendor's refusal (status 0x6985 for
//! a Ledger, Failure ActionCancelled for a Trezor) and resets the simulator's command.
//! Reads wait for replies (with the caller's time-out), as on a real device.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use futures::future::{select, Either, LocalBoxFuture};
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::error::{Error, Result};
use crate::protocol::ledger::framing as ledger_framing;
use crate::protocol::trezor::framing as trezor_framing;
use crate::sim::ledger::SimLedger;
use crate::sim::trezor::{Safe7Sim, TrezorSim};
use crate::transport::web::webhid::sleep_ms;
use crate::transport::{Identity, Packets, Transport};

/// Which simulator answers.
pub enum Simulator {
    /// A Ledger, reached by HID reports.
    Ledger(SimLedger),
    /// A Trezor, reached by codec v1 reports.
    Trezor(Box<TrezorSim>),
    /// A Trezor Safe 7, reached by THP packets.
    Safe7(Box<Safe7Sim>),
}

struct Gate {
    sim: Simulator,
    ledger_decoder: Option<(u16, ledger_framing::Decoder)>,
    inbox: VecDeque<Vec<u8>>,
    held: Option<(Vec<Vec<u8>>, u16)>,
    prompts: Rc<RefCell<Vec<String>>>,
    on_prompt: Option<Function>,
    waker: Option<Waker>,
}

impl Gate {
    fn deliver(&mut self, packets: Vec<Vec<u8>>) {
        self.inbox.extend(packets);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Feeds one host report; returns the reply packets, or holds them behind a prompt.
    fn feed(&mut self, packet: &[u8]) -> Result<()> {
        self.prompts.borrow_mut().clear();
        let (replies, channel) = match &mut self.sim {
            Simulator::Ledger(sim) => {
                let channel = match packet {
                    [a, b, ..] => u16::from_be_bytes([*a, *b]),
                    _ => return Err(Error::Transport("short report".into())),
                };
                let dec = &mut self
                    .ledger_decoder
                    .get_or_insert_with(|| (channel, ledger_framing::Decoder::new(channel)))
                    .1;
                let Some(apdu) = dec.push(packet)? else {
                    return Ok(());
                };
                self.ledger_decoder = None;
                let reply = sim.apdu(&apdu);
                (
                    ledger_framing::encode(channel, &reply)?
                        .iter()
                        .map(|p| p.to_vec())
                        .collect(),
                    channel,
                )
            }
            Simulator::Trezor(sim) => (sim.handle_packet(packet)?, 0),
            Simulator::Safe7(sim) => {
                let mut replies = sim.handle_packet(packet)?;
                // ACKs go out at once (else the host sends its message again); the
                // answer waits for the button.
                let acks: Vec<Vec<u8>> = replies
                    .iter()
                    .filter(|p| p.first().is_some_and(|c| c & 0xf7 == 0x20))
                    .cloned()
                    .collect();
                replies.retain(|p| p.first().is_none_or(|c| c & 0xf7 != 0x20));
                self.deliver(acks);
                (replies, 0)
            }
        };
        let prompt = self.prompts.borrow().last().cloned();
        match prompt {
            Some(text) => {
                self.held = Some((replies, channel));
                if let Some(f) = &self.on_prompt {
                    let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&text));
                }
            }
            None => self.deliver(replies),
        }
        Ok(())
    }

    fn answer(&mut self, approve: bool) -> Result<()> {
        let (replies, channel) = self
            .held
            .take()
            .ok_or_else(|| Error::invalid("simulator", "nothing waits for an answer"))?;
        if approve {
            self.deliver(replies);
            return Ok(());
        }
        let refusal: Vec<Vec<u8>> = match &mut self.sim {
            Simulator::Ledger(sim) => {
                let faults = sim.context().faults.clone();
                sim.set_faults(faults);
                ledger_framing::encode(channel, &[0x69, 0x85])?
                    .iter()
                    .map(|p| p.to_vec())
                    .collect()
            }
            Simulator::Trezor(sim) => {
                // Back to idle (the simulator forgets the flow), then the refusal.
                for packet in trezor_framing::encode(0, &[])? {
                    let _ = sim.handle_packet(&packet);
                }
                // Failure { code: 4 (ActionCancelled) }
                trezor_framing::encode(3, &[0x08, 0x04])?
                    .iter()
                    .map(|p| p.to_vec())
                    .collect()
            }
            Simulator::Safe7(sim) => sim.refuse_last(),
        };
        self.deliver(refusal);
        Ok(())
    }
}

/// The link to a gated simulator.
pub struct GatedLink {
    gate: Rc<RefCell<Gate>>,
    identity: Identity,
}

/// The page's side of the simulated device's buttons.
#[wasm_bindgen]
#[derive(Clone)]
pub struct SimulatorControl {
    gate: Rc<RefCell<Gate>>,
}

#[wasm_bindgen]
impl SimulatorControl {
    /// Receives the text of each confirmation the simulated device asks for.
    #[wasm_bindgen(setter = onPrompt)]
    pub fn set_on_prompt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "((prompt: string) => void) | undefined")]
        callback: Option<Function>,
    ) {
        self.gate.borrow_mut().on_prompt = callback;
    }

    /// The prompt waiting for an answer, if any.
    #[wasm_bindgen(getter)]
    pub fn waiting(&self) -> bool {
        self.gate.borrow().held.is_some()
    }

    /// The PIN matrix a simulated Trezor One shows while it waits for the PIN: its
    /// nine digits in reading order (top-left first), or `null`.
    #[wasm_bindgen(getter = pinMatrix, unchecked_return_type = "number[] | null")]
    pub fn pin_matrix(&self) -> JsValue {
        match &self.gate.borrow().sim {
            Simulator::Trezor(sim) => match sim.pin_matrix() {
                Some(m) => m
                    .iter()
                    .map(|d| JsValue::from(*d))
                    .collect::<js_sys::Array>()
                    .into(),
                None => JsValue::NULL,
            },
            Simulator::Ledger(_) | Simulator::Safe7(_) => JsValue::NULL,
        }
    }

    /// The 6-digit pairing code a simulated Trezor Safe 7 shows while it pairs, or
    /// `null`.
    #[wasm_bindgen(getter = pairingCode)]
    pub fn pairing_code(&self) -> Option<String> {
        match &self.gate.borrow().sim {
            Simulator::Safe7(sim) => sim.pairing_code(),
            _ => None,
        }
    }

    /// Power off and on (a simulated Trezor forgets its PIN entry and sessions).
    #[wasm_bindgen(js_name = powerCycle)]
    pub fn power_cycle(&self) {
        match &mut self.gate.borrow_mut().sim {
            Simulator::Trezor(sim) => sim.power_off(),
            Simulator::Safe7(sim) => sim.power_off(),
            Simulator::Ledger(_) => {}
        }
    }

    /// Presses Approve.
    ///
    /// # Errors
    /// Rejects with `invalid-input` when nothing waits for an answer.
    pub fn approve(&self) -> Result<(), JsValue> {
        self.gate
            .borrow_mut()
            .answer(true)
            .map_err(super::errors::to_js_error)
    }

    /// Presses Reject.
    ///
    /// # Errors
    /// Rejects with `invalid-input` when nothing waits for an answer.
    pub fn reject(&self) -> Result<(), JsValue> {
        self.gate
            .borrow_mut()
            .answer(false)
            .map_err(super::errors::to_js_error)
    }
}

/// A gated link to `sim`, with `record` the list its `Confirm::Ask` callback fills.
pub fn gated(
    sim: Simulator,
    prompts: Rc<RefCell<Vec<String>>>,
    identity: Identity,
) -> (GatedLink, SimulatorControl) {
    let gate = Rc::new(RefCell::new(Gate {
        sim,
        ledger_decoder: None,
        inbox: VecDeque::new(),
        held: None,
        prompts,
        on_prompt: None,
        waker: None,
    }));
    (
        GatedLink {
            gate: gate.clone(),
            identity,
        },
        SimulatorControl { gate },
    )
}

struct NextReply(Rc<RefCell<Gate>>);

impl core::future::Future for NextReply {
    type Output = Vec<u8>;
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Vec<u8>> {
        let mut g = self.0.borrow_mut();
        match g.inbox.pop_front() {
            Some(p) => core::task::Poll::Ready(p),
            None => {
                g.waker = Some(cx.waker().clone());
                core::task::Poll::Pending
            }
        }
    }
}

impl Transport for GatedLink {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn discard_pending(&mut self) {
        self.gate.borrow_mut().inbox.clear();
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move { self.gate.borrow_mut().feed(data) })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        let gate = self.gate.clone();
        Box::pin(async move {
            match select(NextReply(gate), Box::pin(sleep_ms(timeout_ms))).await {
                Either::Left((packet, _)) => Ok(packet),
                Either::Right(_) => Err(Error::Timeout {
                    after_ms: timeout_ms,
                }),
            }
        })
    }
}
