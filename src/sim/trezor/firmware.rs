//! The simulated Trezor's message loop: sessions, confirmations, faults.

use crate::error::Result;
use crate::protocol::trezor::framing::Decoder;
use crate::protocol::trezor::messages::{
    self as msg, button, failure, request_type, types, ApplyFlags, ButtonRequest, Failure,
    Features, GetAddress, GetPublicKey, Initialize, Ping, SignMessage, SignTx, Success, TxRequest,
    TxRequestDetailsType, VerifyMessage, Wire,
};
use crate::sim::confirm::{Confirm, Prompt};
use crate::sim::fault::{Fault, Faults};
use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use crate::sim::trezor::keys::Refusal;
use crate::sim::trezor::sign_tx::{self, Answer, Lies, Outcome};
use crate::sim::trezor::unlock::{Asking, Model, Protection};

/// What the sim does once the user confirmed on the device.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    /// Send this message.
    Reply(u16, Vec<u8>),
    /// The PIN was entered on the device: handle this message.
    Pin(u16, Vec<u8>),
    /// This passphrase was typed on the device: handle this message.
    Passphrase(String, u16, Vec<u8>),
    /// Apply this settings change.
    Settings(crate::sim::trezor::settings::Change),
}

#[derive(Debug, Clone)]
pub(super) enum State {
    Idle,
    /// A ButtonRequest is out; on ButtonAck, ask `prompt` and send `then`.
    Button(Prompt, Pending),
    /// A PIN or passphrase is asked for; then the pending message is handled.
    Unlock(Asking, u16, Vec<u8>),
    /// Signing: the SignTx, the answers so far, and what was last asked.
    Signing {
        tx: SignTx,
        answers: Vec<Answer>,
        waiting: Waiting,
    },
}

#[derive(Debug, Clone)]
pub(super) enum Waiting {
    Tx,
    Button(Option<Prompt>),
}

/// A simulated Trezor.
#[derive(Debug)]
pub struct TrezorSim {
    pub(super) seed: Seed,
    pub(super) confirm: Confirm,
    pub(super) faults: Faults,
    pub(super) session_id: Option<Vec<u8>>,
    pub(super) sessions: u8,
    pub(super) state: State,
    pub(super) decoder: Decoder,
    pub(super) exchanges: usize,
    pub(super) faults_at: usize,
    pub(super) packets_out: usize,
    pub(super) protection: Protection,
    pub(super) unlocked: bool,
    pub(super) passphrase_ready: bool,
    pub(super) model: Model,
    /// The PIN matrix shown while PinMatrixAck is awaited.
    pub(super) matrix: Option<[u8; 9]>,
    pub(super) matrix_rng: u64,
    pub(super) pin_failures: u32,
    pub(super) delay_ms: u64,
    /// Packets held back by `Fault::LateReply`, sent before the next reply.
    pub(super) late: Vec<Vec<u8>>,
    /// WipeDevice ran: no seed.
    pub(super) wiped: bool,
    /// The words, for passphrase wallets turned on later.
    pub(super) mnemonic: Option<String>,
}

pub(super) fn reply<M: Wire>(m: &M) -> Vec<(u16, Vec<u8>)> {
    vec![msg::encode(m)]
}

pub(super) fn failure_reply((code, text): Refusal) -> Vec<(u16, Vec<u8>)> {
    reply(&Failure {
        code: Some(code),
        message: Some(text),
    })
}

pub(super) fn bad_message(what: &str) -> Vec<(u16, Vec<u8>)> {
    failure_reply((
        failure::DATA_ERROR,
        format!("Failed to decode message: {what}"),
    ))
}

impl TrezorSim {
    /// A simulator of `seed` that answers confirmations with `confirm`.
    pub fn new(seed: Seed, confirm: Confirm, faults: Faults) -> Self {
        TrezorSim {
            seed,
            confirm,
            faults,
            session_id: None,
            sessions: 0,
            state: State::Idle,
            decoder: Decoder::new(),
            exchanges: 0,
            faults_at: 0,
            packets_out: 0,
            protection: Protection::default(),
            unlocked: true,
            passphrase_ready: true,
            model: Model::T,
            matrix: None,
            matrix_rng: 0x9e37_79b9_7f4a_7c15,
            pin_failures: 0,
            delay_ms: 0,
            late: Vec::new(),
            wiped: false,
            mnemonic: None,
        }
    }

    /// The default simulator: Trezor's "all all ..." test seed, approving everything.
    ///
    /// # Errors
    /// Never in practice (the mnemonic is valid); `invalid-input` otherwise.
    pub fn with_test_seed() -> Result<Self> {
        Ok(TrezorSim::new(
            Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "")?,
            Confirm::Approve,
            Faults::none(),
        )
        .with_mnemonic(TREZOR_TEST_MNEMONIC))
    }

    /// The Features this simulator reports.
    pub fn features(&self) -> Features {
        let one = self.model == Model::One;
        let safe7 = self.model == Model::Safe7;
        let (major, minor, patch) = match self.model {
            Model::One => (1, 14, 1),
            Model::Safe7 => (2, 10, 0),
            _ => (2, 8, 0),
        };
        Features {
            vendor: Some("trezor.io".into()),
            major_version: Some(major),
            minor_version: Some(minor),
            patch_version: Some(patch),
            bootloader_mode: None,
            device_id: Some("HWSIGNERSIM0001".into()),
            pin_protection: Some(self.protection.pin.is_some()),
            passphrase_protection: Some(self.protection.passphrase_mnemonic.is_some()),
            label: Some("hwsigner simulator".into()),
            initialized: Some(!self.wiped),
            unlocked: Some(self.unlocked),
            model: Some(
                match self.model {
                    Model::One => "1",
                    Model::Safe7 => "Safe 7",
                    _ => "T",
                }
                .into(),
            ),
            // Bitcoin, Bitcoin_like, Crypto, U2F, and on the T Shamir, ShamirGroups,
            // PassphraseEntry.
            capabilities: if one {
                vec![1, 2, 5, 14]
            } else {
                vec![1, 2, 5, 14, 15, 16, 17]
            },
            session_id: self.session_id.clone(),
            passphrase_always_on_device: Some(false),
            internal_model: Some(
                match (one, safe7) {
                    (true, _) => "T1B1",
                    (_, true) => "T3W1",
                    _ => "T2T1",
                }
                .into(),
            ),
        }
    }

    fn new_session(&mut self) -> Vec<u8> {
        self.sessions = self.sessions.wrapping_add(1);
        let mut id = vec![0x5e; 31];
        id.push(self.sessions);
        id
    }

    pub(super) fn confirm_then(
        &mut self,
        code: i32,
        prompt: Prompt,
        then: Pending,
    ) -> Vec<(u16, Vec<u8>)> {
        self.state = State::Button(prompt, then);
        reply(&ButtonRequest {
            code: Some(code),
            pages: None,
            name: None,
        })
    }

    /// Handles one whole message from the host; returns the replies (type, payload).
    pub fn handle_message(&mut self, msg_type: u16, payload: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = self.dispatch(msg_type, payload);
        if self.faults.has(Fault::UnexpectedClientCommand) {
            // A reply no call expects outside SignTx: a TxRequest (inside SignTx,
            // `advance` asks for an input that does not exist instead).
            for (ty, p) in &mut out {
                if *ty != types::TX_REQUEST && *ty != types::BUTTON_REQUEST {
                    (*ty, *p) = msg::encode(&TxRequest {
                        request_type: Some(request_type::TXINPUT),
                        details: Some(TxRequestDetailsType {
                            request_index: Some(0),
                            ..Default::default()
                        }),
                        serialized: None,
                    });
                }
            }
        }
        if self.faults.has(Fault::GarbageMessage) {
            for (_, p) in &mut out {
                *p = vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01];
            }
        }
        out
    }

    fn dispatch(&mut self, msg_type: u16, payload: &[u8]) -> Vec<(u16, Vec<u8>)> {
        if let Some(replies) = self.unlock_step(msg_type, payload) {
            return replies;
        }
        if let Some(replies) = self.settings_step(msg_type, payload) {
            return replies;
        }
        match msg_type {
            types::INITIALIZE => {
                self.state = State::Idle;
                self.matrix = None;
                let Ok(init) = msg::decode::<Initialize>(payload) else {
                    return bad_message("initialize");
                };
                let resume = init
                    .session_id
                    .filter(|id| Some(id) == self.session_id.as_ref());
                self.session_id = Some(match resume {
                    Some(id) => id,
                    None => {
                        // A new session forgets the passphrase.
                        if self.protection.passphrase_mnemonic.is_some() {
                            self.passphrase_ready = false;
                        }
                        self.new_session()
                    }
                });
                reply(&self.features())
            }
            types::GET_FEATURES => {
                // As the firmware: the session id comes only with Initialize.
                let mut f = self.features();
                f.session_id = None;
                reply(&f)
            }
            types::APPLY_FLAGS => match msg::decode::<ApplyFlags>(payload) {
                // Flags are kept nowhere: only what unlocking does is simulated.
                Ok(_) => reply(&Success {
                    message: Some("Flags applied".into()),
                }),
                Err(_) => bad_message("applyflags"),
            },
            types::CANCEL => {
                let code = match core::mem::replace(&mut self.state, State::Idle) {
                    State::Unlock(Asking::Pin, ..) => failure::PIN_CANCELLED,
                    _ => failure::ACTION_CANCELLED,
                };
                self.matrix = None;
                failure_reply((code, "Cancelled".into()))
            }
            types::END_SESSION => {
                self.forget_session();
                self.state = State::Idle;
                reply(&Success { message: None })
            }
            types::PING => {
                let Ok(ping) = msg::decode::<Ping>(payload) else {
                    return bad_message("ping");
                };
                let answer = msg::encode(&Success {
                    message: ping.message.clone(),
                });
                if ping.button_protection == Some(true) {
                    return self.confirm_then(
                        button::PROTECT_CALL,
                        Prompt::Show(ping.message.unwrap_or_default()),
                        Pending::Reply(answer.0, answer.1),
                    );
                }
                vec![answer]
            }
            types::BUTTON_ACK => self.on_button_ack(),
            types::TX_ACK => self.on_tx_ack(payload),
            _ if !matches!(self.state, State::Idle) => {
                self.state = State::Idle;
                failure_reply((failure::UNEXPECTED_MESSAGE, "Unexpected message".into()))
            }
            types::GET_PUBLIC_KEY => match msg::decode::<GetPublicKey>(payload) {
                Ok(m) => self.get_public_key(m),
                Err(_) => bad_message("getpublickey"),
            },
            types::GET_ADDRESS => match msg::decode::<GetAddress>(payload) {
                Ok(m) => self.get_address(m),
                Err(_) => bad_message("getaddress"),
            },
            types::SIGN_MESSAGE => match msg::decode::<SignMessage>(payload) {
                Ok(m) => self.sign_message(m),
                Err(_) => bad_message("signmessage"),
            },
            types::VERIFY_MESSAGE => match msg::decode::<VerifyMessage>(payload) {
                Ok(m) => self.verify_message(m),
                Err(_) => bad_message("verifymessage"),
            },
            types::SIGN_TX => match msg::decode::<SignTx>(payload) {
                Ok(tx) => {
                    self.state = State::Signing {
                        tx,
                        answers: Vec::new(),
                        waiting: Waiting::Tx,
                    };
                    self.advance()
                }
                Err(_) => bad_message("signtx"),
            },
            _ => failure_reply((failure::UNEXPECTED_MESSAGE, "Unexpected message".into())),
        }
    }

    fn on_button_ack(&mut self) -> Vec<(u16, Vec<u8>)> {
        match core::mem::replace(&mut self.state, State::Idle) {
            State::Button(prompt, pending) => {
                if !self.confirm.answer(&prompt) {
                    let code = match pending {
                        Pending::Pin(..) => failure::PIN_CANCELLED,
                        _ => failure::ACTION_CANCELLED,
                    };
                    return failure_reply((code, "Cancelled".into()));
                }
                match pending {
                    Pending::Reply(ty, payload) => vec![(ty, payload)],
                    Pending::Pin(ty, payload) => self.pin_entered_on_device(ty, payload),
                    Pending::Passphrase(typed, ty, payload) => {
                        self.use_passphrase(&typed, ty, &payload)
                    }
                    Pending::Settings(change) => self.settings_confirmed(change),
                }
            }
            State::Signing {
                tx,
                mut answers,
                waiting: Waiting::Button(prompt),
            } => {
                let approved = prompt.as_ref().is_none_or(|p| self.confirm.answer(p));
                answers.push(Answer::Button(approved));
                self.state = State::Signing {
                    tx,
                    answers,
                    waiting: Waiting::Tx,
                };
                self.advance()
            }
            _ => failure_reply((failure::UNEXPECTED_MESSAGE, "Unexpected message".into())),
        }
    }

    fn on_tx_ack(&mut self, payload: &[u8]) -> Vec<(u16, Vec<u8>)> {
        match core::mem::replace(&mut self.state, State::Idle) {
            State::Signing {
                tx,
                mut answers,
                waiting: Waiting::Tx,
            } => {
                answers.push(Answer::Tx(payload.to_vec()));
                self.state = State::Signing {
                    tx,
                    answers,
                    waiting: Waiting::Tx,
                };
                self.advance()
            }
            _ => failure_reply((failure::UNEXPECTED_MESSAGE, "Unexpected message".into())),
        }
    }

    /// Replays signing with the answers so far and sends what comes next.
    fn advance(&mut self) -> Vec<(u16, Vec<u8>)> {
        let State::Signing { tx, answers, .. } = &self.state else {
            return failure_reply((failure::UNEXPECTED_MESSAGE, "Unexpected message".into()));
        };
        let lies = Lies {
            foreign_key: self.faults.has(Fault::ForeignPubkey),
            other_sighash: self.faults.has(Fault::OtherSighash),
        };
        let inputs_count = tx.inputs_count;
        let outcome = sign_tx::replay(&self.seed, tx, answers, lies);
        let unexpected = self.faults.has(Fault::UnexpectedClientCommand);
        let bad_sig = self.faults.has(Fault::BadSignature);
        let corrupt = |mut req: TxRequest| {
            if bad_sig {
                if let Some(sig) = req.serialized.as_mut().and_then(|s| s.signature.as_mut()) {
                    if let Some(last) = sig.last_mut() {
                        *last ^= 0x01;
                    }
                }
            }
            req
        };
        match outcome {
            Outcome::Request(mut req) => {
                if let State::Signing { waiting, .. } = &mut self.state {
                    *waiting = Waiting::Tx;
                }
                if unexpected {
                    // An input of the transaction being signed that does not exist.
                    req.request_type = Some(request_type::TXINPUT);
                    req.details = Some(TxRequestDetailsType {
                        request_index: Some(inputs_count),
                        ..Default::default()
                    });
                }
                reply(&corrupt(req))
            }
            Outcome::Button(code, prompt) => {
                if let State::Signing { waiting, .. } = &mut self.state {
                    *waiting = Waiting::Button(prompt);
                }
                reply(&ButtonRequest {
                    code: Some(code),
                    pages: None,
                    name: None,
                })
            }
            Outcome::Finished(req) => {
                if self.faults.has(Fault::EndlessLoop) {
                    return reply(&TxRequest {
                        request_type: Some(request_type::TXINPUT),
                        details: Some(TxRequestDetailsType {
                            request_index: Some(0),
                            ..Default::default()
                        }),
                        serialized: None,
                    });
                }
                self.state = State::Idle;
                reply(&corrupt(req))
            }
            Outcome::Fail(r) => {
                self.state = State::Idle;
                failure_reply(r)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn sessions_resume_and_renew() {
        let mut sim = TrezorSim::with_test_seed().unwrap();
        let (_, p) = msg::encode(&Initialize { session_id: None });
        let r = sim.handle_message(types::INITIALIZE, &p);
        let f = Features::decode(r[0].1.as_slice()).unwrap();
        let id = f.session_id.unwrap();
        let (_, p) = msg::encode(&Initialize {
            session_id: Some(id.clone()),
        });
        let r = sim.handle_message(types::INITIALIZE, &p);
        assert_eq!(
            Features::decode(r[0].1.as_slice()).unwrap().session_id,
            Some(id.clone())
        );
        let (_, p) = msg::encode(&Initialize {
            session_id: Some(vec![1; 32]),
        });
        let r = sim.handle_message(types::INITIALIZE, &p);
        assert_ne!(
            Features::decode(r[0].1.as_slice()).unwrap().session_id,
            Some(id)
        );
    }
}
