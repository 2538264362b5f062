//! The simulated Trezor's message loop: sessions, confirmations, faults.

use crate::error::{Error, Result};
use crate::sim::confirm::{Confirm, Prompt};
use crate::sim::fault::{Fault, Faults};
use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
use crate::sim::trezor::keys::{self, path_of, Refusal};
use crate::sim::trezor::sign_tx::{self, Answer, Outcome};
use crate::transport::memory::MemoryTransport;
use crate::transport::{Identity, Packets};
use crate::trezor::btc::keys::node_of;
use crate::trezor::framing::{self, Decoder};
use crate::trezor::messages::{
    self as msg, button, failure, request_type, types, Address, ButtonRequest, Failure, Features,
    GetAddress, GetPublicKey, Initialize, InputScriptType, MessageSignature, Ping, PublicKey,
    SignMessage, SignTx, Success, TxRequest, TxRequestDetailsType, Wire,
};

/// A reply the sim will send once the user confirmed.
#[derive(Debug, Clone)]
enum Pending {
    /// Send this message.
    Reply(u16, Vec<u8>),
}

#[derive(Debug, Clone)]
enum State {
    Idle,
    /// A ButtonRequest is out; on ButtonAck, ask `prompt` and send `then`.
    Button(Prompt, Pending),
    /// Signing: the SignTx, the answers so far, and what was last asked.
    Signing {
        tx: SignTx,
        answers: Vec<Answer>,
        waiting: Waiting,
    },
}

#[derive(Debug, Clone)]
enum Waiting {
    Tx,
    Button(Prompt),
}

/// A simulated Trezor.
#[derive(Debug)]
pub struct TrezorSim {
    seed: Seed,
    confirm: Confirm,
    faults: Faults,
    session_id: Option<Vec<u8>>,
    sessions: u8,
    state: State,
    decoder: Decoder,
    exchanges: usize,
    packets_out: usize,
}

fn reply<M: Wire>(m: &M) -> Vec<(u16, Vec<u8>)> {
    vec![msg::encode(m)]
}

fn failure_reply((code, text): Refusal) -> Vec<(u16, Vec<u8>)> {
    reply(&Failure {
        code: Some(code),
        message: Some(text),
    })
}

fn bad_message(what: &str) -> Vec<(u16, Vec<u8>)> {
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
            packets_out: 0,
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
        ))
    }

    /// The Features this simulator reports.
    pub fn features(&self) -> Features {
        Features {
            vendor: Some("trezor.io".into()),
            major_version: Some(2),
            minor_version: Some(8),
            patch_version: Some(0),
            bootloader_mode: None,
            device_id: Some("HWSIGNERSIM0001".into()),
            pin_protection: Some(false),
            passphrase_protection: Some(false),
            label: Some("hwsigner simulator".into()),
            initialized: Some(true),
            unlocked: Some(true),
            model: Some("T".into()),
            capabilities: vec![1],
            session_id: self.session_id.clone(),
            passphrase_always_on_device: Some(false),
            internal_model: Some("T2T1".into()),
        }
    }

    fn new_session(&mut self) -> Vec<u8> {
        self.sessions = self.sessions.wrapping_add(1);
        let mut id = vec![0x5e; 32];
        id[31] = self.sessions;
        id
    }

    fn confirm_then(&mut self, code: i32, prompt: Prompt, then: Pending) -> Vec<(u16, Vec<u8>)> {
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
        if self.faults.has(Fault::GarbageMessage) {
            for (_, p) in &mut out {
                *p = vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01];
            }
        }
        out
    }

    fn dispatch(&mut self, msg_type: u16, payload: &[u8]) -> Vec<(u16, Vec<u8>)> {
        match msg_type {
            types::INITIALIZE => {
                self.state = State::Idle;
                let Ok(init) = msg::decode::<Initialize>(payload) else {
                    return bad_message("initialize");
                };
                let resume = init
                    .session_id
                    .filter(|id| Some(id) == self.session_id.as_ref());
                self.session_id = Some(match resume {
                    Some(id) => id,
                    None => self.new_session(),
                });
                reply(&self.features())
            }
            types::GET_FEATURES => reply(&self.features()),
            types::CANCEL => {
                self.state = State::Idle;
                failure_reply((failure::ACTION_CANCELLED, "Cancelled".into()))
            }
            types::END_SESSION => {
                self.session_id = None;
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
            State::Button(prompt, Pending::Reply(ty, payload)) => {
                if self.confirm.answer(&prompt) {
                    vec![(ty, payload)]
                } else {
                    failure_reply((failure::ACTION_CANCELLED, "Cancelled".into()))
                }
            }
            State::Signing {
                tx,
                mut answers,
                waiting: Waiting::Button(prompt),
            } => {
                answers.push(Answer::Button(self.confirm.answer(&prompt)));
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
        let outcome = sign_tx::replay(&self.seed, tx, answers);
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
            Outcome::Request(req) => {
                if let State::Signing { waiting, .. } = &mut self.state {
                    *waiting = Waiting::Tx;
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

    fn get_public_key(&mut self, m: GetPublicKey) -> Vec<(u16, Vec<u8>)> {
        match self.public_key(&m) {
            Ok(pk) => {
                let answer = msg::encode(&pk);
                if m.show_display == Some(true) {
                    self.confirm_then(
                        button::PUBLIC_KEY,
                        Prompt::Show(pk.xpub),
                        Pending::Reply(answer.0, answer.1),
                    )
                } else {
                    vec![answer]
                }
            }
            Err(r) => failure_reply(r),
        }
    }

    fn public_key(&self, m: &GetPublicKey) -> core::result::Result<PublicKey, Refusal> {
        if let Some(curve) = &m.ecdsa_curve_name {
            if curve != "secp256k1" {
                return Err((failure::DATA_ERROR, "Unsupported curve".into()));
            }
        }
        let coin = keys::coin_of(m.coin_name.as_deref())?;
        let mut address_n = m.address_n.clone();
        if self.faults.has(Fault::ForeignPubkey) {
            address_n.push(7);
        }
        let path = path_of(&address_n);
        let xpub = self
            .seed
            .xpub(&path, bitcoin::NetworkKind::from(coin.network()))
            .map_err(keys::refusal)?;
        let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
        Ok(PublicKey {
            node: Some(node_of(&xpub)),
            xpub: keys::xpub_string(&xpub, coin, st, m.ignore_xpub_magic == Some(true)),
            root_fingerprint: Some(u32::from_be_bytes(self.seed.fingerprint().to_bytes())),
            descriptor: keys::descriptor(&self.seed, &path, &xpub, st),
        })
    }

    fn get_address(&mut self, m: GetAddress) -> Vec<(u16, Vec<u8>)> {
        let address = keys::coin_of(m.coin_name.as_deref()).and_then(|coin| {
            let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
            let spk =
                keys::script_pubkey(&self.seed, &path_of(&m.address_n), st, m.multisig.as_ref())?;
            keys::address_of(&spk, coin)
        });
        match address {
            Ok(address) => {
                let answer = msg::encode(&Address {
                    address: address.clone(),
                    mac: None,
                });
                if m.show_display == Some(true) {
                    self.confirm_then(
                        button::ADDRESS,
                        Prompt::Show(address),
                        Pending::Reply(answer.0, answer.1),
                    )
                } else {
                    vec![answer]
                }
            }
            Err(r) => failure_reply(r),
        }
    }

    fn sign_message(&mut self, m: SignMessage) -> Vec<(u16, Vec<u8>)> {
        let signed = keys::coin_of(m.coin_name.as_deref()).and_then(|coin| {
            let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
            let path = path_of(&m.address_n);
            let spk = keys::script_pubkey(&self.seed, &path, st, None)?;
            let address = keys::address_of(&spk, coin)?;
            let mut signature = keys::sign_message(
                &self.seed,
                &path,
                st,
                m.no_script_type == Some(true),
                &m.message,
            )?;
            if self.faults.has(Fault::BadSignature) {
                if let Some(last) = signature.last_mut() {
                    *last ^= 0x01;
                }
            }
            Ok(MessageSignature { address, signature })
        });
        match signed {
            Ok(sig) => {
                let text = String::from_utf8_lossy(&m.message).into_owned();
                let answer = msg::encode(&sig);
                self.confirm_then(
                    button::OTHER,
                    Prompt::SignMessage(text),
                    Pending::Reply(answer.0, answer.1),
                )
            }
            Err(r) => failure_reply(r),
        }
    }

    /// Handles one 64-byte packet from the host; returns the reply packets, with the
    /// link-level faults applied.
    ///
    /// # Errors
    /// `disconnected` once `DisconnectAfter(k)` exchanges are done.
    pub fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        if let Some(k) = self.faults.disconnect_after() {
            if self.exchanges >= k {
                return Err(Error::Disconnected);
            }
        }
        let message = match self.decoder.push(packet) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(Vec::new()),
            Err(_) => {
                let (ty, p) = msg::encode(&Failure {
                    code: Some(failure::UNEXPECTED_MESSAGE),
                    message: Some("Invalid packet".into()),
                });
                return self.frame(vec![(ty, p)]);
            }
        };
        self.exchanges += 1;
        if self.faults.has(Fault::NoAnswer) {
            return Ok(Vec::new());
        }
        let replies = self.handle_message(message.0, &message.1);
        self.frame(replies)
    }

    fn frame(&mut self, replies: Vec<(u16, Vec<u8>)>) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for (ty, payload) in replies {
            let mut packets = framing::encode(ty, &payload)?;
            if let Some(first) = packets.first_mut() {
                if self.faults.has(Fault::WrongChannel) {
                    first[..3].copy_from_slice(b"\0\0\0");
                }
                let len = payload.len() as u32;
                if self.faults.has(Fault::TruncatedLength) && len > 0 {
                    first[5..9].copy_from_slice(&(len - 1).to_be_bytes());
                }
                if self.faults.has(Fault::OverlongLength) {
                    first[5..9].copy_from_slice(&(len + 200).to_be_bytes());
                }
            }
            for p in packets {
                let n = self.packets_out;
                self.packets_out += 1;
                if self.faults.has(Fault::DropPacket(n)) {
                    continue;
                }
                if self.faults.has(Fault::DuplicatePacket(n)) {
                    out.push(p.to_vec());
                }
                out.push(p.to_vec());
            }
        }
        Ok(out)
    }

    /// Puts the simulator behind an in-memory link of 64-byte packets (the WebUSB /
    /// HID path).
    pub fn into_transport(mut self) -> MemoryTransport {
        let identity = Identity {
            vendor_id: 0x1209,
            product_id: 0x53c1,
            usage_page: None,
            product_name: "TREZOR (simulated)".into(),
        };
        MemoryTransport::new(Packets::Reports64, identity, move |packet| {
            self.handle_packet(packet)
        })
    }

    /// Puts the simulator behind an in-memory link of whole messages.
    pub fn into_message_transport(mut self) -> MemoryTransport {
        MemoryTransport::new(Packets::Messages, Identity::default(), move |data| {
            let (ty, payload) = framing::decode_message(data)?;
            if self.faults.has(Fault::NoAnswer) {
                return Ok(Vec::new());
            }
            self.handle_message(ty, &payload)
                .into_iter()
                .map(|(t, p)| framing::encode_message(t, &p))
                .collect()
        })
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
