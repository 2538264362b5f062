//! The simulated Trezor's key calls: GetPublicKey, GetAddress, SignMessage.

use crate::protocol::trezor::btc::keys::node_of;
use crate::protocol::trezor::btc::message;
use crate::protocol::trezor::messages::{
    self as msg, button, failure, Address, GetAddress, GetPublicKey, InputScriptType,
    MessageSignature, PublicKey, SignMessage, Success, VerifyMessage,
};
use crate::sim::confirm::Prompt;
use crate::sim::fault::Fault;
use crate::sim::seed::{Seed, FOREIGN_MNEMONIC};
use crate::sim::trezor::firmware::{failure_reply, Pending};
use crate::sim::trezor::keys::{self, path_of, Refusal};
use crate::sim::trezor::TrezorSim;

impl TrezorSim {
    pub(super) fn get_public_key(&mut self, m: GetPublicKey) -> Vec<(u16, Vec<u8>)> {
        match self.public_key(&m) {
            Ok(pk) => {
                let answer = msg::encode(&pk);
                if m.show_display == Some(true) {
                    self.confirm_then(
                        button::PUBLIC_KEY,
                        Prompt::Show(pk.xpub),
                        Pending::Reply(answer.0, answer.1),
                    )
                } else {
                    vec![answer]
                }
            }
            Err(r) => failure_reply(r),
        }
    }

    fn public_key(&self, m: &GetPublicKey) -> core::result::Result<PublicKey, Refusal> {
        if let Some(curve) = &m.ecdsa_curve_name {
            if curve != "secp256k1" {
                return Err((failure::DATA_ERROR, "Unsupported curve".into()));
            }
        }
        let coin = keys::coin_of(m.coin_name.as_deref())?;
        let mut address_n = m.address_n.clone();
        if self.faults.has(Fault::ForeignPubkey) {
            address_n.push(7);
        }
        let path = path_of(&address_n);
        let network = bitcoin::NetworkKind::from(coin.network());
        let own_fingerprint = self.seed.fingerprint();
        let mut root_fingerprint = own_fingerprint;
        let xpub = if self.faults.has(Fault::WrongFingerprint) {
            let foreign = Seed::from_mnemonic(FOREIGN_MNEMONIC, "").map_err(keys::refusal)?;
            let mut x = foreign.xpub(&path, network).map_err(keys::refusal)?;
            // Where hosts read the master fingerprint (the parent of m/0'), the liar
            // still says its own; elsewhere its keys carry the other seed's root.
            if m.address_n == [0x8000_0000] {
                x.parent_fingerprint = own_fingerprint;
            } else {
                root_fingerprint = foreign.fingerprint();
            }
            x
        } else {
            self.seed.xpub(&path, network).map_err(keys::refusal)?
        };
        let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
        Ok(PublicKey {
            node: Some(node_of(&xpub)),
            xpub: keys::xpub_string(&xpub, coin, st, m.ignore_xpub_magic == Some(true)),
            root_fingerprint: Some(u32::from_be_bytes(root_fingerprint.to_bytes())),
            descriptor: keys::descriptor(&self.seed, &path, &xpub, st),
        })
    }

    pub(super) fn get_address(&mut self, mut m: GetAddress) -> Vec<(u16, Vec<u8>)> {
        if self.faults.has(Fault::WrongAddress) {
            another_index(&mut m);
        }
        let address = keys::coin_of(m.coin_name.as_deref()).and_then(|coin| {
            let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
            if self.faults.has(Fault::ForeignPubkey) {
                // A key neither the path nor the multisig holds: ours at m/7.
                let key = keys::secret(&self.seed, &path_of(&[7]))?;
                let pk = bitcoin::CompressedPublicKey(key.public_key(self.seed.secp()));
                return keys::address_of(&bitcoin::ScriptBuf::new_p2wpkh(&pk.wpubkey_hash()), coin);
            }
            let spk =
                keys::script_pubkey(&self.seed, &path_of(&m.address_n), st, m.multisig.as_ref())?;
            keys::address_of(&spk, coin)
        });
        match address {
            Ok(address) => {
                let answer = msg::encode(&Address {
                    address: address.clone(),
                    mac: None,
                });
                if m.show_display == Some(true) {
                    self.confirm_then(
                        button::ADDRESS,
                        Prompt::Show(address),
                        Pending::Reply(answer.0, answer.1),
                    )
                } else {
                    vec![answer]
                }
            }
            Err(r) => failure_reply(r),
        }
    }

    pub(super) fn sign_message(&mut self, m: SignMessage) -> Vec<(u16, Vec<u8>)> {
        let signed = keys::coin_of(m.coin_name.as_deref()).and_then(|coin| {
            let st = m.script_type.unwrap_or(InputScriptType::SPENDADDRESS);
            let path = path_of(&m.address_n);
            let spk = keys::script_pubkey(&self.seed, &path, st, None)?;
            let address = keys::address_of(&spk, coin)?;
            let mut signed = m.message.clone();
            if self.faults.has(Fault::OtherSighash) {
                // The right key over another message.
                signed.push(b'!');
            }
            let mut signature = keys::sign_message(
                &self.seed,
                &path,
                st,
                m.no_script_type == Some(true),
                &signed,
            )?;
            if self.faults.has(Fault::BadSignature) {
                if let Some(last) = signature.last_mut() {
                    *last ^= 0x01;
                }
            }
            Ok(MessageSignature { address, signature })
        });
        match signed {
            Ok(sig) => {
                let text = String::from_utf8_lossy(&m.message).into_owned();
                let answer = msg::encode(&sig);
                self.confirm_then(
                    button::OTHER,
                    Prompt::SignMessage(text),
                    Pending::Reply(answer.0, answer.1),
                )
            }
            Err(r) => failure_reply(r),
        }
    }

    pub(super) fn verify_message(&mut self, m: VerifyMessage) -> Vec<(u16, Vec<u8>)> {
        let checked = keys::coin_of(m.coin_name.as_deref()).and_then(|coin| {
            message::check_signature(&m.address, &m.signature, &m.message, coin)
                .map_err(|_| (failure::DATA_ERROR, "Invalid signature".to_string()))
        });
        match checked {
            Ok(()) => {
                let answer = msg::encode(&Success {
                    message: Some("Message verified".into()),
                });
                let text = String::from_utf8_lossy(&m.message).into_owned();
                self.confirm_then(
                    button::OTHER,
                    Prompt::Show(format!("{}: {text}", m.address)),
                    Pending::Reply(answer.0, answer.1),
                )
            }
            Err(r) => failure_reply(r),
        }
    }
}

/// Moves an address request to the neighbouring index (fault `WrongAddress`): the
/// last step of its path, and of its multisig's paths, with the last bit flipped.
fn another_index(m: &mut GetAddress) {
    let flip = |path: &mut Vec<u32>| {
        if let Some(last) = path.last_mut() {
            *last ^= 1;
        }
    };
    flip(&mut m.address_n);
    if let Some(ms) = m.multisig.as_mut() {
        flip(&mut ms.address_n);
        for p in &mut ms.pubkeys {
            flip(&mut p.address_n);
        }
    }
}
