//! `setup` and `restore` on a Trezor (HWI's `device.reset` and `device.recover`): a
//! new seed with host entropy, or the words of a seed typed on stdin. A device that
//! already has a seed is refused first, as HWI does.

use std::io::BufRead;

use futures::executor::block_on;

use super::client::{self, Client};
use super::errors::{self, HwiError};
use super::json::Value;
use crate::protocol::trezor::call::{unexpected, Call, Next};
use crate::protocol::trezor::messages::{
    self as msg, types, EntropyAck, RecoveryDevice, ResetDevice, WordAck,
};

fn trezor(
    client: &mut Client,
) -> Result<&mut crate::driver::trezor::Trezor<Box<dyn crate::transport::Transport>>, HwiError> {
    client
        .device
        .as_trezor()
        .ok_or_else(|| HwiError::other("not a trezor"))
}

/// 32 bytes from the operating system's generator.
fn entropy() -> Result<Vec<u8>, HwiError> {
    use std::io::Read;
    let mut buf = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| HwiError::other(e.to_string()))?;
    Ok(buf)
}

/// The PIN prompts HWI's interactive mode shows on stderr, answered from stdin.
fn interactive_prompts(client: &mut Client) {
    let password = client.password.clone().unwrap_or_default();
    client.device.set_prompts(Box::new(
        crate::driver::PromptFns::none()
            .with_pin(|kind| {
                let desc = match kind {
                    crate::device::PinKind::Current => "current PIN",
                    crate::device::PinKind::NewFirst => "new PIN",
                    crate::device::PinKind::NewSecond => "new PIN again",
                    _ => "PIN",
                };
                eprintln!(
                    "Use the numeric keypad to describe number positions. The layout is:\n    7 8 9\n    4 5 6\n    1 2 3"
                );
                loop {
                    eprintln!("Please entire {desc}:");
                    let line = read_line()?;
                    if !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) {
                        return Ok(line);
                    }
                    eprintln!("Non-numerical PIN provided, please try again");
                }
            })
            .with_passphrase(move |_| Ok(crate::device::Passphrase::Text(password.clone()))),
    ));
}

fn read_line() -> Result<String, crate::Error> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| crate::Error::Transport(e.to_string()))?;
    if n == 0 {
        return Err(crate::Error::Cancelled);
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `setup -i`.
///
/// # Errors
/// `Device is already initialized` (-10); the device's errors.
pub fn setup(client: &mut Client, label: &str) -> Result<Value, HwiError> {
    let f = client::prepare(client, "setup_device")?;
    if f.initialized == Some(true) {
        return Err(HwiError::new(
            "Device is already initialized. Use wipe first and try again",
            errors::DEVICE_ALREADY_INIT,
        ));
    }
    if !client.is_emulator() {
        interactive_prompts(client);
    }
    let one = f.model.as_deref().unwrap_or("1") == "1";
    let reset = ResetDevice {
        strength: Some(if one { 256 } else { 128 }),
        passphrase_protection: Some(!client.password.clone().unwrap_or_default().is_empty()),
        pin_protection: Some(true),
        label: (!label.is_empty()).then(|| label.to_string()),
    };
    let seed = entropy()?;
    let call: Call<()> = Call::new(msg::encode(&reset), move |ty, _, _| match ty {
        types::ENTROPY_REQUEST => {
            let (t, p) = msg::encode(&EntropyAck {
                entropy: seed.clone(),
            });
            Ok(Next::Send(t, p))
        }
        types::SUCCESS => Ok(Next::Done(())),
        other => Err(unexpected(other, "entropyrequest")),
    });
    block_on(trezor(client)?.run(call)).map_err(|e| errors::trezor(&e, "setup_device"))?;
    let _ = client::initialize(&mut client.device);
    Ok(super::commands::success(true))
}

/// `restore -i`: the words are read from stdin, one per line, as the device asks.
///
/// # Errors
/// A bad word count (-7); a device with a seed (-13); the device's errors.
pub fn restore(client: &mut Client, word_count: i64, label: &str) -> Result<Value, HwiError> {
    let f = client::prepare(client, "restore_device")?;
    if !matches!(word_count, 12 | 18 | 24) {
        return Err(HwiError::bad_argument("Invalid word count. Use 12/18/24"));
    }
    if f.initialized == Some(true) {
        return Err(HwiError::other(
            "Device already initialized. Call device.wipe() and try again.",
        ));
    }
    if !client.is_emulator() {
        interactive_prompts(client);
    }
    let recover = RecoveryDevice {
        word_count: u32::try_from(word_count).ok(),
        passphrase_protection: Some(!client.password.clone().unwrap_or_default().is_empty()),
        pin_protection: Some(true),
        label: (!label.is_empty()).then(|| label.to_string()),
        enforce_wordlist: Some(true),
    };
    let call: Call<()> = Call::new(msg::encode(&recover), |ty, _, _| match ty {
        types::WORD_REQUEST => {
            eprintln!("Enter one word of mnemonic:");
            let word = read_line()?;
            let (t, p) = msg::encode(&WordAck { word });
            Ok(Next::Send(t, p))
        }
        types::SUCCESS => Ok(Next::Done(())),
        other => Err(unexpected(other, "wordrequest")),
    });
    block_on(trezor(client)?.run(call)).map_err(|e| errors::trezor(&e, "restore_device"))?;
    let _ = client::initialize(&mut client.device);
    Ok(super::commands::success(true))
}
