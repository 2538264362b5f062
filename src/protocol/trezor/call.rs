//! One Trezor call as a sans-IO [`Machine`]: a message out, messages in.
//!
//! A [`Call`] starts with one request. Whatever the device answers, the call either
//! handles it itself or hands it to the operation's handler, which says what to send
//! next or returns the result:
//! - ButtonRequest: answered with ButtonAck, and a [`Status`] event (confirm on the
//!   device; enter the PIN or the passphrase on the device for the codes that say so);
//! - PinMatrixRequest and PassphraseRequest: returned as a [`Step::Need`]; the caller's
//!   [`Answer`] goes back as PinMatrixAck or PassphraseAck;
//! - Failure: the [`Error`] its code maps to.
//!
//! No awaits, no clocks, no callbacks: the driver runs it, tests run it with bytes.

use crate::error::{Error, Result};
use crate::protocol::machine::{Answer, Events, Machine, Need, Passphrase, PinKind, Status, Step};
use crate::protocol::trezor::failure::{decode_failure, failure_error};
use crate::protocol::trezor::messages::{
    self as msg, button, types, ButtonAck, ButtonRequest, PassphraseAck, PinMatrixAck,
    PinMatrixRequest, Wire,
};

/// A Trezor message: type and protobuf payload.
pub type Message = (u16, Vec<u8>);

/// What an operation's handler decides after a reply.
#[derive(Debug)]
pub enum Next<T> {
    /// Send this message (type, payload).
    Send(u16, Vec<u8>),
    /// The call is complete.
    Done(T),
}

type Handler<T> = Box<dyn FnMut(u16, &[u8], &mut Events) -> Result<Next<T>>>;

/// At most this many button, PIN and passphrase requests in one call.
pub const MAX_INTERACTIONS: usize = 10_000;

/// A call in progress.
pub struct Call<T> {
    first: Message,
    handler: Handler<T>,
    done: bool,
    interactions: usize,
    /// What was asked of the caller and not yet answered.
    asked: Option<Need>,
    /// Whether the device can take the passphrase itself.
    passphrase_on_device: bool,
    events: Events,
}

impl<T> core::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Call")
            .field("first", &msg::type_name(self.first.0))
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Call<T> {
    /// A call that sends `first` and passes every other reply to `handler`, which may
    /// queue status events.
    pub fn new(
        first: Message,
        handler: impl FnMut(u16, &[u8], &mut Events) -> Result<Next<T>> + 'static,
    ) -> Self {
        Call {
            first,
            handler: Box::new(handler),
            done: false,
            interactions: 0,
            asked: None,
            passphrase_on_device: false,
            events: Events::default(),
        }
    }

    /// A call that sends `request` and expects one `R`, turned into the result by `finish`.
    pub fn simple<Q: Wire, R: Wire>(
        request: &Q,
        finish: impl FnOnce(R) -> Result<T> + 'static,
    ) -> Self {
        let mut finish = Some(finish);
        Call::new(msg::encode(request), move |ty, payload, _| {
            if ty != R::TYPE {
                return Err(unexpected(ty, R::NAME));
            }
            let reply = msg::decode::<R>(payload)?;
            let finish = finish
                .take()
                .ok_or_else(|| Error::protocol("reply after the call completed"))?;
            finish(reply).map(Next::Done)
        })
    }

    /// Says whether the device can take the passphrase itself (its features'
    /// capability), so a passphrase need offers that choice.
    pub fn with_passphrase_on_device(mut self, on_device: bool) -> Self {
        self.passphrase_on_device = on_device;
        self
    }

    /// The first message.
    pub fn first(&self) -> &Message {
        &self.first
    }

    fn after_reply(&mut self, msg_type: u16, payload: &[u8]) -> Result<Step<Message, T>> {
        if self.done {
            return Err(Error::protocol("message after the call completed"));
        }
        if self.asked.is_some() {
            return Err(Error::protocol(format!(
                "the trezor sent {} while the host was being asked",
                msg::type_name(msg_type)
            )));
        }
        let interactive = matches!(
            msg_type,
            types::BUTTON_REQUEST | types::PIN_MATRIX_REQUEST | types::PASSPHRASE_REQUEST
        );
        if interactive {
            self.interactions += 1;
            if self.interactions > MAX_INTERACTIONS {
                return Err(Error::protocol(format!(
                    "the trezor asked for the user over {MAX_INTERACTIONS} times in one call"
                )));
            }
        }
        match msg_type {
            types::FAILURE => Err(failure_error(&decode_failure(payload)?)),
            types::BUTTON_REQUEST => {
                let req = msg::decode::<ButtonRequest>(payload)?;
                self.events.push(match req.code {
                    Some(button::PIN_ENTRY) => Status::EnterPinOnDevice,
                    Some(button::PASSPHRASE_ENTRY) => Status::EnterPassphraseOnDevice,
                    _ => Status::ConfirmOnDevice,
                });
                Ok(Step::Send(msg::encode(&ButtonAck {})))
            }
            types::PIN_MATRIX_REQUEST => {
                let req = msg::decode::<PinMatrixRequest>(payload)?;
                let need = Need::Pin(PinKind::from_wire(req.r#type));
                self.asked = Some(need.clone());
                Ok(Step::Need(need))
            }
            types::PASSPHRASE_REQUEST => {
                let need = Need::Passphrase {
                    on_device: self.passphrase_on_device,
                };
                self.asked = Some(need.clone());
                Ok(Step::Need(need))
            }
            _ => match (self.handler)(msg_type, payload, &mut self.events)? {
                Next::Send(msg_type, payload) => Ok(Step::Send((msg_type, payload))),
                Next::Done(result) => {
                    self.done = true;
                    Ok(Step::Done(result))
                }
            },
        }
    }
}

impl<T: 'static> Machine for Call<T> {
    type Message = Message;
    type Output = T;

    fn start(&mut self) -> Result<Step<Message, T>> {
        Ok(Step::Send(self.first.clone()))
    }

    fn on_reply(&mut self, (msg_type, payload): Message) -> Result<Step<Message, T>> {
        self.after_reply(msg_type, &payload)
    }

    fn on_answer(&mut self, answer: Answer) -> Result<Step<Message, T>> {
        match (self.asked.take(), answer) {
            (Some(Need::Pin(_)), Answer::Pin(pin)) => {
                if pin.is_empty()
                    || pin.len() > 50
                    || !pin.chars().all(|c| ('1'..='9').contains(&c))
                {
                    return Err(Error::invalid(
                        "pin",
                        "expected matrix positions 1 to 9 (the digits are scrambled on the device)",
                    ));
                }
                Ok(Step::Send(msg::encode(&PinMatrixAck { pin })))
            }
            (Some(Need::Passphrase { on_device }), Answer::Passphrase(p)) => {
                let ack = match p {
                    Passphrase::Text(text) => PassphraseAck {
                        passphrase: Some(text),
                        on_device: None,
                    },
                    Passphrase::OnDevice if on_device => PassphraseAck {
                        passphrase: None,
                        on_device: Some(true),
                    },
                    Passphrase::OnDevice => return Err(Error::Unsupported(
                        "this trezor cannot take the passphrase on the device: give it on the host"
                            .into(),
                    )),
                };
                Ok(Step::Send(msg::encode(&ack)))
            }
            (asked, answer) => Err(Error::protocol(format!(
                "the answer {answer:?} does not fit what was asked ({asked:?})"
            ))),
        }
    }

    fn poll_event(&mut self) -> Option<Status> {
        self.events.pop()
    }
}

/// The `protocol` error for a reply of the wrong type.
pub fn unexpected(msg_type: u16, expected: &str) -> Error {
    Error::protocol(format!(
        "the trezor answered {} where {} was expected",
        msg::type_name(msg_type),
        expected.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::trezor::messages::{Address, GetAddress};

    fn call() -> Call<String> {
        Call::simple(&GetAddress::default(), |a: Address| Ok(a.address))
    }

    fn button(code: i32) -> Message {
        msg::encode(&ButtonRequest {
            code: Some(code),
            ..Default::default()
        })
    }

    #[test]
    fn button_then_result() {
        let mut c = call();
        let step = c.on_reply(button(button::ADDRESS)).unwrap();
        assert!(matches!(step, Step::Send((ty, _)) if ty == types::BUTTON_ACK));
        assert_eq!(c.poll_event(), Some(Status::ConfirmOnDevice));
        assert_eq!(c.poll_event(), None);
        let address = msg::encode(&Address {
            address: "1abc".into(),
            mac: None,
        });
        assert!(matches!(c.on_reply(address.clone()).unwrap(), Step::Done(a) if a == "1abc"));
        assert_eq!(c.on_reply(address).unwrap_err().code(), "protocol");
    }

    #[test]
    fn pin_and_passphrase_entry_on_the_device_are_events() {
        let mut c = call();
        c.on_reply(button(button::PIN_ENTRY)).unwrap();
        c.on_reply(button(button::PASSPHRASE_ENTRY)).unwrap();
        assert_eq!(c.poll_event(), Some(Status::EnterPinOnDevice));
        assert_eq!(c.poll_event(), Some(Status::EnterPassphraseOnDevice));
    }

    #[test]
    fn pin_is_a_need_answered_with_positions() {
        let mut c = call();
        let request = msg::encode(&PinMatrixRequest { r#type: Some(2) });
        let step = c.on_reply(request.clone()).unwrap();
        assert!(matches!(step, Step::Need(Need::Pin(PinKind::NewFirst))));
        // Nothing else may arrive while the caller is asked.
        assert_eq!(
            c.on_reply(button(1)).unwrap_err().code(),
            "protocol",
            "a reply while asking"
        );
        let mut c = call();
        c.on_reply(request.clone()).unwrap();
        let step = c.on_answer(Answer::Pin("159".into())).unwrap();
        assert!(
            matches!(step, Step::Send((ty, ref payload)) if ty == types::PIN_MATRIX_ACK && payload == &[0x0a, 3, b'1', b'5', b'9'])
        );
        let mut c = call();
        c.on_reply(request).unwrap();
        let e = c.on_answer(Answer::Pin("1230".into())).unwrap_err();
        assert_eq!(e.code(), "invalid-input");
        // An answer nobody asked for.
        let e = call().on_answer(Answer::Pin("1".into())).unwrap_err();
        assert_eq!(e.code(), "protocol");
    }

    #[test]
    fn passphrase_is_a_need_answered_on_the_host_or_the_device() {
        let request = msg::encode(&crate::protocol::trezor::messages::PassphraseRequest {});
        let mut c = call().with_passphrase_on_device(true);
        let step = c.on_reply(request.clone()).unwrap();
        assert!(matches!(
            step,
            Step::Need(Need::Passphrase { on_device: true })
        ));
        let step = c
            .on_answer(Answer::Passphrase(Passphrase::OnDevice))
            .unwrap();
        assert!(
            matches!(step, Step::Send((ty, ref payload)) if ty == types::PASSPHRASE_ACK && payload == &[0x18, 1])
        );
        let mut c = call();
        c.on_reply(request.clone()).unwrap();
        let step = c
            .on_answer(Answer::Passphrase(Passphrase::Text("TREZOR".into())))
            .unwrap();
        assert!(
            matches!(step, Step::Send((ty, ref payload)) if ty == types::PASSPHRASE_ACK && payload == b"\x0a\x06TREZOR")
        );
        // A Trezor One cannot take it on the device.
        let mut c = call();
        c.on_reply(request).unwrap();
        let e = c
            .on_answer(Answer::Passphrase(Passphrase::OnDevice))
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
    }

    #[test]
    fn unexpected_and_garbage_replies_are_protocol_errors() {
        let e = call().on_reply((types::SUCCESS, vec![])).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("success (2)"), "{e}");
        let e = call()
            .on_reply((types::ADDRESS, vec![0xff, 0xff]))
            .unwrap_err();
        assert_eq!(e.code(), "protocol");
        let e = call().on_reply((types::FAILURE, vec![0x08])).unwrap_err();
        assert_eq!(e.code(), "protocol");
    }
}
