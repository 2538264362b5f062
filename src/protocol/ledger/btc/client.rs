//! The Ledger Bitcoin app's commands (protocol 2.1+, CLA 0xE1) as [`Request`]s.
//!
//! Each function builds the first APDU and what the host commits to, and returns a
//! request whose result is checked before it is handed out: xpubs decode and sit at the
//! asked depth, wallet ids match the policy, addresses match the host's own derivation,
//! and every signature verifies against its sighash before it is put into a new PSBT.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::key::{PublicKey, XOnlyPublicKey};
use bitcoin::{ecdsa, taproot, Network};

use crate::error::{Error, Result};
use crate::protocol::bytes::{to_hex, write_varint, Reader};
use crate::protocol::ledger::apdu::Command;
use crate::protocol::ledger::request::Request;
use crate::protocol::message::{with_header, MessageScript};
use crate::protocol::musig::fields::{self as musig_fields, Yielded};
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::{insert, InputSignature, Verifier};
use crate::protocol::psbt::signing::Signed;

use super::interpreter::Interpreter;
use super::merkle::Hash32;
use super::store::Store;
use crate::protocol::policy::{derive_address, WalletPolicy, NO_HMAC};

/// CLA of the Bitcoin app.
pub const CLA_BTC: u8 = 0xe1;
/// P2 of every command: the client protocol version.
pub const PROTOCOL_VERSION: u8 = 1;

/// Instruction bytes.
pub mod ins {
    /// GET_EXTENDED_PUBKEY.
    pub const GET_EXTENDED_PUBKEY: u8 = 0x00;
    /// REGISTER_WALLET.
    pub const REGISTER_WALLET: u8 = 0x02;
    /// GET_WALLET_ADDRESS.
    pub const GET_WALLET_ADDRESS: u8 = 0x03;
    /// SIGN_PSBT.
    pub const SIGN_PSBT: u8 = 0x04;
    /// GET_MASTER_FINGERPRINT.
    pub const GET_MASTER_FINGERPRINT: u8 = 0x05;
    /// SIGN_MESSAGE.
    pub const SIGN_MESSAGE: u8 = 0x10;
}

const MAX_PATH_DEPTH: usize = 8;

fn command(ins: u8, data: Vec<u8>) -> Command {
    Command::new(CLA_BTC, ins, 0, PROTOCOL_VERSION, data)
}

fn encode_path(path: &DerivationPath, out: &mut Vec<u8>) -> Result<()> {
    if path.len() > MAX_PATH_DEPTH {
        return Err(Error::invalid(
            "path",
            format!(
                "depth {} is over the {MAX_PATH_DEPTH} the app accepts",
                path.len()
            ),
        ));
    }
    out.push(path.len() as u8);
    for child in path {
        out.extend_from_slice(&u32::from(*child).to_be_bytes());
    }
    Ok(())
}

/// GET_EXTENDED_PUBKEY: the xpub at `path`, optionally shown on the device.
///
/// # Errors
/// `invalid-input` when the path is deeper than 8. The request fails with `protocol`
/// when the device's xpub does not decode or does not sit at `path`'s depth and index.
pub fn get_extended_pubkey(path: &DerivationPath, display: bool) -> Result<Request<Xpub>> {
    let mut data = vec![u8::from(display)];
    encode_path(path, &mut data)?;
    let path = path.clone();
    Ok(Request::new(
        command(ins::GET_EXTENDED_PUBKEY, data),
        None,
        move |data, _| {
            let text = String::from_utf8(data).map_err(|_| Error::protocol("xpub is not ascii"))?;
            let xpub = Xpub::from_str(&text)
                .map_err(|e| Error::protocol(format!("xpub does not decode: {e}")))?;
            let last = path
                .into_iter()
                .last()
                .copied()
                .unwrap_or(ChildNumber::Normal { index: 0 });
            if usize::from(xpub.depth) != path.len() || xpub.child_number != last {
                return Err(Error::protocol(format!(
                    "xpub is at depth {} child {}, expected depth {} child {}",
                    xpub.depth,
                    xpub.child_number,
                    path.len(),
                    last
                )));
            }
            Ok(xpub)
        },
    ))
}

/// GET_MASTER_FINGERPRINT.
pub fn get_master_fingerprint() -> Request<Fingerprint> {
    Request::new(
        command(ins::GET_MASTER_FINGERPRINT, vec![]),
        None,
        |data, _| {
            let bytes: [u8; 4] = data.as_slice().try_into().map_err(|_| {
                Error::protocol(format!("fingerprint of {} bytes, expected 4", data.len()))
            })?;
            Ok(Fingerprint::from(bytes))
        },
    )
}

/// The result of REGISTER_WALLET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// SHA-256 of the serialized policy.
    pub id: Hash32,
    /// The device's proof of registration, to pass with later commands.
    pub hmac: Hash32,
}

/// REGISTER_WALLET: the user approves `policy` on the device.
///
/// # Errors
/// The request fails with `protocol` when the device returns another wallet id.
pub fn register_wallet(policy: &WalletPolicy) -> Request<Registration> {
    let serialized = policy.serialize();
    let mut data = Vec::with_capacity(serialized.len() + 3);
    write_varint(&mut data, serialized.len() as u64);
    data.extend_from_slice(&serialized);
    let mut store = Store::new();
    policy.add_to(&mut store);
    let id = policy.id();
    Request::new(
        command(ins::REGISTER_WALLET, data),
        Some(Interpreter::new(store)),
        move |data, _| {
            let mut r = Reader::new(&data, "register_wallet reply");
            let got: Hash32 = r.array("wallet id")?;
            let hmac: Hash32 = r.array("hmac")?;
            r.finish()?;
            if got != id {
                return Err(Error::protocol(format!(
                    "wallet id {} is not the policy's {}",
                    to_hex(&got),
                    to_hex(&id)
                )));
            }
            Ok(Registration { id, hmac })
        },
    )
}

/// The network a policy's keys are for, from their xpub prefixes.
pub fn policy_network(policy: &WalletPolicy) -> Network {
    if policy.keys.iter().any(|k| k.contains("tpub")) {
        Network::Testnet
    } else {
        Network::Bitcoin
    }
}

/// GET_WALLET_ADDRESS: the address of `policy` at `change`/`index`, which must match
/// the host's own derivation.
///
/// # Errors
/// `invalid-input` when the host cannot derive the policy's address (a policy it
/// cannot parse, or one without an address form): the device's address could not be
/// checked, and is not asked for (see [`get_wallet_address_unverified`]). The request
/// fails with `protocol` when the device's address differs from the host's.
pub fn get_wallet_address(
    policy: &WalletPolicy,
    hmac: Option<&Hash32>,
    change: bool,
    index: u32,
    display: bool,
) -> Result<Request<String>> {
    let expected =
        derive_address(policy, change, index, policy_network(policy)).map_err(|e| match e {
            // An add-on this build lacks: said as it is.
            Error::Unsupported(_) => e,
            e => Error::invalid(
                "policy",
                format!(
                    "the host cannot derive its address to check the device's ({e}); allow \
                     unverified addresses to take the device's word for it"
                ),
            ),
        })?;
    Ok(wallet_address(
        policy,
        hmac,
        change,
        index,
        display,
        Some(expected),
    ))
}

/// GET_WALLET_ADDRESS for a caller that accepts an address the host cannot check: it
/// is still compared with the host's derivation where there is one, and is the
/// device's word only where there is none.
pub fn get_wallet_address_unverified(
    policy: &WalletPolicy,
    hmac: Option<&Hash32>,
    change: bool,
    index: u32,
    display: bool,
) -> Request<String> {
    let expected = derive_address(policy, change, index, policy_network(policy)).ok();
    wallet_address(policy, hmac, change, index, display, expected)
}

fn wallet_address(
    policy: &WalletPolicy,
    hmac: Option<&Hash32>,
    change: bool,
    index: u32,
    display: bool,
    expected: Option<String>,
) -> Request<String> {
    let mut data = vec![u8::from(display)];
    data.extend_from_slice(&policy.id());
    data.extend_from_slice(hmac.unwrap_or(&NO_HMAC));
    data.push(u8::from(change));
    data.extend_from_slice(&index.to_be_bytes());
    let mut store = Store::new();
    policy.add_to(&mut store);
    Request::new(
        command(ins::GET_WALLET_ADDRESS, data),
        Some(Interpreter::new(store)),
        move |data, _| {
            let address =
                String::from_utf8(data).map_err(|_| Error::protocol("address is not ascii"))?;
            if let Some(expected) = expected {
                if address != expected {
                    return Err(Error::protocol(format!(
                        "the device shows address {address}, the host derives {expected}"
                    )));
                }
            }
            Ok(address)
        },
    )
}

/// Parses one yielded signature: `varint input | len | pubkey[len] | signature`, or a
/// MuSig2 nonce or partial signature (see [`musig_fields::parse_yield`]).
///
/// # Errors
/// `protocol` when it is malformed.
pub fn parse_yielded_signature(bytes: &[u8]) -> Result<(usize, InputSignature)> {
    // App 2.4+: MuSig2 nonces and partial signatures start with a tag instead.
    if let Some(musig) = musig_fields::parse_yield(bytes) {
        return musig.map(|(index, y)| {
            let sig = match y {
                Yielded::PubNonce(session, nonce) => {
                    InputSignature::MusigPubNonce { session, nonce }
                }
                Yielded::PartialSig(session, sig) => {
                    InputSignature::MusigPartialSig { session, sig }
                }
            };
            (index, sig)
        });
    }
    let mut r = Reader::new(bytes, "yielded signature");
    let index = usize::try_from(r.varint("input index")?)
        .map_err(|_| Error::protocol("input index too large"))?;
    let key_len = usize::from(r.u8("key length")?);
    let key = r.bytes(key_len, "key")?;
    let sig = r.rest();
    let bad = |what: &str| Error::protocol(format!("input {index}: yielded {what}"));
    let parsed = match key_len {
        33 => InputSignature::Ecdsa {
            pubkey: PublicKey::from_slice(key).map_err(|_| bad("an invalid public key"))?,
            sig: ecdsa::Signature::from_slice(sig)
                .map_err(|_| bad("a malformed ecdsa signature"))?,
        },
        32 => InputSignature::TapKey {
            key: XOnlyPublicKey::from_slice(key).map_err(|_| bad("an invalid x-only key"))?,
            sig: taproot::Signature::from_slice(sig)
                .map_err(|_| bad("a malformed schnorr signature"))?,
        },
        64 => {
            let (xonly, leaf) = key.split_at(32);
            let leaf: [u8; 32] = leaf.try_into().map_err(|_| bad("a short leaf hash"))?;
            InputSignature::TapScript {
                key: XOnlyPublicKey::from_slice(xonly).map_err(|_| bad("an invalid x-only key"))?,
                leaf: bitcoin::hashes::Hash::from_byte_array(leaf),
                sig: taproot::Signature::from_slice(sig)
                    .map_err(|_| bad("a malformed schnorr signature"))?,
            }
        }
        n => return Err(bad(&format!("a key of {n} bytes (32, 33 or 64 expected)"))),
    };
    Ok((index, parsed))
}

/// What the device signs and what its answers go into: for a `musig()` policy, see
/// [`crate::protocol::musig::prepare`]; otherwise the caller's PSBT for both.
fn prepared(psbt: &RawPsbt, policy: &WalletPolicy) -> Result<(RawPsbt, RawPsbt)> {
    #[cfg(feature = "musig")]
    {
        let p = crate::protocol::musig::prepare(psbt, policy)?;
        Ok((p.base, p.to_device))
    }
    #[cfg(not(feature = "musig"))]
    {
        if policy.template.contains("musig(") {
            return Err(crate::protocol::musig::unsupported());
        }
        Ok((psbt.clone(), psbt.clone()))
    }
}

/// SIGN_PSBT: signs the inputs of `psbt` that `policy` can sign.
///
/// The caller's PSBT is only read. The result holds a new PSBT with every yielded
/// signature, each verified against its sighash first. With a `musig()` policy this is
/// one MuSig2 round (nonces, or partial signatures once every participant's nonce is
/// in the PSBT; see [`crate::protocol::musig`]), and the new PSBT also gets the
/// participant lists (BIP-373) the policy implies where they were missing.
///
/// # Errors
/// `invalid-input` when the PSBT cannot be converted. The request fails with
/// `protocol` naming the input when a signature does not verify, and when the device
/// yields more values than inputs times the policy's key placeholders.
pub fn sign_psbt(
    psbt: &RawPsbt,
    policy: &WalletPolicy,
    hmac: Option<&Hash32>,
) -> Result<Request<Signed>> {
    let (base, to_device) = prepared(psbt, policy)?;
    let (global, inputs, outputs) = to_device.to_v2_maps()?;
    let view = base.view()?;
    let mut store = Store::new();
    let global_commitment = store.add_map(&global);
    let input_commitments: Vec<Vec<u8>> = inputs.iter().map(|m| store.add_map(m)).collect();
    let output_commitments: Vec<Vec<u8>> = outputs.iter().map(|m| store.add_map(m)).collect();
    let inputs_root = store.add_list(&input_commitments);
    let outputs_root = store.add_list(&output_commitments);
    policy.add_to(&mut store);

    let mut data = global_commitment;
    write_varint(&mut data, inputs.len() as u64);
    data.extend_from_slice(&inputs_root);
    write_varint(&mut data, outputs.len() as u64);
    data.extend_from_slice(&outputs_root);
    data.extend_from_slice(&policy.id());
    data.extend_from_slice(hmac.unwrap_or(&NO_HMAC));

    // One signature (or MuSig2 nonce or partial signature) per input and key
    // placeholder of the policy (taproot: the key path and each leaf that holds one of
    // them) is all a device can have to yield.
    let placeholders = policy.template.matches('@').count().max(1);
    let max_yields = inputs.len().saturating_mul(placeholders);
    let original = base;
    Ok(Request::new(
        command(ins::SIGN_PSBT, data),
        Some(Interpreter::new(store).with_max_yields(max_yields)),
        move |_, yielded| {
            let mut verifier = Verifier::new(&view);
            let mut out = original;
            let mut signatures = Vec::with_capacity(yielded.len());
            for y in &yielded {
                let (index, sig) = parse_yielded_signature(y)?;
                verifier.verify(index, &sig)?;
                insert(&mut out, index, &sig)?;
                signatures.push((index, sig));
            }
            Ok(Signed {
                psbt: out,
                signatures,
                transaction: None,
            })
        },
    ))
}

/// SIGN_MESSAGE: a BIP-137 signature of `message` by the key at `path`, as base64,
/// its header set by the path's purpose (see [`crate::protocol::message`]; the app
/// itself always answers a p2pkh header).
///
/// # Errors
/// `invalid-input` when the path is deeper than 8. The request fails with `protocol`
/// when the reply is not a recoverable 65-byte signature of the message.
pub fn sign_message(path: &DerivationPath, message: &[u8]) -> Result<Request<String>> {
    let mut data = Vec::new();
    encode_path(path, &mut data)?;
    write_varint(&mut data, message.len() as u64);
    let chunks: Vec<&[u8]> = message.chunks(64).collect();
    let mut store = Store::new();
    let root = store.add_list(&chunks);
    data.extend_from_slice(&root);
    let msg_hash = message_hash(message);
    let script = MessageScript::for_path(path);
    Ok(Request::new(
        command(ins::SIGN_MESSAGE, data),
        Some(Interpreter::new(store)),
        move |data, _| {
            let sig = bitcoin::sign_message::MessageSignature::from_slice(&data)
                .map_err(|e| Error::protocol(format!("message signature does not decode: {e}")))?;
            let secp = bitcoin::secp256k1::Secp256k1::verification_only();
            sig.recover_pubkey(&secp, msg_hash)
                .map_err(|_| Error::protocol("message signature recovers no key"))?;
            let bytes = with_header(&data, script)?;
            Ok(bitcoin::base64::Engine::encode(
                &bitcoin::base64::engine::general_purpose::STANDARD,
                bytes,
            ))
        },
    ))
}

/// The BIP-137 hash of a message: `sha256d("\x18Bitcoin Signed Message:\n" || varint || message)`.
pub fn message_hash(message: &[u8]) -> bitcoin::hashes::sha256d::Hash {
    use bitcoin::hashes::{sha256d, Hash, HashEngine};
    let mut engine = sha256d::Hash::engine();
    engine.input(b"\x18Bitcoin Signed Message:\n");
    let mut len = Vec::new();
    write_varint(&mut len, message.len() as u64);
    engine.input(&len);
    engine.input(message);
    sha256d::Hash::from_engine(engine)
}
