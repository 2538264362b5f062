//! Why a command failed, and the exit code and line it ends with.

use hwsigner::Error;

use crate::json::Json;

/// Exit code of a device or user error (and of anything that is not bad input).
pub const EXIT_DEVICE: u8 = 1;
/// Exit code of bad input: a usage error or any `invalid-input` error.
pub const EXIT_INPUT: u8 = 2;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// The command line itself is wrong (unknown command or flag, missing value).
    Usage {
        /// What is wrong.
        message: String,
        /// The command whose `--help` to point at, once known.
        command: Option<String>,
    },
    /// The library failed; its code says whether the input or the device is to blame.
    Hw(Error),
    /// No wallet was found to talk to.
    NoDevice,
}

impl Failure {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage {
            message: message.into(),
            command: None,
        }
    }

    /// Points a usage error at `command`'s help page.
    pub fn in_command(self, name: &str) -> Self {
        match self {
            Failure::Usage { message, .. } => Failure::Usage {
                message,
                command: Some(name.to_string()),
            },
            other => other,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage { .. } => EXIT_INPUT,
            Failure::Hw(e) if e.code() == "invalid-input" => EXIT_INPUT,
            Failure::Hw(_) | Failure::NoDevice => EXIT_DEVICE,
        }
    }

    /// The error code: `usage`, or the library's (`invalid-input`, `transport`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Usage { .. } => "usage",
            Failure::Hw(e) => e.code(),
            Failure::NoDevice => Error::Disconnected.code(),
        }
    }

    /// What went wrong, without the code.
    pub fn message(&self) -> String {
        match self {
            Failure::Usage { message, command } => {
                let help = match command {
                    Some(c) => format!("hwsigner {c} --help"),
                    None => "hwsigner --help".into(),
                };
                format!("{message} (see `{help}`)")
            }
            Failure::Hw(e) => {
                // `unsupported: ...` already starts with its code: say it once.
                let message = e.to_string();
                let prefix = format!("{}: ", e.code());
                match message.strip_prefix(&prefix) {
                    Some(rest) => rest.to_string(),
                    None => message,
                }
            }
            Failure::NoDevice => "no device found".into(),
        }
    }

    /// The line printed on stderr: `error: <code>: <message>`.
    pub fn line(&self) -> String {
        format!("error: {}: {}", self.code(), self.message())
    }

    /// The object printed on stdout with `--json`: `{"error": {"code", "message"}}`.
    pub fn json(&self) -> Json {
        Json::Object(vec![(
            "error",
            Json::Object(vec![
                ("code", self.code().into()),
                ("message", self.message().into()),
            ]),
        )])
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Hw(e)
    }
}
