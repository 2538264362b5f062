//! The one shape of every protocol operation, whatever the vendor.
//!
//! An operation (sign a PSBT on a Ledger, SignTx on a Trezor, read a fingerprint) is a
//! [`Machine`]: it [starts](Machine::start), takes the device's replies
//! ([`Machine::on_reply`]) and the caller's answers ([`Machine::on_answer`]), and
//! after each returns a [`Step`]: send this message, the caller must give something
//! ([`Need`]: a PIN, a passphrase), or done. What the user should see meanwhile
//! (confirm on the device, signing 3 of 10) is queued as [`Status`] events, drained with
//! [`Machine::poll_event`] after every step.
//!
//! A machine never awaits, sleeps, reads a clock or calls back into the caller. One
//! async driver ([`crate::driver::drive`]) runs any machine over any transport and
//! answers its needs from the caller's handlers; tests run the same machines with plain
//! bytes.

use std::collections::VecDeque;

use crate::error::{Error, Result};

/// What a long call is doing, the same for every vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Opening an app (Ledger).
    OpenApp(String),
    /// Waiting for the user to confirm on the device.
    ConfirmOnDevice,
    /// The caller is asked for the PIN (Trezor One: positions on its scrambled matrix).
    EnterPin,
    /// The user enters the PIN on the device itself (Trezor T and Safe models).
    EnterPinOnDevice,
    /// The caller is asked for the passphrase.
    EnterPassphrase,
    /// The user types the passphrase on the device itself.
    EnterPassphraseOnDevice,
    /// The caller is asked for the 6-digit code the device shows (Trezor Safe 7
    /// pairing with a new host).
    EnterPairingCode,
    /// `index` of `total` inputs signed so far.
    Signing {
        /// Signatures so far.
        index: usize,
        /// Inputs in the PSBT.
        total: usize,
    },
    /// The call finished.
    Done,
}

/// Which PIN a device asks for (Trezor's PinMatrixRequest types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinKind {
    /// The current PIN, to unlock.
    Current,
    /// A new PIN, first entry.
    NewFirst,
    /// A new PIN, repeated.
    NewSecond,
    /// A new wipe code, first entry.
    WipeCodeFirst,
    /// A new wipe code, repeated.
    WipeCodeSecond,
    /// A kind this crate does not know (the wire number).
    Other(i32),
}

impl PinKind {
    /// The kind of Trezor's PinMatrixRequest `type` (absent means the current PIN).
    pub fn from_wire(value: Option<i32>) -> Self {
        match value {
            None | Some(1) => PinKind::Current,
            Some(2) => PinKind::NewFirst,
            Some(3) => PinKind::NewSecond,
            Some(4) => PinKind::WipeCodeFirst,
            Some(5) => PinKind::WipeCodeSecond,
            Some(n) => PinKind::Other(n),
        }
    }

    /// `current`, `new-first`, `new-second`, `wipe-code-first`, `wipe-code-second` or
    /// `other`: the name JavaScript and the CLI see.
    pub fn name(self) -> &'static str {
        match self {
            PinKind::Current => "current",
            PinKind::NewFirst => "new-first",
            PinKind::NewSecond => "new-second",
            PinKind::WipeCodeFirst => "wipe-code-first",
            PinKind::WipeCodeSecond => "wipe-code-second",
            PinKind::Other(_) => "other",
        }
    }
}

/// What a machine needs from the caller before it can go on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Need {
    /// The PIN, as positions on the scrambled matrix the device shows (digits 1-9,
    /// where 7 8 9 is the top row and 1 2 3 the bottom one).
    Pin(PinKind),
    /// The passphrase, or the choice to type it on the device.
    Passphrase {
        /// Whether the device can take it itself (Trezor T and Safe models).
        on_device: bool,
    },
    /// The 6-digit code the device shows to pair with this host (Trezor Safe 7, THP
    /// code-entry pairing).
    PairingCode,
}

/// The answer to a passphrase request.
#[derive(Clone, PartialEq, Eq)]
pub enum Passphrase {
    /// This passphrase (empty for the standard wallet).
    Text(String),
    /// The user types it on the device.
    OnDevice,
}

impl core::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print a secret.
        match self {
            Passphrase::Text(_) => f.write_str("Passphrase::Text(..)"),
            Passphrase::OnDevice => f.write_str("Passphrase::OnDevice"),
        }
    }
}

/// The caller's answer to a [`Need`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// PIN matrix positions.
    Pin(String),
    /// A passphrase.
    Passphrase(Passphrase),
    /// The pairing code the device shows (6 digits).
    PairingCode(String),
}

impl core::fmt::Debug for Answer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Answer::Pin(_) => f.write_str("Answer::Pin(..)"),
            Answer::Passphrase(p) => write!(f, "Answer::Passphrase({p:?})"),
            Answer::PairingCode(_) => f.write_str("Answer::PairingCode(..)"),
        }
    }
}

/// What the driver does next.
#[derive(Debug)]
pub enum Step<M, T> {
    /// Send this message to the device and feed back its reply.
    Send(M),
    /// Ask the caller, and feed back the [`Answer`].
    Need(Need),
    /// The operation is complete.
    Done(T),
}

/// One protocol operation, sans-IO.
pub trait Machine {
    /// What travels to and from the device: an APDU and its raw reply (Ledger), a
    /// message type and protobuf payload (Trezor).
    type Message;
    /// The checked result.
    type Output;

    /// The first step.
    ///
    /// # Errors
    /// Whatever makes the operation impossible before anything is sent.
    fn start(&mut self) -> Result<Step<Self::Message, Self::Output>>;

    /// Feeds the device's reply to the last [`Step::Send`].
    ///
    /// # Errors
    /// The error the reply maps to (a status word, a Failure), or `protocol` for a reply
    /// the protocol does not allow.
    fn on_reply(&mut self, reply: Self::Message) -> Result<Step<Self::Message, Self::Output>>;

    /// Feeds the caller's answer to the last [`Step::Need`].
    ///
    /// # Errors
    /// `invalid-input` for an answer that cannot be sent (a PIN with other characters
    /// than 1-9); `protocol` when nothing was asked.
    fn on_answer(&mut self, answer: Answer) -> Result<Step<Self::Message, Self::Output>> {
        let _ = answer;
        Err(Error::protocol("an answer was given where none was asked"))
    }

    /// The next queued status event, if any.
    fn poll_event(&mut self) -> Option<Status> {
        None
    }
}

/// A queue of status events, for machines to keep.
#[derive(Debug, Default, Clone)]
pub struct Events(VecDeque<Status>);

impl Events {
    /// Queues `status`.
    pub fn push(&mut self, status: Status) {
        self.0.push_back(status);
    }

    /// The oldest queued event.
    pub fn pop(&mut self) -> Option<Status> {
        self.0.pop_front()
    }
}

/// Drives `machine` with a function that answers each message, and no caller
/// (for tests and the fuzzer): returns every event too.
///
/// # Errors
/// Whatever the machine or `device` returns; `protocol` when the machine needs the
/// caller.
pub fn run_with<M: Machine>(
    mut machine: M,
    mut device: impl FnMut(M::Message) -> Result<M::Message>,
) -> Result<(M::Output, Vec<Status>)> {
    let mut events = Vec::new();
    let mut step = machine.start();
    loop {
        while let Some(e) = machine.poll_event() {
            events.push(e);
        }
        match step? {
            Step::Send(m) => step = machine.on_reply(device(m)?),
            Step::Need(need) => {
                return Err(Error::protocol(format!(
                    "the machine needs the caller ({need:?}) and none is here"
                )))
            }
            Step::Done(out) => return Ok((out, events)),
        }
    }
}
