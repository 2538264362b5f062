//! HWI's error codes, and how this crate's [`Error`]s read as HWI's errors: each
//! failure is `{"error": MESSAGE, "code": N}` with the message HWI gives for the same
//! situation (its own texts, or the text of the exception its client libraries raise).

use crate::error::Error;

/// Device type was not specified.
pub const NO_DEVICE_TYPE: i64 = -1;
/// Arguments are missing (usage errors).
pub const MISSING_ARGUMENTS: i64 = -2;
/// Error connecting to the device.
pub const DEVICE_CONN_ERROR: i64 = -3;
/// Device type is unknown.
pub const UNKNOWN_DEVICE_TYPE: i64 = -4;
/// Transaction is invalid.
pub const INVALID_TX: i64 = -5;
/// Bad, malformed, or conflicting argument.
pub const BAD_ARGUMENT: i64 = -7;
/// Function is not implemented.
pub const NOT_IMPLEMENTED: i64 = -8;
/// Function is not available for this device.
pub const UNAVAILABLE_ACTION: i64 = -9;
/// Device is already initialized.
pub const DEVICE_ALREADY_INIT: i64 = -10;
/// Device is already unlocked.
pub const DEVICE_ALREADY_UNLOCKED: i64 = -11;
/// Device is not ready (locked).
pub const DEVICE_NOT_READY: i64 = -12;
/// An unknown error occurred.
pub const UNKNOWN_ERROR: i64 = -13;
/// Action was canceled by the user.
pub const ACTION_CANCELED: i64 = -14;
/// User needs to be root.
pub const NEED_TO_BE_ROOT: i64 = -16;
/// Help text was requested.
pub const HELP_TEXT: i64 = -17;
/// Device is not initialized.
pub const DEVICE_NOT_INITIALIZED: i64 = -18;

/// An HWI error: its message and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwiError {
    /// The message HWI prints.
    pub message: String,
    /// HWI's code.
    pub code: i64,
}

impl HwiError {
    /// An error with `message` and `code`.
    pub fn new(message: impl Into<String>, code: i64) -> Self {
        HwiError {
            message: message.into(),
            code,
        }
    }

    /// `BadArgumentError`.
    pub fn bad_argument(message: impl Into<String>) -> Self {
        Self::new(message, BAD_ARGUMENT)
    }

    /// `UnavailableActionError`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(message, UNAVAILABLE_ACTION)
    }

    /// A Python exception that is not an HWI error: its text, with the code of the
    /// context it surfaces in (`UNKNOWN_ERROR` for commands).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(message, UNKNOWN_ERROR)
    }

    /// The error dict.
    pub fn json(&self) -> super::Value {
        super::Value::error(self.message.clone(), self.code)
    }
}

/// The Ledger Bitcoin app's instructions, named as `ledger_bitcoin` names them in its
/// exceptions (`<BitcoinInsType.SIGN_PSBT: 4>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ins {
    /// GET_VERSION of the dashboard/app (`DefaultInsType`).
    GetVersion,
    /// GET_EXTENDED_PUBKEY; `ledger_bitcoin` also names it for fingerprint and message
    /// errors.
    GetExtendedPubkey,
    /// REGISTER_WALLET.
    RegisterWallet,
    /// GET_WALLET_ADDRESS.
    GetWalletAddress,
    /// SIGN_PSBT.
    SignPsbt,
}

impl Ins {
    fn repr(self) -> &'static str {
        match self {
            Ins::GetVersion => "<DefaultInsType.GET_VERSION: 1>",
            Ins::GetExtendedPubkey => "<BitcoinInsType.GET_EXTENDED_PUBKEY: 0>",
            Ins::RegisterWallet => "<BitcoinInsType.REGISTER_WALLET: 2>",
            Ins::GetWalletAddress => "<BitcoinInsType.GET_WALLET_ADDRESS: 3>",
            Ins::SignPsbt => "<BitcoinInsType.SIGN_PSBT: 4>",
        }
    }
}

/// A Ledger failure during `ins`, as HWI reports it: a status word is
/// `ledger_bitcoin`'s exception text (`('0x6985', 'Error in <...> command', '')`,
/// code -13); a refused prompt on the old `btchip` path would be `-14`, but the 2.1+
/// client raises the same exception class for every status word.
pub fn ledger(e: &Error, ins: Ins) -> HwiError {
    match e {
        Error::UserRejected => status_word(0x6985, ins),
        Error::DeviceLocked => status_word(0x5515, ins),
        Error::Device { code, .. } => status_word(*code, ins),
        other => common(other),
    }
}

fn status_word(sw: u32, ins: Ins) -> HwiError {
    HwiError::other(format!(
        "('{sw:#x}', 'Error in {} command', '')",
        ins.repr()
    ))
}

/// A Trezor failure inside `func` (HWI's client method), as HWI reports it.
pub fn trezor(e: &Error, func: &str) -> HwiError {
    match e {
        Error::UserRejected | Error::Cancelled => {
            HwiError::new(format!("{func} canceled"), ACTION_CANCELED)
        }
        Error::WrongPin => HwiError::other("PinInvalid: PIN invalid"),
        // This crate words NotInitialized itself; the firmware's text is this.
        Error::Device { code: 11, .. } => {
            HwiError::other("NotInitialized: Device is not initialized")
        }
        Error::Device { code, message } => HwiError::other(failure_text(*code, message)),
        Error::Disconnected => HwiError::new("Device disconnected", DEVICE_CONN_ERROR),
        Error::NoHandler { need: "pin", .. } | Error::DeviceLocked => HwiError::new(
            "Trezor is locked. Unlock by using 'promptpin' and then 'sendpin'.",
            DEVICE_NOT_READY,
        ),
        other => common(other),
    }
}

/// trezorlib's `TrezorFailure` text: `Name: message`.
fn failure_text(code: u32, message: &str) -> String {
    let name = match code {
        1 => "UnexpectedMessage",
        2 => "ButtonExpected",
        3 => "DataError",
        4 => "ActionCancelled",
        5 => "PinExpected",
        6 => "PinCancelled",
        7 => "PinInvalid",
        8 => "InvalidSignature",
        9 => "ProcessError",
        10 => "NotEnoughFunds",
        11 => "NotInitialized",
        12 => "PinMismatch",
        13 => "WipeCodeMismatch",
        14 => "InvalidSession",
        15 => "Busy",
        16 => "ThpUnallocatedSession",
        17 => "InvalidProtocol",
        18 => "BufferError",
        99 => "FirmwareError",
        _ => "Failure",
    };
    // This crate keeps the device's text lowercased; the firmware's texts start with a
    // capital.
    let mut chars = message.chars();
    let text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return name.to_string(),
    };
    format!("{name}: {text}")
}

/// Errors that read the same on both vendors.
pub fn common(e: &Error) -> HwiError {
    match e {
        Error::InvalidInput { reason, .. } => HwiError::bad_argument(reason.clone()),
        Error::Unsupported(what) => HwiError::unavailable(what.clone()),
        Error::Disconnected => HwiError::new("Device disconnected", DEVICE_CONN_ERROR),
        Error::Busy(what) => HwiError::new(what.clone(), -15),
        Error::Timeout { .. } | Error::Transport(_) => {
            HwiError::new(e.to_string(), DEVICE_CONN_ERROR)
        }
        other => HwiError::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_status_words_read_as_ledger_bitcoin_exceptions() {
        let e = Error::Device {
            code: 0x6a80,
            message: String::new(),
        };
        assert_eq!(
            ledger(&e, Ins::GetWalletAddress).message,
            "('0x6a80', 'Error in <BitcoinInsType.GET_WALLET_ADDRESS: 3> command', '')"
        );
        assert_eq!(
            ledger(&Error::UserRejected, Ins::SignPsbt).code,
            UNKNOWN_ERROR
        );
    }

    #[test]
    fn trezor_failures_read_as_trezorlib_exceptions() {
        let e = Error::Device {
            code: 1,
            message: "unexpected message".into(),
        };
        assert_eq!(
            trezor(&e, "x").message,
            "UnexpectedMessage: Unexpected message"
        );
        assert_eq!(
            trezor(&Error::UserRejected, "sign_tx"),
            HwiError::new("sign_tx canceled", ACTION_CANCELED)
        );
    }
}
