//! Trezor Failure messages as the crate's errors.

use crate::error::Error;
use crate::protocol::trezor::messages::{failure, Failure};

/// Maps a Trezor Failure to the crate's error.
pub fn failure_error(f: &Failure) -> Error {
    let text = f
        .message
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    let code = f.code.unwrap_or(0);
    match code {
        failure::ACTION_CANCELLED | failure::PIN_CANCELLED => Error::UserRejected,
        failure::BUSY => Error::Busy(format!("the trezor is busy: {text}")),
        failure::INVALID_PROTOCOL => Error::Unsupported(
            "trezor safe 7 / thp is not supported: the device speaks the trezor host protocol \
             only"
                .into(),
        ),
        failure::PIN_INVALID => Error::WrongPin,
        failure::NOT_INITIALIZED => Error::Device {
            code: code as u32,
            message: "the trezor has no seed: set it up first".into(),
        },
        _ => Error::Device {
            code: code.max(0) as u32,
            message: if text.is_empty() {
                format!("trezor failure {code}")
            } else {
                text
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(code: i32, text: &str) -> Failure {
        Failure {
            code: Some(code),
            message: Some(text.into()),
        }
    }

    #[test]
    fn failures_map_to_typed_errors() {
        assert_eq!(failure_error(&fail(4, "Cancelled")).code(), "user-rejected");
        assert_eq!(failure_error(&fail(6, "")).code(), "user-rejected");
        assert_eq!(failure_error(&fail(15, "")).code(), "busy");
        let thp = failure_error(&fail(17, ""));
        assert_eq!(thp.code(), "unsupported");
        assert!(thp.to_string().contains("thp"));
        let pin = failure_error(&fail(7, "PIN invalid"));
        assert_eq!(pin.code(), "wrong-pin");
        assert!(pin.to_string().contains("wrong pin"));
        let other = failure_error(&fail(9, "Invalid Amount"));
        assert_eq!(
            other,
            Error::Device {
                code: 9,
                message: "invalid amount".into()
            }
        );
    }
}
