//! The caller's side of a [`Need`]: the handlers that give a PIN or a passphrase when a
//! device asks, and the hooks the drive loop reports to.
//!
//! JavaScript sets `onPin` / `onPassphrase`, the CLI reads stdin, a Rust caller
//! implements [`Prompts`] (or builds one from closures with [`PromptFns`]). Without a
//! handler, a need fails at once with an error that names the handler to set: never a
//! hang.

use futures::future::LocalBoxFuture;

use crate::driver::abort::AbortHandle;
use crate::error::{Error, Result};
use crate::protocol::machine::{Answer, Need, Passphrase, PinKind, Status};

/// Default time to wait for one reply: long, because a reply can wait for the user to
/// review a transaction on the device.
pub const DEFAULT_TIMEOUT_MS: u32 = 300_000;

/// Answers what a device asks of the caller.
pub trait Prompts {
    /// The PIN of `kind`, as positions on the matrix the device shows (digits 1-9: 7 8 9
    /// the top row, 1 2 3 the bottom one).
    ///
    /// # Errors
    /// `cancelled` when the user gives up; whatever the handler reports.
    fn pin(&mut self, kind: PinKind) -> LocalBoxFuture<'_, Result<String>>;

    /// The passphrase (empty for the standard wallet), or [`Passphrase::OnDevice`] where
    /// `on_device` says the device can take it.
    ///
    /// # Errors
    /// `cancelled` when the user gives up; whatever the handler reports.
    fn passphrase(&mut self, on_device: bool) -> LocalBoxFuture<'_, Result<Passphrase>>;

    /// The 6-digit code the device shows to pair with this host (Trezor Safe 7, the
    /// first connection of this application).
    ///
    /// # Errors
    /// `cancelled` when the user gives up; without a handler, the error that names
    /// the one to set.
    fn pairing_code(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        Box::pin(async { Err(no_pairing_code_handler()) })
    }
}

type PinFn = Box<dyn FnMut(PinKind) -> Result<String>>;
type PassphraseFn = Box<dyn FnMut(bool) -> Result<Passphrase>>;
type CodeFn = Box<dyn FnMut() -> Result<String>>;

/// [`Prompts`] from plain closures (tests, simple callers); a missing one fails with
/// the error that names it.
#[derive(Default)]
pub struct PromptFns {
    pin: Option<PinFn>,
    passphrase: Option<PassphraseFn>,
    pairing_code: Option<CodeFn>,
}

impl core::fmt::Debug for PromptFns {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PromptFns")
            .field("pin", &self.pin.is_some())
            .field("passphrase", &self.passphrase.is_some())
            .field("pairing_code", &self.pairing_code.is_some())
            .finish()
    }
}

impl PromptFns {
    /// No handlers.
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets the PIN handler.
    pub fn with_pin(mut self, f: impl FnMut(PinKind) -> Result<String> + 'static) -> Self {
        self.pin = Some(Box::new(f));
        self
    }

    /// Sets the passphrase handler; it is told whether the device can take it itself.
    pub fn with_passphrase(mut self, f: impl FnMut(bool) -> Result<Passphrase> + 'static) -> Self {
        self.passphrase = Some(Box::new(f));
        self
    }

    /// Sets the pairing-code handler (it reads the code off the device's screen).
    pub fn with_pairing_code(mut self, f: impl FnMut() -> Result<String> + 'static) -> Self {
        self.pairing_code = Some(Box::new(f));
        self
    }
}

/// The error of a PIN request nobody can answer.
pub fn no_pin_handler() -> Error {
    Error::NoHandler {
        need: "pin",
        handler: "device.onPin in javascript, Device::set_prompts in rust",
    }
}

/// The error of a passphrase request nobody can answer.
pub fn no_passphrase_handler() -> Error {
    Error::NoHandler {
        need: "passphrase",
        handler: "device.onPassphrase in javascript, Device::set_prompts in rust",
    }
}

/// The error of a pairing-code request nobody can answer.
pub fn no_pairing_code_handler() -> Error {
    Error::NoHandler {
        need: "pairing code",
        handler: "device.onPairingCode in javascript, Device::set_prompts in rust",
    }
}

impl Prompts for PromptFns {
    fn pin(&mut self, kind: PinKind) -> LocalBoxFuture<'_, Result<String>> {
        let r = match self.pin.as_mut() {
            Some(f) => f(kind),
            None => Err(no_pin_handler()),
        };
        Box::pin(async move { r })
    }

    fn passphrase(&mut self, on_device: bool) -> LocalBoxFuture<'_, Result<Passphrase>> {
        let r = match self.passphrase.as_mut() {
            Some(f) => f(on_device),
            None => Err(no_passphrase_handler()),
        };
        Box::pin(async move { r })
    }

    fn pairing_code(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        let r = match self.pairing_code.as_mut() {
            Some(f) => f(),
            None => Err(no_pairing_code_handler()),
        };
        Box::pin(async move { r })
    }
}

/// What the drive loop reports to and asks: the status callback, the prompts, the
/// reply time-out and the abort handle. Each vendor's driver keeps one.
pub struct Hooks {
    /// How long to wait for each reply.
    pub timeout_ms: u32,
    /// Aborts the call under way (Trezor: Cancel is sent; Ledger: the call runs on).
    pub abort: Option<AbortHandle>,
    status: Option<Box<dyn FnMut(Status)>>,
    prompts: Box<dyn Prompts>,
}

impl core::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hooks")
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            abort: None,
            status: None,
            prompts: Box::new(PromptFns::none()),
        }
    }
}

impl Hooks {
    /// Sets the status callback.
    pub fn on_status(&mut self, callback: impl FnMut(Status) + 'static) {
        self.status = Some(Box::new(callback));
    }

    /// Sets the PIN, passphrase and pairing-code handlers.
    pub fn set_prompts(&mut self, prompts: Box<dyn Prompts>) {
        self.prompts = prompts;
    }

    /// Reports `status`.
    pub fn status(&mut self, status: Status) {
        if let Some(cb) = self.status.as_mut() {
            cb(status);
        }
    }

    /// Asks the caller for what `need` says, reporting it first.
    ///
    /// # Errors
    /// The handler's error, or the one that names the missing handler.
    pub async fn answer(&mut self, need: Need) -> Result<Answer> {
        match need {
            Need::Pin(kind) => {
                self.status(Status::EnterPin);
                self.prompts.pin(kind).await.map(Answer::Pin)
            }
            Need::Passphrase { on_device } => {
                self.status(Status::EnterPassphrase);
                self.prompts
                    .passphrase(on_device)
                    .await
                    .map(Answer::Passphrase)
            }
            Need::PairingCode => {
                self.status(Status::EnterPairingCode);
                self.prompts.pairing_code().await.map(Answer::PairingCode)
            }
        }
    }

    /// Whether an abort was asked for the call under way.
    pub fn aborted(&self) -> bool {
        self.abort.as_ref().is_some_and(AbortHandle::requested)
    }
}
