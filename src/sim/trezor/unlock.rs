//! PIN and passphrase protection of the simulated Trezor.
//!
//! With a PIN, the first call that needs the seed is answered with PinMatrixRequest;
//! the simulator's matrix is not scrambled, so the positions are the PIN's digits.
//! With passphrase protection, the first such call of every new session is answered
//! with PassphraseRequest, and the seed is derived again from the mnemonic and the
//! passphrase (typing it "on the device" gives the empty passphrase). A resumed
//! session keeps its passphrase, as the firmware does.

use crate::protocol::trezor::messages::{
    self as msg, failure, types, PassphraseAck, PassphraseRequest, PinMatrixAck, PinMatrixRequest,
};
use crate::sim::seed::Seed;
use crate::sim::trezor::firmware::{failure_reply, reply, State};
use crate::sim::trezor::TrezorSim;

/// What protects the simulated seed.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// The PIN (digits 1-9).
    pub pin: Option<String>,
    /// The mnemonic to derive passphrase wallets from, when passphrases are on.
    pub passphrase_mnemonic: Option<String>,
}

/// Which secret is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// The PIN.
    Pin,
    /// The passphrase.
    Passphrase,
}

fn needs_seed(msg_type: u16) -> bool {
    matches!(
        msg_type,
        types::GET_PUBLIC_KEY | types::GET_ADDRESS | types::SIGN_MESSAGE | types::SIGN_TX
    )
}

impl TrezorSim {
    /// Protects the simulator with `pin` (digits 1-9).
    pub fn with_pin(mut self, pin: &str) -> Self {
        self.protection.pin = Some(pin.to_string());
        self.unlocked = false;
        self
    }

    /// Turns passphrases on: every new session asks for one and derives the seed of
    /// `mnemonic` with it.
    pub fn with_passphrase(mut self, mnemonic: &str) -> Self {
        self.protection.passphrase_mnemonic = Some(mnemonic.to_string());
        self.passphrase_ready = false;
        self
    }

    /// Handles the PIN and passphrase steps; `None` when `msg_type` is not theirs.
    pub(super) fn unlock_step(
        &mut self,
        msg_type: u16,
        payload: &[u8],
    ) -> Option<Vec<(u16, Vec<u8>)>> {
        match (msg_type, &self.state) {
            (types::PIN_MATRIX_ACK, State::Unlock(Asking::Pin, ..)) => {
                let State::Unlock(_, ty, pending) =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return None;
                };
                let ok = msg::decode::<PinMatrixAck>(payload)
                    .is_ok_and(|ack| Some(&ack.pin) == self.protection.pin.as_ref());
                if !ok {
                    return Some(failure_reply((failure::PIN_INVALID, "PIN invalid".into())));
                }
                self.unlocked = true;
                Some(self.handle_message(ty, &pending))
            }
            (types::PASSPHRASE_ACK, State::Unlock(Asking::Passphrase, ..)) => {
                let State::Unlock(_, ty, pending) =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return None;
                };
                let Ok(ack) = msg::decode::<PassphraseAck>(payload) else {
                    return Some(failure_reply((
                        failure::DATA_ERROR,
                        "Failed to decode message".into(),
                    )));
                };
                let passphrase = if ack.on_device == Some(true) {
                    String::new()
                } else {
                    ack.passphrase.unwrap_or_default()
                };
                let mnemonic = self
                    .protection
                    .passphrase_mnemonic
                    .clone()
                    .unwrap_or_default();
                match Seed::from_mnemonic(&mnemonic, &passphrase) {
                    Ok(seed) => self.seed = seed,
                    Err(_) => {
                        return Some(failure_reply((
                            failure::PROCESS_ERROR,
                            "Invalid seed".into(),
                        )))
                    }
                }
                self.passphrase_ready = true;
                Some(self.handle_message(ty, &pending))
            }
            (ty, State::Idle) if needs_seed(ty) => {
                if self.protection.pin.is_some() && !self.unlocked {
                    self.state = State::Unlock(Asking::Pin, ty, payload.to_vec());
                    return Some(reply(&PinMatrixRequest { r#type: Some(1) }));
                }
                if self.protection.passphrase_mnemonic.is_some() && !self.passphrase_ready {
                    self.state = State::Unlock(Asking::Passphrase, ty, payload.to_vec());
                    return Some(reply(&PassphraseRequest {}));
                }
                None
            }
            _ => None,
        }
    }
}
