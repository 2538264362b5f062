//! One Trezor call as a sans-IO state machine: a message out, messages in.
//!
//! A [`Call`] starts with one request. Whatever the device answers, the call either
//! handles it itself (ButtonRequest -> ButtonAck, PinMatrixRequest -> PinMatrixAck,
//! PassphraseRequest -> PassphraseAck, Failure -> [`Error`]) or hands it to the
//! operation's handler, which says what to send next or returns the result. No awaits,
//! no clocks: any transport drives it, and tests drive it with the simulator.
//!
//! PIN and passphrase come from caller-supplied callbacks ([`Interaction`]). Without
//! one, the request is refused at once with a clear error instead of waiting forever.

use crate::error::{Error, Result};
use crate::protocol::trezor::failure::failure_error;
use crate::protocol::trezor::messages::{
    self as msg, types, ButtonAck, ButtonRequest, Failure, PassphraseAck, PinMatrixAck,
    PinMatrixRequest, Wire,
};

/// Something the caller may want to show while a call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The device shows a screen and waits for the user (ButtonRequest `code`).
    ConfirmOnDevice {
        /// The ButtonRequest code, where sent.
        code: Option<i32>,
    },
    /// The PIN was asked for.
    Pin,
    /// The passphrase was asked for.
    Passphrase,
}

/// The answer to a passphrase request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passphrase {
    /// This passphrase (empty for the standard wallet).
    Text(String),
    /// The user types it on the device.
    OnDevice,
}

type PinFn = Box<dyn FnMut(i32) -> Result<String>>;
type PassphraseFn = Box<dyn FnMut() -> Result<Passphrase>>;

/// Callbacks for the requests that need the user at the host.
#[derive(Default)]
pub struct Interaction {
    pin: Option<PinFn>,
    passphrase: Option<PassphraseFn>,
}

impl core::fmt::Debug for Interaction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interaction")
            .field("pin", &self.pin.is_some())
            .field("passphrase", &self.passphrase.is_some())
            .finish()
    }
}

impl Interaction {
    /// No callbacks: PIN and passphrase requests fail.
    pub fn none() -> Self {
        Interaction::default()
    }

    /// Sets the PIN callback: gets the request type (1 current PIN), returns the PIN as
    /// positions on the device's scrambled matrix ("1".."9").
    pub fn with_pin(mut self, f: impl FnMut(i32) -> Result<String> + 'static) -> Self {
        self.pin = Some(Box::new(f));
        self
    }

    /// Sets the passphrase callback.
    pub fn with_passphrase(mut self, f: impl FnMut() -> Result<Passphrase> + 'static) -> Self {
        self.passphrase = Some(Box::new(f));
        self
    }
}

/// What an operation's handler decides after a reply.
#[derive(Debug)]
pub enum Next<T> {
    /// Send this message (type, payload).
    Send(u16, Vec<u8>),
    /// The call is complete.
    Done(T),
}

/// What to do after a reply.
#[derive(Debug)]
pub enum Step<T> {
    /// Send this message (type, payload); `event` says why, when it is the user's turn.
    Send {
        /// Message type.
        msg_type: u16,
        /// Protobuf bytes.
        payload: Vec<u8>,
        /// Something to show.
        event: Option<Event>,
    },
    /// The call is complete.
    Done(T),
}

type Handler<T> = Box<dyn FnMut(u16, &[u8]) -> Result<Next<T>>>;

/// At most this many button, PIN and passphrase requests in one call.
pub const MAX_INTERACTIONS: usize = 10_000;

/// A call in progress.
pub struct Call<T> {
    first: (u16, Vec<u8>),
    handler: Handler<T>,
    done: bool,
    interactions: usize,
}

impl<T> core::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Call")
            .field("first", &msg::type_name(self.first.0))
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Call<T> {
    /// A call that sends `first` and passes every other reply to `handler`.
    pub fn new(
        first: (u16, Vec<u8>),
        handler: impl FnMut(u16, &[u8]) -> Result<Next<T>> + 'static,
    ) -> Self {
        Call {
            first,
            handler: Box::new(handler),
            done: false,
            interactions: 0,
        }
    }

    /// A call that sends `request` and expects one `R`, turned into the result by `finish`.
    pub fn simple<Q: Wire, R: Wire>(
        request: &Q,
        finish: impl FnOnce(R) -> Result<T> + 'static,
    ) -> Self {
        let mut finish = Some(finish);
        Call::new(msg::encode(request), move |ty, payload| {
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

    /// The first message to send.
    pub fn start(&self) -> (u16, Vec<u8>) {
        self.first.clone()
    }

    /// Feeds one message from the device.
    ///
    /// # Errors
    /// The error a Failure maps to; `protocol` for a message the call does not allow
    /// or cannot decode; `unsupported` when a PIN or passphrase is asked for and no
    /// callback was given; whatever the handler or a callback reports.
    pub fn on_message(
        &mut self,
        msg_type: u16,
        payload: &[u8],
        interaction: &mut Interaction,
    ) -> Result<Step<T>> {
        if self.done {
            return Err(Error::protocol("message after the call completed"));
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
            types::FAILURE => Err(failure_error(&msg::decode::<Failure>(payload)?)),
            types::BUTTON_REQUEST => {
                let req = msg::decode::<ButtonRequest>(payload)?;
                let (msg_type, payload) = msg::encode(&ButtonAck {});
                Ok(Step::Send {
                    msg_type,
                    payload,
                    event: Some(Event::ConfirmOnDevice { code: req.code }),
                })
            }
            types::PIN_MATRIX_REQUEST => {
                let req = msg::decode::<PinMatrixRequest>(payload)?;
                let f = interaction.pin.as_mut().ok_or_else(|| {
                    Error::Unsupported(
                        "the trezor asks for its pin and no pin callback was given: unlock it \
                         first or pass one"
                            .into(),
                    )
                })?;
                let pin = f(req.r#type.unwrap_or(1))?;
                if pin.is_empty() || !pin.chars().all(|c| ('1'..='9').contains(&c)) {
                    return Err(Error::invalid(
                        "pin",
                        "expected matrix positions 1 to 9 (the digits are scrambled on the device)",
                    ));
                }
                let (msg_type, payload) = msg::encode(&PinMatrixAck { pin });
                Ok(Step::Send {
                    msg_type,
                    payload,
                    event: Some(Event::Pin),
                })
            }
            types::PASSPHRASE_REQUEST => {
                let f = interaction.passphrase.as_mut().ok_or_else(|| {
                    Error::Unsupported(
                        "the trezor asks for a passphrase and no passphrase callback was given"
                            .into(),
                    )
                })?;
                let ack = match f()? {
                    Passphrase::Text(text) => PassphraseAck {
                        passphrase: Some(text),
                        on_device: None,
                    },
                    Passphrase::OnDevice => PassphraseAck {
                        passphrase: None,
                        on_device: Some(true),
                    },
                };
                let (msg_type, payload) = msg::encode(&ack);
                Ok(Step::Send {
                    msg_type,
                    payload,
                    event: Some(Event::Passphrase),
                })
            }
            _ => match (self.handler)(msg_type, payload)? {
                Next::Send(msg_type, payload) => Ok(Step::Send {
                    msg_type,
                    payload,
                    event: None,
                }),
                Next::Done(result) => {
                    self.done = true;
                    Ok(Step::Done(result))
                }
            },
        }
    }
}

/// The `protocol` error for a reply of the wrong type.
pub fn unexpected(msg_type: u16, expected: &str) -> Error {
    Error::protocol(format!(
        "the trezor answered {} where {} was expected",
        msg::type_name(msg_type),
        expected.to_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::trezor::messages::{Address, GetAddress};

    fn call() -> Call<String> {
        Call::simple(&GetAddress::default(), |a: Address| Ok(a.address))
    }

    #[test]
    fn button_then_result() {
        let mut c = call();
        let mut ui = Interaction::none();
        let (ty, _) = msg::encode(&ButtonRequest {
            code: Some(10),
            ..Default::default()
        });
        let (_, payload) = msg::encode(&ButtonRequest {
            code: Some(10),
            ..Default::default()
        });
        match c.on_message(ty, &payload, &mut ui).unwrap() {
            Step::Send {
                msg_type, event, ..
            } => {
                assert_eq!(msg_type, types::BUTTON_ACK);
                assert_eq!(event, Some(Event::ConfirmOnDevice { code: Some(10) }));
            }
            Step::Done(_) => panic!("done too early"),
        }
        let (ty, payload) = msg::encode(&Address {
            address: "1abc".into(),
            mac: None,
        });
        assert!(
            matches!(c.on_message(ty, &payload, &mut ui).unwrap(), Step::Done(a) if a == "1abc")
        );
        assert_eq!(
            c.on_message(ty, &payload, &mut ui).unwrap_err().code(),
            "protocol"
        );
    }

    #[test]
    fn pin_and_passphrase_without_callbacks_fail_clearly() {
        let mut ui = Interaction::none();
        let e = call()
            .on_message(types::PIN_MATRIX_REQUEST, &[], &mut ui)
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
        assert!(e.to_string().contains("pin"));
        let e = call()
            .on_message(types::PASSPHRASE_REQUEST, &[], &mut ui)
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
        let mut ui = Interaction::none()
            .with_pin(|_| Ok("159".into()))
            .with_passphrase(|| Ok(Passphrase::OnDevice));
        let step = call()
            .on_message(types::PIN_MATRIX_REQUEST, &[], &mut ui)
            .unwrap();
        assert!(
            matches!(step, Step::Send { msg_type, ref payload, .. } if msg_type == types::PIN_MATRIX_ACK && payload == &[0x0a, 3, b'1', b'5', b'9'])
        );
        let mut bad = Interaction::none().with_pin(|_| Ok("0000".into()));
        assert_eq!(
            call()
                .on_message(types::PIN_MATRIX_REQUEST, &[], &mut bad)
                .unwrap_err()
                .code(),
            "invalid-input"
        );
        let step = call()
            .on_message(types::PASSPHRASE_REQUEST, &[], &mut ui)
            .unwrap();
        assert!(
            matches!(step, Step::Send { msg_type, ref payload, .. } if msg_type == types::PASSPHRASE_ACK && payload == &[0x18, 1])
        );
    }

    #[test]
    fn unexpected_and_garbage_replies_are_protocol_errors() {
        let mut ui = Interaction::none();
        let e = call().on_message(types::SUCCESS, &[], &mut ui).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("success (2)"), "{e}");
        let e = call()
            .on_message(types::ADDRESS, &[0xff, 0xff], &mut ui)
            .unwrap_err();
        assert_eq!(e.code(), "protocol");
        let e = call()
            .on_message(types::FAILURE, &[0x08], &mut ui)
            .unwrap_err();
        assert_eq!(e.code(), "protocol");
    }
}
