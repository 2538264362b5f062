//! The simulated Trezor's settings, as the firmware does them: ApplySettings
//! (passphrase protection on or off) and WipeDevice, each confirmed on the device. A
//! wiped device reports no seed (Features `initialized` false) and refuses the calls
//! that need one (Failure NotInitialized).

use crate::protocol::trezor::messages::{
    self as msg, button, failure, types, ApplySettings, Success,
};
use crate::sim::confirm::Prompt;
use crate::sim::seed::Seed;
use crate::sim::trezor::firmware::{bad_message, failure_reply, reply, Pending, State};
use crate::sim::trezor::TrezorSim;

/// A settings change waiting for the user's confirmation.
#[derive(Debug, Clone)]
pub enum Change {
    /// ApplySettings.
    Apply(ApplySettings),
    /// WipeDevice.
    Wipe,
}

impl TrezorSim {
    /// The mnemonic passphrase wallets derive from when ApplySettings turns
    /// passphrases on (the firmware has its seed; the simulator keeps the words).
    pub fn with_mnemonic(mut self, mnemonic: &str) -> Self {
        self.mnemonic = Some(mnemonic.to_string());
        self
    }

    /// Handles ApplySettings, WipeDevice, and a wiped device's refusals; `None` for
    /// other messages.
    pub(super) fn settings_step(
        &mut self,
        msg_type: u16,
        payload: &[u8],
    ) -> Option<Vec<(u16, Vec<u8>)>> {
        if !matches!(self.state, State::Idle) {
            return None;
        }
        match msg_type {
            types::APPLY_SETTINGS => Some(match msg::decode::<ApplySettings>(payload) {
                Ok(m) => self.confirm_then(
                    button::PROTECT_CALL,
                    Prompt::Show("apply settings".into()),
                    Pending::Settings(Change::Apply(m)),
                ),
                Err(_) => bad_message("applysettings"),
            }),
            types::WIPE_DEVICE => Some(self.confirm_then(
                button::PROTECT_CALL,
                Prompt::Show("wipe device".into()),
                Pending::Settings(Change::Wipe),
            )),
            types::GET_PUBLIC_KEY | types::GET_ADDRESS | types::SIGN_MESSAGE | types::SIGN_TX
                if self.wiped =>
            {
                Some(failure_reply((
                    failure::NOT_INITIALIZED,
                    "Device is not initialized".into(),
                )))
            }
            _ => None,
        }
    }

    /// The user confirmed `change`.
    pub(super) fn settings_confirmed(&mut self, change: Change) -> Vec<(u16, Vec<u8>)> {
        match change {
            Change::Apply(m) => {
                match m.use_passphrase {
                    Some(true) if self.protection.passphrase_mnemonic.is_none() => {
                        let Some(words) = self.mnemonic.clone() else {
                            return failure_reply((
                                failure::PROCESS_ERROR,
                                "The simulator does not know its mnemonic".into(),
                            ));
                        };
                        self.protection.passphrase_mnemonic = Some(words);
                        self.passphrase_ready = false;
                    }
                    Some(false) => {
                        if let Some(words) = self.protection.passphrase_mnemonic.take() {
                            match Seed::from_mnemonic(&words, "") {
                                Ok(seed) => self.seed = seed,
                                Err(_) => {
                                    return failure_reply((
                                        failure::PROCESS_ERROR,
                                        "Invalid seed".into(),
                                    ))
                                }
                            }
                        }
                        self.passphrase_ready = true;
                    }
                    _ => {}
                }
                reply(&Success {
                    message: Some("Settings applied".into()),
                })
            }
            Change::Wipe => {
                self.wiped = true;
                self.protection.pin = None;
                self.protection.passphrase_mnemonic = None;
                self.unlocked = true;
                self.passphrase_ready = true;
                self.session_id = None;
                reply(&Success {
                    message: Some("Device wiped".into()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::trezor::messages::{
        ButtonAck, Failure, Features, GetFeatures, GetPublicKey, Initialize, WipeDevice,
    };
    use prost::Message as _;

    fn send<M: crate::protocol::trezor::messages::Wire>(
        sim: &mut TrezorSim,
        m: &M,
    ) -> (u16, Vec<u8>) {
        let (ty, p) = msg::encode(m);
        let mut r = sim.handle_message(ty, &p);
        while r.first().map(|x| x.0) == Some(types::BUTTON_REQUEST) {
            let (ty, p) = msg::encode(&ButtonAck {});
            r = sim.handle_message(ty, &p);
        }
        r.remove(0)
    }

    fn features(sim: &mut TrezorSim) -> Features {
        Features::decode(send(sim, &GetFeatures {}).1.as_slice()).unwrap()
    }

    #[test]
    fn passphrase_protection_toggles_and_wipe_forgets_the_seed() {
        let mut sim = TrezorSim::with_test_seed().unwrap();
        send(&mut sim, &Initialize { session_id: None });
        // GetFeatures carries no session id (only Initialize does).
        assert_eq!(features(&mut sim).session_id, None);
        let on = ApplySettings {
            label: None,
            use_passphrase: Some(true),
        };
        assert_eq!(send(&mut sim, &on).0, types::SUCCESS);
        assert_eq!(features(&mut sim).passphrase_protection, Some(true));
        let off = ApplySettings {
            label: None,
            use_passphrase: Some(false),
        };
        assert_eq!(send(&mut sim, &off).0, types::SUCCESS);
        assert_eq!(features(&mut sim).passphrase_protection, Some(false));

        assert_eq!(send(&mut sim, &WipeDevice {}).0, types::SUCCESS);
        assert_eq!(features(&mut sim).initialized, Some(false));
        let (ty, p) = send(
            &mut sim,
            &GetPublicKey {
                address_n: vec![0x8000_0000],
                ..Default::default()
            },
        );
        assert_eq!(ty, types::FAILURE);
        assert_eq!(
            Failure::decode(p.as_slice()).unwrap().code,
            Some(failure::NOT_INITIALIZED)
        );
    }
}
