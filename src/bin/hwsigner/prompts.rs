//! The PIN, passphrase and pairing-code prompts of the command line, as trezorctl
//! does them so that scripts can drive it: a line with `PIN` (or `passphrase`, or
//! `pairing code`) on stderr, then one line read from stdin, without echo when stdin
//! is a terminal (the pairing code is echoed: it is no secret). Works when stdin is a
//! pipe.

use std::io::{BufRead, IsTerminal, Write};

use futures::future::LocalBoxFuture;
use hwsigner::device::{Passphrase, PinKind};
use hwsigner::driver::Prompts;
use hwsigner::{Error, Result};

/// What `hwsigner` shows before asking for the PIN.
pub const PIN_LEGEND: &str = "\
the trezor shows a scrambled matrix of digits. type the positions of your pin's
digits on it, as on a numeric keypad:
    7 8 9
    4 5 6
    1 2 3";

/// Asks on stderr, reads stdin.
#[derive(Debug, Default)]
pub struct StdinPrompts {
    /// Answer passphrase requests with "type it on the device".
    pub passphrase_on_device: bool,
}

impl Prompts for StdinPrompts {
    fn pin(&mut self, kind: PinKind) -> LocalBoxFuture<'_, Result<String>> {
        let which = match kind {
            PinKind::Current => "the PIN",
            PinKind::NewFirst => "the new PIN",
            PinKind::NewSecond => "the new PIN again",
            PinKind::WipeCodeFirst => "the new wipe code",
            PinKind::WipeCodeSecond => "the new wipe code again",
            _ => "the PIN",
        };
        eprintln!("{PIN_LEGEND}");
        let r = ask(&format!("enter {which} (positions 1-9, PIN): ")).and_then(|line| {
            let pin = line.trim().to_string();
            if pin.is_empty() {
                return Err(Error::Cancelled);
            }
            Ok(pin)
        });
        Box::pin(async move { r })
    }

    fn passphrase(&mut self, on_device: bool) -> LocalBoxFuture<'_, Result<Passphrase>> {
        let r = if self.passphrase_on_device {
            if on_device {
                eprintln!("enter the passphrase on the device");
            }
            Ok(Passphrase::OnDevice)
        } else {
            ask("enter the passphrase (empty for the standard wallet): ").map(Passphrase::Text)
        };
        Box::pin(async move { r })
    }

    fn pairing_code(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        eprintln!(
            "the trezor shows a 6-digit code to pair with this computer (once: the \
             credential is kept in the config dir)"
        );
        let r = ask_visible("enter the pairing code the trezor shows: ").and_then(|line| {
            let code = line.trim().to_string();
            if code.is_empty() {
                return Err(Error::Cancelled);
            }
            Ok(code)
        });
        Box::pin(async move { r })
    }
}

/// Prints `question` on stderr and reads one line of stdin, echoed.
fn ask_visible(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Transport(format!("cannot read stdin: {e}").to_lowercase()))?;
    if n == 0 {
        return Err(Error::Cancelled);
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Prints `question` on stderr and reads one line of stdin (its end of line removed);
/// echo is off when stdin is a terminal.
fn ask(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let stdin = std::io::stdin();
    let read = |line: &mut String| stdin.lock().read_line(line);
    let mut line = String::new();
    let n = if stdin.is_terminal() {
        without_echo(|| read(&mut line))
    } else {
        read(&mut line)
    }
    .map_err(|e| Error::Transport(format!("cannot read stdin: {e}").to_lowercase()))?;
    // What was typed is not shown: end the prompt's line.
    eprintln!();
    if n == 0 {
        // End of input: nobody is there to answer.
        return Err(Error::Cancelled);
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string())
}

/// Runs `f` with the terminal's echo off (stdin), restoring it after.
#[cfg(unix)]
fn without_echo<T>(f: impl FnOnce() -> T) -> T {
    use std::os::fd::AsRawFd;
    let fd = std::io::stdin().as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it or fails (then it is unused).
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is stdin's open descriptor and `saved` a valid termios.
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return f();
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    // SAFETY: as above; only the echo flag differs from what the terminal had.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    let r = f();
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    r
}

#[cfg(not(unix))]
fn without_echo<T>(f: impl FnOnce() -> T) -> T {
    f()
}
