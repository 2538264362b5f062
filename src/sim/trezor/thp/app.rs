//! The simulated Safe 7 above the transport: the handshake, pairing and credentials,
//! and the sessions that carry the simulated Trezor's calls.

use prost::Message as _;

use super::{Phase, Safe7Sim};
use crate::protocol::thp::messages::{
    self as thp, method, AuthenticatedCredentialData, CodeEntryChallenge, CodeEntryCommitment,
    CodeEntryCpaceHostTag, CodeEntryCpaceTrezor, CodeEntrySecret, CreateNewSession,
    CredentialMetadata, CredentialRequest, CredentialResponse, EndResponse,
    HandshakeCompletionReqNoisePayload, PairingCredential, PairingRequest, PairingRequestApproved,
    SelectMethod,
};
use crate::protocol::thp::noise::{
    self, hmac_sha256, DeviceHandshake, STATE_PAIRED, STATE_UNPAIRED,
};
use crate::protocol::thp::packet::{ctrl, error_code};
use crate::protocol::thp::{cpace, parse_app_message};
use crate::protocol::trezor::messages::{
    self as msg, button, failure, types, ButtonRequest, Failure, Success, Wire,
};
use crate::sim::confirm::Prompt;
use crate::sim::seed::Seed;

/// Where pairing is.
#[derive(Debug, Clone)]
pub(super) enum PairingState {
    /// Waiting for ThpPairingRequest.
    Start,
    /// The user allowed pairing; waiting for SelectMethod.
    Allowed { host: String, app: String },
    /// Committed to `secret`; waiting for the challenge.
    Committed {
        host: String,
        app: String,
        secret: [u8; 16],
    },
    /// Showing the code; waiting for the host's CPace key and tag.
    Showing {
        host: String,
        app: String,
        secret: [u8; 16],
        private: [u8; 32],
    },
    /// Paired (now or by credential): credentials, then EndRequest.
    Credential { host: String, app: String },
}

/// A THP-level confirmation on the screen, until ButtonAck.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    /// Allow pairing with this host and app.
    Pair { host: String, app: String },
    /// Allow the connection of a paired host.
    Connect,
    /// The passphrase is typed on the device for a new session.
    Passphrase(u8),
}

fn failure_reply(code: i32, text: &str) -> (u16, Vec<u8>) {
    msg::encode(&Failure {
        code: Some(code),
        message: Some(text.into()),
    })
}

fn decode<M: Wire>(ty: u16, payload: &[u8]) -> Option<M> {
    (ty == M::TYPE).then(|| M::decode(payload).ok()).flatten()
}

impl Safe7Sim {
    pub(super) fn on_data(&mut self, index: usize, kind: u8, payload: Vec<u8>) {
        let Some(ch) = self.channels.get_mut(index) else {
            return;
        };
        match core::mem::replace(&mut ch.phase, Phase::Handshake1) {
            Phase::Handshake1 => self.handshake1(index, kind, &payload),
            Phase::Handshake2(hs) => self.handshake2(index, kind, *hs, &payload),
            phase => {
                ch.phase = phase;
                if kind != ctrl::ENCRYPTED {
                    return;
                }
                let plain = ch.keys.as_mut().map(|k| k.open_request(&payload));
                match plain {
                    Some(Ok(plain)) => match parse_app_message(&plain) {
                        Ok((session, ty, body)) => self.app(index, session, ty, &body),
                        Err(_) => self.drop_channel(index, error_code::DECRYPTION_FAILED),
                    },
                    _ => self.drop_channel(index, error_code::DECRYPTION_FAILED),
                }
            }
        }
    }

    /// Sends a transport error and forgets the channel.
    fn drop_channel(&mut self, index: usize, code: u8) {
        if let Some(ch) = self.channels.get_mut(index) {
            ch.keys = None;
            ch.queue.clear();
            ch.queue.push_back(crate::protocol::thp::packet::Frame::new(
                ctrl::ERROR,
                ch.cid,
                vec![code],
            ));
            ch.phase = Phase::Handshake1;
        }
    }

    fn handshake1(&mut self, index: usize, kind: u8, payload: &[u8]) {
        if kind != ctrl::HANDSHAKE_INIT_REQUEST || !(32..=33).contains(&payload.len()) {
            return;
        }
        let try_to_unlock = payload.get(32).is_some_and(|b| b & 1 == 1);
        if self.inner.protection.pin.is_some() && !self.inner.unlocked {
            // The firmware shows the PIN entry when the host asks it to.
            if try_to_unlock && self.inner.confirm.answer(&Prompt::EnterPin) {
                self.inner.unlocked = true;
            } else {
                self.queue_error(index, error_code::DEVICE_LOCKED);
                return;
            }
        }
        let ephemeral = self.random();
        let Ok((hs, response)) =
            DeviceHandshake::respond(&Self::properties(), payload, ephemeral, self.static_private)
        else {
            return;
        };
        if let Some(ch) = self.channels.get_mut(index) {
            ch.phase = Phase::Handshake2(Box::new(hs));
        }
        self.queue_data(index, ctrl::HANDSHAKE_INIT_RESPONSE, response);
    }

    fn queue_error(&mut self, index: usize, code: u8) {
        if let Some(ch) = self.channels.get_mut(index) {
            ch.queue.push_back(crate::protocol::thp::packet::Frame::new(
                ctrl::ERROR,
                ch.cid,
                vec![code],
            ));
        }
    }

    fn handshake2(&mut self, index: usize, kind: u8, hs: DeviceHandshake, payload: &[u8]) {
        if kind != ctrl::HANDSHAKE_COMPLETION_REQUEST {
            if let Some(ch) = self.channels.get_mut(index) {
                ch.phase = Phase::Handshake2(Box::new(hs));
            }
            return;
        }
        let Ok(done) = hs.on_completion_request(payload) else {
            self.drop_channel(index, error_code::DECRYPTION_FAILED);
            return;
        };
        let credential = HandshakeCompletionReqNoisePayload::decode(done.payload.as_slice())
            .ok()
            .and_then(|p| p.host_pairing_credential);
        let known = credential.and_then(|c| self.validate(&c, &done.host_static));
        let state = if known.is_some() {
            STATE_PAIRED
        } else {
            STATE_UNPAIRED
        };
        let response = done.response(state);
        if let Some(ch) = self.channels.get_mut(index) {
            ch.keys = Some(done.keys);
            ch.handshake_hash = done.handshake_hash;
            ch.host_static = done.host_static;
            ch.by_credential = known.is_some();
            ch.phase = Phase::Pairing(match known {
                Some((host, app)) => PairingState::Credential { host, app },
                None => PairingState::Start,
            });
        }
        self.queue_data(index, ctrl::HANDSHAKE_COMPLETION_RESPONSE, response);
    }

    /// The host and app names of a valid credential of `host_static`.
    fn validate(&self, credential: &[u8], host_static: &[u8; 32]) -> Option<(String, String)> {
        let c = PairingCredential::decode(credential).ok()?;
        let meta = c.cred_metadata?;
        let mac = self.credential_mac(host_static, &meta);
        (c.mac.as_deref() == Some(mac.as_slice())).then(|| {
            (
                meta.host_name.unwrap_or_default(),
                meta.app_name.unwrap_or_default(),
            )
        })
    }

    fn credential_mac(&self, host_static: &[u8; 32], meta: &CredentialMetadata) -> [u8; 32] {
        let data = AuthenticatedCredentialData {
            host_static_public_key: Some(host_static.to_vec()),
            cred_metadata: Some(meta.clone()),
        };
        hmac_sha256(&self.cred_auth_key, &[&data.encode_to_vec()])
    }

    fn reply(&mut self, index: usize, session: u8, (ty, payload): (u16, Vec<u8>)) {
        self.queue_app(index, session, ty, &payload);
    }

    fn button(&mut self, index: usize, session: u8, code: i32, pending: Pending) {
        if let Some(ch) = self.channels.get_mut(index) {
            ch.pending = Some(pending);
        }
        self.reply(
            index,
            session,
            msg::encode(&ButtonRequest {
                code: Some(code),
                pages: None,
                name: None,
            }),
        );
    }

    fn app(&mut self, index: usize, session: u8, ty: u16, payload: &[u8]) {
        self.last_session = session;
        let pending = self.channels.get_mut(index).and_then(|c| c.pending.take());
        if let Some(pending) = pending {
            if ty == types::BUTTON_ACK {
                return self.confirmed(index, session, pending);
            }
            if ty == types::CANCEL {
                self.code = None;
                return self.reply(
                    index,
                    session,
                    failure_reply(failure::ACTION_CANCELLED, "Cancelled"),
                );
            }
        }
        let phase = self
            .channels
            .get(index)
            .map(|c| match &c.phase {
                Phase::Pairing(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap_or_default();
        match phase {
            Some(state) => self.pairing(index, session, state, ty, payload),
            None => self.session_call(index, session, ty, payload),
        }
    }

    fn set_pairing(&mut self, index: usize, state: PairingState) {
        if let Some(ch) = self.channels.get_mut(index) {
            ch.phase = Phase::Pairing(state);
        }
    }

    fn pairing(&mut self, index: usize, session: u8, state: PairingState, ty: u16, payload: &[u8]) {
        let unexpected = failure_reply(failure::UNEXPECTED_MESSAGE, "Unexpected message");
        match state {
            PairingState::Start => match decode::<PairingRequest>(ty, payload) {
                Some(r) => self.button(
                    index,
                    session,
                    button::OTHER,
                    Pending::Pair {
                        host: r.host_name.unwrap_or_default(),
                        app: r.app_name.unwrap_or_default(),
                    },
                ),
                None => self.reply(index, session, unexpected),
            },
            PairingState::Allowed { host, app } => match decode::<SelectMethod>(ty, payload) {
                Some(m) if m.selected_pairing_method == Some(method::CODE_ENTRY) => {
                    let mut secret = [0u8; 16];
                    secret
                        .iter_mut()
                        .zip(self.random())
                        .for_each(|(d, s)| *d = s);
                    self.set_pairing(index, PairingState::Committed { host, app, secret });
                    self.reply(
                        index,
                        session,
                        msg::encode(&CodeEntryCommitment {
                            commitment: Some(noise::sha256(&[&secret]).to_vec()),
                        }),
                    );
                }
                Some(_) => self.reply(
                    index,
                    session,
                    failure_reply(
                        failure::DATA_ERROR,
                        "Selected pairing method is not supported",
                    ),
                ),
                None => self.reply(index, session, unexpected),
            },
            PairingState::Committed { host, app, secret } => {
                match decode::<CodeEntryChallenge>(ty, payload) {
                    Some(c) => {
                        let hh = self
                            .channels
                            .get(index)
                            .map(|c| c.handshake_hash)
                            .unwrap_or_default();
                        let challenge = c.challenge.unwrap_or_default();
                        let code = cpace::code_text(cpace::code(&hh, &secret, &challenge));
                        let private = self.random();
                        let public = cpace::public(&code, &hh, private);
                        self.code = Some(code.clone());
                        self.set_pairing(
                            index,
                            PairingState::Showing {
                                host,
                                app,
                                secret,
                                private,
                            },
                        );
                        self.reply(
                            index,
                            session,
                            msg::encode(&CodeEntryCpaceTrezor {
                                cpace_trezor_public_key: Some(public.to_vec()),
                            }),
                        );
                    }
                    None => self.reply(index, session, unexpected),
                }
            }
            PairingState::Showing {
                host,
                app,
                secret,
                private,
            } => match decode::<CodeEntryCpaceHostTag>(ty, payload) {
                Some(t) => {
                    self.code = None;
                    let host_public: [u8; 32] = t
                        .cpace_host_public_key
                        .unwrap_or_default()
                        .try_into()
                        .unwrap_or([0; 32]);
                    let shared = noise::x25519(private, host_public);
                    if t.tag.as_deref() != Some(cpace::tag(&shared).as_slice()) {
                        // A wrong code: pairing fails, the channel is gone.
                        self.reply(
                            index,
                            session,
                            failure_reply(failure::PROCESS_ERROR, "Unexpected Code Entry Tag"),
                        );
                        self.set_pairing(index, PairingState::Start);
                        return;
                    }
                    self.set_pairing(index, PairingState::Credential { host, app });
                    self.reply(
                        index,
                        session,
                        msg::encode(&CodeEntrySecret {
                            secret: Some(secret.to_vec()),
                        }),
                    );
                }
                None => self.reply(index, session, unexpected),
            },
            PairingState::Credential { host, app } => {
                if let Some(r) = decode::<CredentialRequest>(ty, payload) {
                    let host_static: [u8; 32] = r
                        .host_static_public_key
                        .unwrap_or_default()
                        .try_into()
                        .unwrap_or([0; 32]);
                    let meta = CredentialMetadata {
                        host_name: Some(host.clone()),
                        autoconnect: r.autoconnect.filter(|a| *a),
                        app_name: Some(app.clone()),
                    };
                    let credential = PairingCredential {
                        mac: Some(self.credential_mac(&host_static, &meta).to_vec()),
                        cred_metadata: Some(meta),
                    };
                    let response = CredentialResponse {
                        trezor_static_public_key: Some(self.static_public_key().to_vec()),
                        credential: Some(credential.encode_to_vec()),
                    };
                    self.set_pairing(index, PairingState::Credential { host, app });
                    return self.reply(index, session, msg::encode(&response));
                }
                if ty == thp::types::END_REQUEST {
                    let by_credential = self.channels.get(index).is_some_and(|c| c.by_credential);
                    self.set_pairing(index, PairingState::Credential { host, app });
                    if by_credential {
                        return self.button(index, session, button::OTHER, Pending::Connect);
                    }
                    return self.end(index, session);
                }
                self.reply(index, session, unexpected)
            }
        }
    }

    fn end(&mut self, index: usize, session: u8) {
        if let Some(ch) = self.channels.get_mut(index) {
            ch.phase = Phase::Transport;
        }
        self.reply(index, session, msg::encode(&EndResponse {}));
    }

    fn confirmed(&mut self, index: usize, session: u8, pending: Pending) {
        let cancelled = failure_reply(failure::ACTION_CANCELLED, "Cancelled");
        match pending {
            Pending::Pair { host, app } => {
                if !self
                    .inner
                    .confirm
                    .answer(&Prompt::Show(format!("pair with {app} on {host}")))
                {
                    return self.reply(index, session, cancelled);
                }
                self.set_pairing(index, PairingState::Allowed { host, app });
                self.reply(index, session, msg::encode(&PairingRequestApproved {}));
            }
            Pending::Connect => {
                if !self
                    .inner
                    .confirm
                    .answer(&Prompt::Show("allow the connection".into()))
                {
                    return self.reply(index, session, cancelled);
                }
                self.end(index, session);
            }
            Pending::Passphrase(id) => {
                if !self.inner.confirm.answer(&Prompt::EnterPassphrase) {
                    return self.reply(index, session, cancelled);
                }
                let typed = self.inner.protection.device_passphrase.clone();
                self.open_session(index, id, &typed);
            }
        }
    }

    fn open_session(&mut self, index: usize, id: u8, passphrase: &str) {
        let seed = match &self.inner.protection.passphrase_mnemonic {
            Some(m) => match Seed::from_mnemonic(m, passphrase) {
                Ok(s) => s,
                Err(_) => {
                    return self.reply(
                        index,
                        id,
                        failure_reply(failure::PROCESS_ERROR, "Invalid seed"),
                    )
                }
            },
            None => self.base_seed.clone(),
        };
        if let Some(ch) = self.channels.get_mut(index) {
            ch.sessions.retain(|(s, _)| *s != id);
            ch.sessions.push((id, seed));
        }
        self.reply(index, id, msg::encode(&Success { message: None }));
    }

    fn session_call(&mut self, index: usize, session: u8, ty: u16, payload: &[u8]) {
        if ty == thp::types::CREATE_NEW_SESSION {
            let Some(req) = decode::<CreateNewSession>(ty, payload) else {
                return self.reply(
                    index,
                    session,
                    failure_reply(failure::DATA_ERROR, "Failed to decode"),
                );
            };
            if session == 0 {
                return self.reply(
                    index,
                    session,
                    failure_reply(failure::DATA_ERROR, "Session 0 is seedless"),
                );
            }
            if req.on_device == Some(true) {
                if self.inner.protection.passphrase_mnemonic.is_none() {
                    return self.reply(
                        index,
                        session,
                        failure_reply(failure::DATA_ERROR, "Passphrase is disabled"),
                    );
                }
                return self.button(
                    index,
                    session,
                    button::PASSPHRASE_ENTRY,
                    Pending::Passphrase(session),
                );
            }
            let passphrase = req.passphrase.unwrap_or_default();
            return self.open_session(index, session, &passphrase);
        }
        let seed = self
            .channels
            .get(index)
            .and_then(|c| c.sessions.iter().find(|(s, _)| *s == session))
            .map(|(_, seed)| seed.clone());
        let needs_seed = matches!(
            ty,
            types::GET_PUBLIC_KEY | types::GET_ADDRESS | types::SIGN_MESSAGE | types::SIGN_TX
        );
        match seed {
            Some(seed) => self.inner.seed = seed,
            None if needs_seed => {
                return self.reply(
                    index,
                    session,
                    failure_reply(failure::THP_UNALLOCATED_SESSION, "Unallocated session"),
                )
            }
            None => {}
        }
        // The session holds the passphrase: the simulated Trezor must not ask for it.
        self.inner.passphrase_ready = true;
        let replies = self.inner.handle_message(ty, payload);
        if ty == types::LOCK_DEVICE {
            if let Some(ch) = self.channels.get_mut(index) {
                ch.sessions.clear();
            }
        }
        for r in replies {
            self.reply(index, session, r);
        }
    }
}
