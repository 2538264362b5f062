//! One Ledger request as a sans-IO state machine: APDUs out, replies in.
//!
//! A [`Request`] starts with one command. Each reply either finishes it (status 0x9000),
//! fails it (another status word), or, for the Bitcoin app, carries a client command
//! (status 0xE000) that the [`Interpreter`] answers with a CONTINUE command. No awaits,
//! no clocks: any transport can drive it, and tests drive it with recorded bytes.

use crate::error::{Error, Result};
use crate::protocol::ledger::apdu::{status_error, Command, Response, SW_INTERRUPTED, SW_OK};
use crate::protocol::ledger::btc::interpreter::Interpreter;

/// CLA of the host's CONTINUE reply to a client command.
pub const CLA_FRAMEWORK: u8 = 0xf8;
/// INS of CONTINUE.
pub const INS_CONTINUE: u8 = 0x01;

/// At most this many client commands in one request: a device that keeps asking is
/// treated as broken rather than waited on forever.
pub const MAX_CLIENT_COMMANDS: usize = 1_000_000;

/// What to do after a reply.
#[derive(Debug)]
pub enum Step<T> {
    /// Send this command next.
    Send(Command),
    /// The request is complete.
    Done(T),
}

type Finish<T> = Box<dyn FnOnce(Vec<u8>, Vec<Vec<u8>>) -> Result<T>>;

/// A request in progress.
pub struct Request<T> {
    first: Command,
    interpreter: Option<Interpreter>,
    finish: Option<Finish<T>>,
    client_commands: usize,
    limit: usize,
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
        }
    }

    /// Caps the number of client commands (for requests whose size is known).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// How many values the app has yielded so far (signatures, for SIGN_PSBT).
    pub fn yield_count(&self) -> usize {
        self.interpreter.as_ref().map_or(0, |i| i.yielded().len())
    }

    /// The first command to send.
    pub fn start(&self) -> Command {
        self.first.clone()
    }

    /// Feeds one raw reply (data and status word).
    ///
    /// # Errors
    /// The mapped status-word error, a `protocol` error for a reply or client command
    /// the protocol does not allow, or whatever the result parser finds wrong.
    pub fn on_reply(&mut self, raw: &[u8]) -> Result<Step<T>> {
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
                Ok(Step::Send(Command::new(
                    CLA_FRAMEWORK,
                    INS_CONTINUE,
                    0,
                    1,
                    response,
                )))
            }
            sw => Err(status_error(sw)),
        }
    }
}
