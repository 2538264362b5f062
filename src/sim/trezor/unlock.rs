//! PIN and passphrase protection of the simulated Trezor, as the firmware does them.
//!
//! - **Trezor One** ([`Model::One`]): the first call that needs the seed is answered
//!   with PinMatrixRequest (type 1, current PIN). The device shows a freshly scrambled
//!   3x3 matrix ([`TrezorSim::pin_matrix`]); the host sends the positions of the PIN's
//!   digits (7 8 9 top row, 1 2 3 bottom row). A wrong PIN is Failure PinInvalid, and
//!   each further attempt waits longer (`2^failures - 1` seconds, which the serving
//!   loop applies through [`TrezorSim::take_delay_ms`]). The One cannot take a
//!   passphrase on the device.
//! - **Trezor T / Safe** ([`Model::T`]): the PIN is entered on the device
//!   (ButtonRequest PinEntry, then the simulated user types it: [`Prompt::EnterPin`]);
//!   a passphrase can be typed on the device too (ButtonRequest PassphraseEntry, then
//!   [`Prompt::EnterPassphrase`]; the simulated user types
//!   [`Protection::device_passphrase`]).
//!
//! The PIN stays entered until [`TrezorSim::power_off`] or LockDevice. With passphrase
//! protection, the first seed call of every new session asks for the passphrase and the
//! seed is derived again from the mnemonic and it; a resumed session (Initialize with
//! its id) keeps it, as the firmware does; EndSession and LockDevice forget it.

use crate::protocol::trezor::messages::{
    self as msg, button, failure, types, PassphraseAck, PassphraseRequest, PinMatrixAck,
    PinMatrixRequest, Success,
};
use crate::sim::confirm::Prompt;
use crate::sim::seed::Seed;
use crate::sim::trezor::firmware::{failure_reply, reply, Pending, State};
use crate::sim::trezor::TrezorSim;

/// Which Trezor the simulator is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Model {
    /// Trezor One (firmware 1.14.1): PIN on the host's matrix, passphrase on the host.
    One,
    /// Trezor Model T (firmware 2.8.0): PIN and passphrase on the device's touchscreen.
    #[default]
    T,
    /// Trezor Safe 7 (firmware 2.10.0): like the T, but speaking only THP (see
    /// [`crate::sim::trezor::Safe7Sim`]).
    Safe7,
}

/// What protects the simulated seed.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// The PIN (digits 1-9).
    pub pin: Option<String>,
    /// The mnemonic to derive passphrase wallets from, when passphrases are on.
    pub passphrase_mnemonic: Option<String>,
    /// What the simulated user types when the passphrase is entered on the device.
    pub device_passphrase: String,
}

/// Which secret is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// The PIN.
    Pin,
    /// The passphrase.
    Passphrase,
}

/// The positions (7 8 9 / 4 5 6 / 1 2 3) of `pin`'s digits on `matrix`, the digits the
/// device shows in reading order (top-left first); `None` for a digit not shown.
pub fn positions(pin: &str, matrix: &[u8; 9]) -> Option<String> {
    pin.chars()
        .map(|c| {
            let digit = c.to_digit(10)? as u8;
            let cell = matrix.iter().position(|d| *d == digit)?;
            let (row, col) = (cell / 3, cell % 3);
            char::from_digit((7 - 3 * row + col) as u32, 10)
        })
        .collect()
}

/// The digits `positions` point at on `matrix`.
fn digits(positions: &str, matrix: &[u8; 9]) -> Option<String> {
    positions
        .chars()
        .map(|c| {
            let p = c.to_digit(10).filter(|p| (1..=9).contains(p))? as usize;
            let (row, col) = (2 - (p - 1) / 3, (p - 1) % 3);
            let digit = matrix.get(row * 3 + col)?;
            char::from_digit(u32::from(*digit), 10)
        })
        .collect()
}

fn needs_seed(msg_type: u16) -> bool {
    matches!(
        msg_type,
        types::GET_PUBLIC_KEY | types::GET_ADDRESS | types::SIGN_MESSAGE | types::SIGN_TX
    )
}

/// Calls that need the PIN but not the seed (so no passphrase).
fn needs_pin(msg_type: u16) -> bool {
    needs_seed(msg_type) || msg_type == types::APPLY_FLAGS
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

    /// What the simulated user types when the passphrase is entered on the device.
    pub fn with_device_passphrase(mut self, passphrase: &str) -> Self {
        self.protection.device_passphrase = passphrase.to_string();
        self
    }

    /// Makes it this `model`.
    pub fn with_model(mut self, model: Model) -> Self {
        self.model = model;
        self
    }

    /// Seeds the scrambling of the PIN matrix (the firmware uses its RNG).
    pub fn with_matrix_seed(mut self, seed: u64) -> Self {
        self.matrix_rng = seed | 1;
        self
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The PIN matrix the device shows while it waits for PinMatrixAck: its digits in
    /// reading order (top-left first).
    pub fn pin_matrix(&self) -> Option<[u8; 9]> {
        self.matrix
    }

    /// Wrong PINs entered since the last right one.
    pub fn pin_failures(&self) -> u32 {
        self.pin_failures
    }

    /// How long the device is busy before its last replies (the wrong-PIN delay), in
    /// milliseconds; reading it clears it.
    pub fn take_delay_ms(&mut self) -> u64 {
        core::mem::take(&mut self.delay_ms)
    }

    /// Power off and on: the PIN must be entered again and sessions are gone.
    pub fn power_off(&mut self) {
        self.unlocked = self.protection.pin.is_none();
        self.forget_session();
        self.state = State::Idle;
        self.matrix = None;
    }

    pub(super) fn forget_session(&mut self) {
        self.session_id = None;
        if self.protection.passphrase_mnemonic.is_some() {
            self.passphrase_ready = false;
        }
    }

    fn scramble(&mut self) -> [u8; 9] {
        let mut m = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        for i in (1..m.len()).rev() {
            // xorshift64
            self.matrix_rng ^= self.matrix_rng << 13;
            self.matrix_rng ^= self.matrix_rng >> 7;
            self.matrix_rng ^= self.matrix_rng << 17;
            m.swap(i, (self.matrix_rng % (i as u64 + 1)) as usize);
        }
        m
    }

    /// The next step after the PIN: the passphrase, or the pending message itself.
    fn after_pin(&mut self, ty: u16, pending: Vec<u8>) -> Vec<(u16, Vec<u8>)> {
        match self.unlock_step(ty, &pending) {
            Some(replies) => replies,
            None => self.handle_message(ty, &pending),
        }
    }

    /// Derives the passphrase wallet and goes on with the pending message.
    pub(super) fn use_passphrase(
        &mut self,
        passphrase: &str,
        ty: u16,
        pending: &[u8],
    ) -> Vec<(u16, Vec<u8>)> {
        let mnemonic = self
            .protection
            .passphrase_mnemonic
            .clone()
            .unwrap_or_default();
        match Seed::from_mnemonic(&mnemonic, passphrase) {
            Ok(seed) => self.seed = seed,
            Err(_) => return failure_reply((failure::PROCESS_ERROR, "Invalid seed".into())),
        }
        self.passphrase_ready = true;
        self.handle_message(ty, pending)
    }

    /// The on-device PIN entry (core models) was confirmed: the PIN is in.
    pub(super) fn pin_entered_on_device(
        &mut self,
        ty: u16,
        pending: Vec<u8>,
    ) -> Vec<(u16, Vec<u8>)> {
        self.unlocked = true;
        self.pin_failures = 0;
        self.after_pin(ty, pending)
    }

    /// Handles the PIN and passphrase steps and LockDevice; `None` when `msg_type` is
    /// not theirs.
    pub(super) fn unlock_step(
        &mut self,
        msg_type: u16,
        payload: &[u8],
    ) -> Option<Vec<(u16, Vec<u8>)>> {
        match (msg_type, &self.state) {
            (types::LOCK_DEVICE, State::Idle) => {
                if self.protection.pin.is_some() {
                    self.unlocked = false;
                }
                self.forget_session();
                Some(reply(&Success { message: None }))
            }
            (types::PIN_MATRIX_ACK, State::Unlock(Asking::Pin, ..)) => {
                let State::Unlock(_, ty, pending) =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return None;
                };
                let matrix = self.matrix.take()?;
                let entered = msg::decode::<PinMatrixAck>(payload)
                    .ok()
                    .and_then(|ack| digits(&ack.pin, &matrix));
                // The firmware makes every attempt after a wrong one wait longer.
                self.delay_ms = ((1u64 << self.pin_failures.min(20)) - 1) * 1000;
                if entered.is_none() || entered != self.protection.pin {
                    self.pin_failures = self.pin_failures.saturating_add(1);
                    return Some(failure_reply((failure::PIN_INVALID, "PIN invalid".into())));
                }
                self.unlocked = true;
                self.pin_failures = 0;
                Some(self.after_pin(ty, pending))
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
                if ack.on_device == Some(true) {
                    if self.model == Model::One {
                        return Some(failure_reply((
                            failure::DATA_ERROR,
                            "This firmware is incapable of passphrase entry on the device.".into(),
                        )));
                    }
                    let typed = self.protection.device_passphrase.clone();
                    return Some(self.confirm_then(
                        button::PASSPHRASE_ENTRY,
                        Prompt::EnterPassphrase,
                        Pending::Passphrase(typed, ty, pending),
                    ));
                }
                let passphrase = ack.passphrase.unwrap_or_default();
                Some(self.use_passphrase(&passphrase, ty, &pending))
            }
            (ty, State::Idle) if needs_pin(ty) => {
                if self.protection.pin.is_some() && !self.unlocked {
                    if self.model != Model::One {
                        return Some(self.confirm_then(
                            button::PIN_ENTRY,
                            Prompt::EnterPin,
                            Pending::Pin(ty, payload.to_vec()),
                        ));
                    }
                    self.matrix = Some(self.scramble());
                    self.state = State::Unlock(Asking::Pin, ty, payload.to_vec());
                    return Some(reply(&PinMatrixRequest { r#type: Some(1) }));
                }
                if needs_seed(ty)
                    && self.protection.passphrase_mnemonic.is_some()
                    && !self.passphrase_ready
                {
                    self.state = State::Unlock(Asking::Passphrase, ty, payload.to_vec());
                    return Some(reply(&PassphraseRequest {}));
                }
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_digits_are_inverse() {
        // The matrix shown: 3 9 1 / 8 2 4 / 6 7 5.
        let m = [3, 9, 1, 8, 2, 4, 6, 7, 5];
        // 1 is top-right (position 9), 2 centre (5), 3 top-left (7), 4 middle-right (6).
        assert_eq!(positions("1234", &m).as_deref(), Some("9576"));
        assert_eq!(digits("9576", &m).as_deref(), Some("1234"));
        assert_eq!(digits("0", &m), None);
        assert_eq!(positions("0", &m), None);
        let ordered = [7, 8, 9, 4, 5, 6, 1, 2, 3];
        assert_eq!(
            positions("123456789", &ordered).as_deref(),
            Some("123456789")
        );
    }
}
