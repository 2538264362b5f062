//! One Ledger request as a sans-IO state machine: APDUs out, replies in.
//!
//! A [`Request`] starts with one command. Each reply either finishes it (status 0x9000),
//! fails it (another status word), or, for the Bitcoin app, carries a client command
//! (status 0xE000) that the [`Interpreter`] answers with a CONTINUE command. No awaits,
//! no clocks: any transport can drive it, and tests drive it with recorded bytes.

use crate::error::{Error, Result};
use crate::protocol::ledger::apdu::{status_error, Command, Response, SW_INTERRUPTED, SW_OK};
use crate::protocol::ledger::btc::interpreter::Interpreter;
use crate::protocol::machine::{Events, Machine, Status, Step};

/// CLA of the host's CONTINUE reply to a client command.
pub const CLA_FRAMEWORK: u8 = 0xf8;
/// INS of CONTINUE.
pub const INS_CONTINUE: u8 = 0x01;

/// At most this many client commands in one request: a device that keeps asking is
/// treated as broken rather than waited on forever.
pub const MAX_CLIENT_COMMANDS: usize = 1_000_000;

type Finish<T> = Box<dyn FnOnce(Vec<u8>, Vec<Vec<u8>>) -> Result<T>>;

/// A request in progress: a [`Machine`] whose messages are APDUs out and raw replies
/// (data and status word) in.
pub struct Request<T> {
    first: Command,
    interpreter: Option<Interpreter>,
    finish: Option<Finish<T>>,
    client_commands: usize,
    limit: usize,
    /// Signing progress: inputs in the PSBT, and signatures before this request.
    progress: Option<(usize, usize)>,
    yields_seen: usize,
    events: Events,
}

impl<T> core::fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Request")
            .field("first", &self.first)
            .finish_non_exhaustive()
    }
}

impl<T> Request<T> {
    /// A request that sends `first` and turns the final data (and any yielded values)
    /// into its result with `finish`. With an interpreter, client commands are answered;
    /// without one, an 0xE000 reply is a protocol error.
    pub fn new(
        first: Command,
        interpreter: Option<Interpreter>,
        finish: impl FnOnce(Vec<u8>, Vec<Vec<u8>>) -> Result<T> + 'static,
    ) -> Self {
        Request {
            first,
            interpreter,
            finish: Some(Box::new(finish)),
            client_commands: 0,
            limit: MAX_CLIENT_COMMANDS,
            progress: None,
            yields_seen: 0,
            events: Events::default(),
        }
    }

    /// Reports [`Status::Signing`] as the app yields signatures: `total` inputs, of
    /// which `before` were signed by earlier requests.
    pub fn with_progress(mut self, total: usize, before: usize) -> Self {
        self.progress = Some((total, before));
        self
    }

    /// Caps the number of client commands (for requests whose size is known).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The first command.
    pub fn first(&self) -> &Command {
        &self.first
    }

    fn after_reply(&mut self, raw: &[u8]) -> Result<Step<Vec<u8>, T>> {
        let reply = Response::parse(raw)?;
        match reply.sw {
            SW_OK => {
                let finish = self
                    .finish
                    .take()
                    .ok_or_else(|| Error::protocol("reply after the request completed"))?;
                let yielded = self
                    .interpreter
                    .as_mut()
                    .map(Interpreter::take_yielded)
                    .unwrap_or_default();
                finish(reply.data, yielded).map(Step::Done)
            }
            SW_INTERRUPTED => {
                let interpreter = self.interpreter.as_mut().ok_or_else(|| {
                    Error::protocol("client command during a command that takes none")
                })?;
                self.client_commands += 1;
                if self.client_commands > self.limit {
                    return Err(Error::protocol(format!(
                        "the device sent over {} client commands in one request",
                        self.limit
                    )));
                }
                let response = interpreter.execute(&reply.data)?;
                let yields = interpreter.yielded().len();
                if let Some((total, before)) = self.progress {
                    if yields != self.yields_seen {
                        self.yields_seen = yields;
                        self.events.push(Status::Signing {
                            index: (before + yields).min(total),
                            total,
                        });
                    }
                }
                Command::new(CLA_FRAMEWORK, INS_CONTINUE, 0, 1, response)
                    .encode()
                    .map(Step::Send)
            }
            sw => Err(status_error(sw)),
        }
    }
}

impl<T> Machine for Request<T> {
    type Message = Vec<u8>;
    type Output = T;

    fn start(&mut self) -> Result<Step<Vec<u8>, T>> {
        self.first.encode().map(Step::Send)
    }

    fn on_reply(&mut self, reply: Vec<u8>) -> Result<Step<Vec<u8>, T>> {
        self.after_reply(&reply)
    }

    fn poll_event(&mut self) -> Option<Status> {
        self.events.pop()
    }
}
