//! The one error type of the crate, and the stable string codes that JavaScript sees.
//!
//! Every failure, whether it comes from the caller, the device or the link, ends up as
//! an [`Error`]. Its [`Error::code`] is one of a fixed list of strings shared with the
//! npm package, so a web page can branch on `err.code` without parsing messages.

use core::fmt;

/// Everything that can go wrong talking to a hardware wallet.
///
/// Messages are lowercase, say what was expected and what came, and never include
/// secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The user refused the action on the device.
    UserRejected,
    /// The device is locked (PIN screen).
    DeviceLocked,
    /// The device asks the caller for something (a PIN, a passphrase) and no handler
    /// to give it is set.
    NoHandler {
        /// What the device asks for: `pin`, `passphrase`.
        need: &'static str,
        /// The handler to set (`device.onPin`, ...).
        handler: &'static str,
    },
    /// The PIN was wrong. Each further attempt makes the device wait longer first.
    WrongPin,
    /// The dashboard or another app is open instead of the expected one.
    AppNotOpen {
        /// What the device answered, for the message.
        detail: String,
    },
    /// The device is held by another tab, application or call.
    Busy(String),
    /// The device went away during the call.
    Disconnected,
    /// The device did not answer in time.
    Timeout {
        /// How long we waited, in milliseconds.
        after_ms: u32,
    },
    /// The caller cancelled the call.
    Cancelled,
    /// The device or firmware cannot do what was asked.
    Unsupported(String),
    /// The caller's input is wrong: a PSBT, path, policy or option.
    InvalidInput {
        /// Which field is wrong (`psbt`, `path`, `policy`, `input 2`, ...).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The device answered something the protocol does not allow.
    Protocol(String),
    /// The device reported an error of its own (status word or failure code).
    Device {
        /// The raw status word (Ledger) or failure code (Trezor).
        code: u32,
        /// What the code means, where known.
        message: String,
    },
    /// The link to the device failed (open, read or write).
    Transport(String),
}

impl Error {
    /// The stable code string of this error, as JavaScript sees it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UserRejected => "user-rejected",
            Error::DeviceLocked | Error::NoHandler { .. } => "device-locked",
            Error::WrongPin => "wrong-pin",
            Error::AppNotOpen { .. } => "app-not-open",
            Error::Busy(_) => "busy",
            Error::Disconnected => "disconnected",
            Error::Timeout { .. } => "timeout",
            Error::Cancelled => "cancelled",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidInput { .. } => "invalid-input",
            Error::Protocol(_) => "protocol",
            Error::Device { .. } => "device",
            Error::Transport(_) => "transport",
        }
    }

    /// Shorthand for an [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for an [`Error::Protocol`].
    pub fn protocol(reason: impl Into<String>) -> Self {
        Error::Protocol(reason.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UserRejected => f.write_str("the action was rejected on the device"),
            Error::DeviceLocked => f.write_str("the device is locked: unlock it and try again"),
            Error::NoHandler { need, handler } => write!(
                f,
                "the device is locked: it asks for its {need} and no handler gives it (set \
                 {handler})"
            ),
            Error::WrongPin => f.write_str(
                "wrong pin: the device refused it (give the positions of the digits on the \
                 scrambled matrix it shows); each new attempt waits longer on the device",
            ),
            Error::AppNotOpen { detail } => write!(f, "the bitcoin app is not open: {detail}"),
            Error::Busy(why) => write!(f, "the device is busy: {why}"),
            Error::Disconnected => f.write_str("the device was disconnected"),
            Error::Timeout { after_ms } => {
                write!(f, "the device did not answer within {after_ms} ms")
            }
            Error::Cancelled => f.write_str("the call was cancelled"),
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::InvalidInput { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::Protocol(what) => write!(f, "protocol error: {what}"),
            Error::Device { code, message } => {
                write!(f, "device error 0x{code:04x}: {message}")
            }
            Error::Transport(what) => write!(f, "transport error: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_stable_list() {
        let all = [
            (Error::UserRejected, "user-rejected"),
            (Error::DeviceLocked, "device-locked"),
            (
                Error::NoHandler {
                    need: "pin",
                    handler: "onPin",
                },
                "device-locked",
            ),
            (Error::WrongPin, "wrong-pin"),
            (
                Error::AppNotOpen {
                    detail: String::new(),
                },
                "app-not-open",
            ),
            (Error::Busy(String::new()), "busy"),
            (Error::Disconnected, "disconnected"),
            (Error::Timeout { after_ms: 1 }, "timeout"),
            (Error::Cancelled, "cancelled"),
            (Error::Unsupported(String::new()), "unsupported"),
            (Error::invalid("psbt", "x"), "invalid-input"),
            (Error::protocol("x"), "protocol"),
            (
                Error::Device {
                    code: 0x6a80,
                    message: String::new(),
                },
                "device",
            ),
            (Error::Transport(String::new()), "transport"),
        ];
        for (err, code) in all {
            assert_eq!(err.code(), code);
            let msg = err.to_string();
            // Lowercase prose; only the names of handlers to set (`onPin`) keep their
            // case.
            let prose = msg.replace("onPin", "").replace("onPassphrase", "");
            assert_eq!(prose, prose.to_lowercase(), "messages are lowercase: {msg}");
            assert!(!msg.ends_with('.'), "no full stop: {msg}");
        }
    }

    #[test]
    fn invalid_input_names_the_field() {
        let e = Error::invalid("path", "depth 300 is over 255");
        assert_eq!(e.to_string(), "invalid path: depth 300 is over 255");
    }
}
