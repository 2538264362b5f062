//! What runs inside the encrypted channel before the Bitcoin calls, as [`Machine`]s of
//! Trezor messages (`(type, protobuf)`, like every [`Call`]):
//!
//! - [`Pairing`]: PairingRequest (the user allows it on the device), code entry
//!   (commitment, challenge, CPace with the code the caller types, the device's secret
//!   checked against its commitment and the code), a credential (the device's static
//!   key checked against the masked key of the handshake), EndRequest;
//! - [`end`]: EndRequest alone, after a handshake with a valid credential (the device
//!   may ask the user to confirm the connection);
//! - [`CreateSession`]: ThpCreateNewSession with the passphrase the caller gives (or
//!   typed on the device).

use crate::error::{Error, Result};
use crate::protocol::machine::{Answer, Events, Machine, Need, Passphrase, Status, Step};
use crate::protocol::thp::credentials::Credential;
use crate::protocol::thp::messages::{
    method, CodeEntryChallenge, CodeEntryCommitment, CodeEntryCpaceHostTag, CodeEntryCpaceTrezor,
    CodeEntrySecret, CreateNewSession, CredentialRequest, CredentialResponse, EndRequest,
    EndResponse, PairingRequest, PairingRequestApproved, SelectMethod,
};
use crate::protocol::thp::noise::{masked_static_key, public_key, sha256};
use crate::protocol::thp::{cpace, messages};
use crate::protocol::trezor::call::{unexpected, Call, Message, Next};
use crate::protocol::trezor::failure::failure_error;
use crate::protocol::trezor::messages::{
    self as msg, button, types, ButtonAck, ButtonRequest, Failure, Success, Wire,
};

/// What the handshake left for pairing to check against.
#[derive(Clone)]
pub struct HandshakeFacts {
    /// The handshake hash.
    pub handshake_hash: [u8; 32],
    /// The device's ephemeral key.
    pub device_ephemeral: [u8; 32],
    /// The device's masked static key.
    pub masked_static: [u8; 32],
    /// The host static private key of this handshake.
    pub host_static: [u8; 32],
}

impl core::fmt::Debug for HandshakeFacts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HandshakeFacts(..)")
    }
}

/// The random values pairing needs, from the caller's source.
#[derive(Clone)]
pub struct PairingRandom {
    /// The code-entry challenge.
    pub challenge: [u8; 16],
    /// The host's CPace private key.
    pub cpace_private: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairingState {
    Requested,
    MethodSelected,
    Challenged,
    AskingCode,
    TagSent,
    CredentialAsked,
    Ending,
    Done,
}

/// Code-entry pairing, then a credential, then the end of the pairing phase.
pub struct Pairing {
    facts: HandshakeFacts,
    random: PairingRandom,
    host_name: String,
    app_name: String,
    methods: Vec<i32>,
    state: PairingState,
    commitment: Vec<u8>,
    cpace_trezor: [u8; 32],
    code: String,
    credential: Option<Credential>,
    events: Events,
    interactions: usize,
}

impl core::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pairing")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn decode<M: Wire>(ty: u16, payload: &[u8]) -> Result<M> {
    if ty == types::FAILURE {
        return Err(failure_error(&msg::decode::<Failure>(payload)?));
    }
    if ty != M::TYPE {
        return Err(unexpected(ty, M::NAME));
    }
    msg::decode::<M>(payload)
}

fn bytes32(v: Option<Vec<u8>>, what: &str) -> Result<[u8; 32]> {
    v.unwrap_or_default()
        .try_into()
        .map_err(|_| Error::protocol(format!("the trezor's {what} is not 32 bytes")))
}

impl Pairing {
    /// Pairing after a handshake that left `facts`, with the device's pairing
    /// `methods` (from its properties), naming this host and application.
    pub fn new(
        facts: HandshakeFacts,
        random: PairingRandom,
        methods: Vec<i32>,
        host_name: &str,
        app_name: &str,
    ) -> Self {
        Pairing {
            facts,
            random,
            host_name: host_name.to_string(),
            app_name: app_name.to_string(),
            methods,
            state: PairingState::Requested,
            commitment: Vec::new(),
            cpace_trezor: [0; 32],
            code: String::new(),
            credential: None,
            events: Events::default(),
            interactions: 0,
        }
    }

    fn button(&mut self, payload: &[u8]) -> Result<Step<Message, Credential>> {
        self.interactions += 1;
        if self.interactions > 100 {
            return Err(Error::protocol(
                "the trezor asked for a button over 100 times while pairing",
            ));
        }
        let req = msg::decode::<ButtonRequest>(payload)?;
        self.events.push(match req.code {
            Some(button::PIN_ENTRY) => Status::EnterPinOnDevice,
            _ => Status::ConfirmOnDevice,
        });
        Ok(Step::Send(msg::encode(&ButtonAck {})))
    }
}

impl Machine for Pairing {
    type Message = Message;
    type Output = Credential;

    fn start(&mut self) -> Result<Step<Message, Credential>> {
        if !self.methods.contains(&method::CODE_ENTRY) {
            return Err(Error::Unsupported(
                "this trezor offers no code-entry pairing (the only method hwsigner speaks)".into(),
            ));
        }
        Ok(Step::Send(msg::encode(&PairingRequest {
            host_name: Some(self.host_name.clone()),
            app_name: Some(self.app_name.clone()),
        })))
    }

    fn on_reply(&mut self, (ty, payload): Message) -> Result<Step<Message, Credential>> {
        if ty == types::BUTTON_REQUEST && self.state != PairingState::AskingCode {
            return self.button(&payload);
        }
        match self.state {
            PairingState::Requested => {
                decode::<PairingRequestApproved>(ty, &payload)?;
                self.state = PairingState::MethodSelected;
                Ok(Step::Send(msg::encode(&SelectMethod {
                    selected_pairing_method: Some(method::CODE_ENTRY),
                })))
            }
            PairingState::MethodSelected => {
                let c = decode::<CodeEntryCommitment>(ty, &payload)?;
                self.commitment = c.commitment.unwrap_or_default();
                if self.commitment.len() != 32 {
                    return Err(Error::protocol(
                        "the trezor's code-entry commitment is not 32 bytes",
                    ));
                }
                self.state = PairingState::Challenged;
                Ok(Step::Send(msg::encode(&CodeEntryChallenge {
                    challenge: Some(self.random.challenge.to_vec()),
                })))
            }
            PairingState::Challenged => {
                let c = decode::<CodeEntryCpaceTrezor>(ty, &payload)?;
                self.cpace_trezor = bytes32(c.cpace_trezor_public_key, "cpace key")?;
                self.state = PairingState::AskingCode;
                Ok(Step::Need(Need::PairingCode))
            }
            PairingState::AskingCode => Err(Error::protocol(format!(
                "the trezor sent {} while the host was being asked for the pairing code",
                msg::type_name(ty)
            ))),
            PairingState::TagSent => {
                if ty == types::FAILURE {
                    return Err(Error::invalid(
                        "pairing code",
                        "the trezor refused it: type the 6 digits it shows",
                    ));
                }
                let s = decode::<CodeEntrySecret>(ty, &payload)?;
                let secret = s.secret.unwrap_or_default();
                if sha256(&[&secret]).as_slice() != self.commitment.as_slice() {
                    return Err(Error::protocol(
                        "the trezor's pairing secret does not match its commitment",
                    ));
                }
                let expected = cpace::code_text(cpace::code(
                    &self.facts.handshake_hash,
                    &secret,
                    &self.random.challenge,
                ));
                if expected != self.code {
                    return Err(Error::protocol(
                        "the pairing code does not come from the trezor's secret: another \
                         device may sit between the host and the trezor",
                    ));
                }
                self.state = PairingState::CredentialAsked;
                Ok(Step::Send(msg::encode(&CredentialRequest {
                    host_static_public_key: Some(public_key(self.facts.host_static).to_vec()),
                    autoconnect: Some(false),
                    credential: None,
                })))
            }
            PairingState::CredentialAsked => {
                let r = decode::<CredentialResponse>(ty, &payload)?;
                let trezor_static = bytes32(r.trezor_static_public_key, "static key")?;
                if masked_static_key(&trezor_static, &self.facts.device_ephemeral)
                    != self.facts.masked_static
                {
                    return Err(Error::protocol(
                        "the trezor's static key is not the one it used in the handshake",
                    ));
                }
                let credential = r.credential.unwrap_or_default();
                if credential.is_empty() {
                    return Err(Error::protocol("the trezor issued an empty credential"));
                }
                self.credential = Some(Credential {
                    trezor_static,
                    host_private: self.facts.host_static,
                    credential,
                });
                self.state = PairingState::Ending;
                Ok(Step::Send(msg::encode(&EndRequest {})))
            }
            PairingState::Ending => {
                decode::<EndResponse>(ty, &payload)?;
                self.state = PairingState::Done;
                let credential = self
                    .credential
                    .take()
                    .ok_or_else(|| Error::protocol("pairing ended without a credential"))?;
                Ok(Step::Done(credential))
            }
            PairingState::Done => Err(Error::protocol("message after pairing completed")),
        }
    }

    fn on_answer(&mut self, answer: Answer) -> Result<Step<Message, Credential>> {
        let (PairingState::AskingCode, Answer::PairingCode(code)) = (self.state, answer) else {
            return Err(Error::protocol(
                "an answer was given that does not fit what was asked",
            ));
        };
        let code = code.trim().to_string();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::invalid(
                "pairing code",
                "expected the 6 digits the trezor shows",
            ));
        }
        let (host_public, shared) = cpace::exchange(
            &code,
            &self.facts.handshake_hash,
            self.random.cpace_private,
            self.cpace_trezor,
        );
        self.code = code;
        self.state = PairingState::TagSent;
        Ok(Step::Send(msg::encode(&CodeEntryCpaceHostTag {
            cpace_host_public_key: Some(host_public.to_vec()),
            tag: Some(cpace::tag(&shared).to_vec()),
        })))
    }

    fn poll_event(&mut self) -> Option<Status> {
        self.events.pop()
    }
}

/// EndRequest after a handshake with a valid credential: the device may ask the user
/// to allow the connection first.
pub fn end() -> Call<()> {
    Call::simple(&EndRequest {}, |_: EndResponse| Ok(()))
}

/// ThpCreateNewSession: asks the caller for the passphrase first when the device has
/// passphrase protection (`passphrase` true), offering on-device entry where
/// `on_device` says the device can.
pub struct CreateSession {
    passphrase: bool,
    on_device: bool,
    call: Option<Call<()>>,
}

impl core::fmt::Debug for CreateSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CreateSession")
            .field("passphrase", &self.passphrase)
            .finish_non_exhaustive()
    }
}

impl CreateSession {
    /// A new session; `passphrase` says whether to ask for one.
    pub fn new(passphrase: bool, on_device: bool) -> Self {
        CreateSession {
            passphrase,
            on_device,
            call: None,
        }
    }

    fn send(&mut self, request: CreateNewSession) -> Result<Step<Message, ()>> {
        let mut call = Call::new(msg::encode(&request), |ty, payload, _| {
            if ty != types::SUCCESS {
                return Err(unexpected(ty, "success"));
            }
            msg::decode::<Success>(payload)?;
            Ok(Next::Done(()))
        });
        let step = call.start();
        self.call = Some(call);
        step
    }
}

impl Machine for CreateSession {
    type Message = Message;
    type Output = ();

    fn start(&mut self) -> Result<Step<Message, ()>> {
        if self.passphrase {
            return Ok(Step::Need(Need::Passphrase {
                on_device: self.on_device,
            }));
        }
        self.send(CreateNewSession {
            passphrase: Some(String::new()),
            on_device: None,
            derive_cardano: None,
        })
    }

    fn on_reply(&mut self, reply: Message) -> Result<Step<Message, ()>> {
        match self.call.as_mut() {
            Some(call) => call.on_reply(reply),
            None => Err(Error::protocol("a reply before the session was asked for")),
        }
    }

    fn on_answer(&mut self, answer: Answer) -> Result<Step<Message, ()>> {
        if self.call.is_some() {
            return Err(Error::protocol("an answer nobody asked for"));
        }
        let request = match answer {
            Answer::Passphrase(Passphrase::Text(text)) => CreateNewSession {
                passphrase: Some(text),
                on_device: None,
                derive_cardano: None,
            },
            Answer::Passphrase(Passphrase::OnDevice) if self.on_device => CreateNewSession {
                passphrase: None,
                on_device: Some(true),
                derive_cardano: None,
            },
            Answer::Passphrase(Passphrase::OnDevice) => {
                return Err(Error::Unsupported(
                    "this trezor cannot take the passphrase on the device: give it on the host"
                        .into(),
                ))
            }
            other => {
                return Err(Error::protocol(format!(
                    "the answer {other:?} does not fit the passphrase request"
                )))
            }
        };
        self.send(request)
    }

    fn poll_event(&mut self) -> Option<Status> {
        self.call.as_mut().and_then(Call::poll_event)
    }
}

/// The message types of the pairing phase, for names in errors.
pub fn is_pairing_type(ty: u16) -> bool {
    (messages::types::PAIRING_REQUEST..=messages::types::CODE_ENTRY_SECRET).contains(&ty)
}
