//! Trezor Failure messages as the crate's errors.

use crate::error::{Error, Result};
use crate::protocol::trezor::messages::{self as msg, failure, Failure};

/// The start of the error a THP-only Trezor's codec v1 refusal maps to.
pub const THP_ONLY: &str = "trezor safe 7 / thp";

/// Decodes a Failure. A THP-only Trezor (Safe 7) answers codec v1 with a fixed packet
/// whose Failure claims 20 bytes: `08 11` and zero padding, which is not valid
/// protobuf (a zero tag); that one is read as Failure{code: 17}.
///
/// # Errors
/// `protocol` for other undecodable bytes.
pub fn decode_failure(payload: &[u8]) -> Result<Failure> {
    match msg::decode::<Failure>(payload) {
        Ok(f) => Ok(f),
        Err(e) => match payload {
            [0x08, code, rest @ ..] if *code < 0x80 && rest.iter().all(|b| *b == 0) => {
                Ok(Failure {
                    code: Some(i32::from(*code)),
                    message: None,
                })
            }
            _ => Err(e),
        },
    }
}

/// Whether `e` is a THP-only Trezor refusing codec v1.
pub fn is_thp_only(e: &Error) -> bool {
    matches!(e, Error::Unsupported(m) if m.starts_with(THP_ONLY))
}

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
        failure::INVALID_PROTOCOL => Error::Unsupported(format!(
            "{THP_ONLY}: the device speaks the trezor host protocol only (open it with thp)"
        )),
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
        assert!(is_thp_only(&thp));
        // The firmware's fixed codec v1 refusal: 20 bytes, `08 11` and zeros.
        let mut padded = vec![0x08, 0x11];
        padded.resize(20, 0);
        let f = decode_failure(&padded).unwrap();
        assert!(is_thp_only(&failure_error(&f)));
        assert!(decode_failure(&[0x08, 0x11, 0x00, 0x01]).is_err());
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
