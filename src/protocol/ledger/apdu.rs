//! APDU commands and responses, and the mapping of Ledger status words to [`Error`]s.

use crate::error::{Error, Result};

/// Status word: success.
pub const SW_OK: u16 = 0x9000;
/// Status word: the app is interrupted and a client command follows.
pub const SW_INTERRUPTED: u16 = 0xe000;

/// One short APDU: `CLA INS P1 P2 Lc data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    /// Data, at most 255 bytes.
    pub data: Vec<u8>,
}

impl Command {
    /// A command with the given header and data.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data,
        }
    }

    /// The bytes on the wire.
    ///
    /// # Errors
    /// `invalid-input` when the data does not fit a short APDU (over 255 bytes).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let lc = u8::try_from(self.data.len()).map_err(|_| {
            Error::invalid(
                "apdu",
                format!("{} data bytes do not fit a short apdu", self.data.len()),
            )
        })?;
        let mut out = Vec::with_capacity(5 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2, lc]);
        out.extend_from_slice(&self.data);
        Ok(out)
    }
}

/// A response: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The data before the status word.
    pub data: Vec<u8>,
    /// The status word.
    pub sw: u16,
}

impl Response {
    /// Splits raw reply bytes into data and status word.
    ///
    /// # Errors
    /// `protocol` when the reply is shorter than a status word.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        match raw.split_last_chunk::<2>() {
            Some((data, sw)) => Ok(Response {
                data: data.to_vec(),
                sw: u16::from_be_bytes(*sw),
            }),
            None => Err(Error::protocol(format!(
                "apdu reply of {} bytes has no status word",
                raw.len()
            ))),
        }
    }

    /// The data if the status word is 0x9000, else the mapped error.
    ///
    /// # Errors
    /// See [`status_error`].
    pub fn ok(self) -> Result<Vec<u8>> {
        if self.sw == SW_OK {
            Ok(self.data)
        } else {
            Err(status_error(self.sw))
        }
    }
}

/// The error that a non-success status word means.
pub fn status_error(sw: u16) -> Error {
    match sw {
        // 0x5501: the user refused on the dashboard (e.g. to open an app).
        0x6985 | 0x5501 => Error::UserRejected,
        0x5515 => Error::DeviceLocked,
        0x6e00 | 0x6e01 | 0x6d00 | 0x6511 | 0x6d02 => Error::AppNotOpen {
            detail: format!("status 0x{sw:04x}: open the bitcoin app on the device"),
        },
        _ => Error::Device {
            code: u32::from(sw),
            message: status_meaning(sw).to_string(),
        },
    }
}

fn status_meaning(sw: u16) -> &'static str {
    match sw {
        0x6a80 => "incorrect data",
        0x6a82 => "not supported",
        0x6a86 => "wrong p1 or p2",
        0x6a87 => "wrong data length",
        0x6b00 => "wrong parameters",
        0x6700 => "wrong length",
        0xb000 => "wrong response length",
        0xb007 => "bad state",
        0xb008 => "signature or hmac verification failed",
        0x6807 => "app not installed",
        _ => "unknown status word",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_header_and_lc() {
        let c = Command::new(0xe1, 0x05, 0, 1, vec![]);
        assert_eq!(c.encode().unwrap(), vec![0xe1, 0x05, 0, 1, 0]);
        let c = Command::new(0xe1, 0x00, 0, 1, vec![1, 2, 3]);
        assert_eq!(c.encode().unwrap(), vec![0xe1, 0x00, 0, 1, 3, 1, 2, 3]);
        let err = Command::new(0xe1, 0, 0, 0, vec![0; 256])
            .encode()
            .unwrap_err();
        assert_eq!(err.code(), "invalid-input");
    }

    #[test]
    fn parses_status_words() {
        let r = Response::parse(&[0xaa, 0x90, 0x00]).unwrap();
        assert_eq!(
            r,
            Response {
                data: vec![0xaa],
                sw: 0x9000
            }
        );
        assert_eq!(r.ok().unwrap(), vec![0xaa]);
        assert_eq!(Response::parse(&[0x90]).unwrap_err().code(), "protocol");
        assert_eq!(Response::parse(&[]).unwrap_err().code(), "protocol");
    }

    #[test]
    fn maps_status_words_to_codes() {
        assert_eq!(status_error(0x6985).code(), "user-rejected");
        assert_eq!(status_error(0x5501).code(), "user-rejected");
        assert_eq!(status_error(0x5515).code(), "device-locked");
        for sw in [0x6e00, 0x6e01, 0x6d00, 0x6511, 0x6d02] {
            assert_eq!(status_error(sw).code(), "app-not-open", "{sw:04x}");
        }
        let e = status_error(0x6a80);
        assert_eq!(
            e,
            Error::Device {
                code: 0x6a80,
                message: "incorrect data".into()
            }
        );
        assert_eq!(e.to_string(), "device error 0x6a80: incorrect data");
        assert_eq!(
            status_error(0x1234),
            Error::Device {
                code: 0x1234,
                message: "unknown status word".into()
            }
        );
    }
}
