//! `promptpin` and `sendpin` on a Trezor One, as HWI does them across two processes:
//! `promptpin` makes the device show its scrambled matrix (a call it leaves waiting),
//! `sendpin` answers it with the positions.

use futures::executor::block_on;

use super::client::{self, Client};
use super::commands::success;
use super::commands::trezor;
use super::errors::{self, HwiError};
use super::json::Value;
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{InputScriptType, PassphraseAck, PinMatrixAck};

const PIN_MATRIX_DESCRIPTION: &str =
    "Use the numeric keypad to describe number positions. The layout is:
    7 8 9
    4 5 6
    1 2 3";

/// `promptpin`.
///
/// # Errors
/// HWI's: no PIN set, PIN already entered; the device's.
pub fn prompt_pin(client: &mut Client) -> Result<Value, HwiError> {
    let f = client::prepare(client, "prompt_pin")?;
    if f.pin_protection != Some(true) {
        return Err(HwiError::new(
            "This device does not need a PIN",
            errors::DEVICE_ALREADY_UNLOCKED,
        ));
    }
    if f.unlocked == Some(true) {
        return Err(HwiError::new(
            "The PIN has already been sent to this device",
            errors::DEVICE_ALREADY_UNLOCKED,
        ));
    }
    eprintln!("Use 'sendpin' to provide the number positions for the PIN as displayed on your device's screen");
    eprintln!("{PIN_MATRIX_DESCRIPTION}");
    let request = crate::protocol::trezor::messages::GetPublicKey {
        address_n: vec![0x8000_002c, 0x8000_0001, 0x8000_0000],
        coin_name: Some(
            if client.chain.is_test() {
                "Testnet"
            } else {
                "Bitcoin"
            }
            .into(),
        ),
        show_display: Some(false),
        script_type: Some(InputScriptType::SPENDADDRESS),
        ..Default::default()
    };
    let (ty, payload) = crate::protocol::trezor::messages::encode(&request);
    // trezorlib's call_raw: one message, one reply, no PIN or button handling.
    block_on(trezor(client)?.exchange(ty, &payload))
        .map_err(|e| errors::trezor(&e, "prompt_pin"))?;
    Ok(success(true))
}

/// `sendpin PIN`: `{"success": false}` for a wrong PIN.
///
/// # Errors
/// HWI's: not digits, no PIN set, PIN already entered; the device's.
pub fn send_pin(client: &mut Client, pin: &str) -> Result<Value, HwiError> {
    use crate::protocol::trezor::messages::{self as msg, types, Features, GetFeatures};
    if pin.is_empty() || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(HwiError::bad_argument("Non-numeric PIN provided"));
    }
    let t = trezor(client)?;
    let (ty, payload) = msg::encode(&PinMatrixAck {
        pin: pin.to_string(),
    });
    let (reply, body) =
        block_on(t.exchange(ty, &payload)).map_err(|e| errors::trezor(&e, "send_pin"))?;
    match reply {
        types::FAILURE => {
            let (ty, payload) = msg::encode(&GetFeatures {});
            let (fty, fbody) =
                block_on(t.exchange(ty, &payload)).map_err(|e| errors::trezor(&e, "send_pin"))?;
            if fty == types::FEATURES {
                let f: Features =
                    msg::decode(&fbody).map_err(|e| errors::trezor(&e, "send_pin"))?;
                if f.pin_protection != Some(true) {
                    return Err(HwiError::new(
                        "This device does not need a PIN",
                        errors::DEVICE_ALREADY_UNLOCKED,
                    ));
                }
                if f.unlocked == Some(true) {
                    return Err(HwiError::new(
                        "The PIN has already been sent to this device",
                        errors::DEVICE_ALREADY_UNLOCKED,
                    ));
                }
            }
            Ok(success(false))
        }
        types::PASSPHRASE_REQUEST => {
            let passphrase = client.password.clone().unwrap_or_default();
            let ack = PassphraseAck {
                passphrase: Some(passphrase),
                on_device: Some(false),
            };
            let t = trezor(client)?;
            block_on(t.run(Call::new(msg::encode(&ack), |_, _, _| {
                Ok(crate::protocol::trezor::call::Next::Done(()))
            })))
            .map_err(|e| errors::trezor(&e, "send_pin"))?;
            Ok(success(true))
        }
        _ => {
            let _ = body;
            Ok(success(true))
        }
    }
}
