//! What a simulated device does when it would ask its user to confirm.

use std::rc::Rc;

/// What the simulated user is being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// Show an address or xpub and confirm it.
    Show(String),
    /// Register a wallet policy.
    RegisterPolicy(String),
    /// Sign a transaction (a summary).
    SignTransaction(String),
    /// Sign a message.
    SignMessage(String),
    /// Open an app.
    OpenApp(String),
    /// Enter the PIN on the device (Trezor T / Safe).
    EnterPin,
    /// Type the passphrase on the device (Trezor T / Safe).
    EnterPassphrase,
}

/// The simulated user's answer policy.
#[derive(Clone, Default)]
pub enum Confirm {
    /// Approve everything (tests, demo).
    #[default]
    Approve,
    /// Refuse everything.
    Refuse,
    /// Ask a function (the demo page's Approve / Reject buttons).
    Ask(Rc<dyn Fn(&Prompt) -> bool>),
}

impl core::fmt::Debug for Confirm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Confirm::Approve => f.write_str("Approve"),
            Confirm::Refuse => f.write_str("Refuse"),
            Confirm::Ask(_) => f.write_str("Ask(..)"),
        }
    }
}

impl Confirm {
    /// The user's answer to `prompt`.
    pub fn answer(&self, prompt: &Prompt) -> bool {
        match self {
            Confirm::Approve => true,
            Confirm::Refuse => false,
            Confirm::Ask(f) => f(prompt),
        }
    }
}
