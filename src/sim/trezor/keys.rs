//! What the simulated Trezor derives: xpubs (with SLIP-132 magic), descriptors,
//! single-key and multisig scripts and addresses, message signatures.

use bitcoin::base58;
use bitcoin::bip32::{ChildNumber, DerivationPath, Xpub};
use bitcoin::key::{CompressedPublicKey, TapTweak};
use bitcoin::secp256k1::{Message, SecretKey};
use bitcoin::{Address, Network, NetworkKind, PublicKey, ScriptBuf};

use crate::error::{Error, Result};
use crate::protocol::trezor::btc::keys::{xpub_of, Coin};
use crate::protocol::trezor::btc::message::message_digest;
use crate::protocol::trezor::messages::{
    InputScriptType, MultisigPubkeysOrder, MultisigRedeemScriptType,
};
use crate::sim::seed::Seed;

/// A firmware-style refusal: (Failure code, message).
pub type Refusal = (i32, String);

fn data_error(text: impl Into<String>) -> Refusal {
    (
        crate::protocol::trezor::messages::failure::DATA_ERROR,
        text.into(),
    )
}

/// The path of an `address_n`.
pub fn path_of(address_n: &[u32]) -> DerivationPath {
    address_n.iter().map(|n| ChildNumber::from(*n)).collect()
}

/// The coin of a `coin_name` (default Bitcoin).
///
/// # Errors
/// DataError for other coins.
pub fn coin_of(name: Option<&str>) -> Result<Coin, Refusal> {
    Coin::from_name(name.unwrap_or("Bitcoin")).map_err(|_| data_error("Invalid coin name"))
}

/// The xpub string the firmware returns: SLIP-132 ypub/zpub (upub/vpub) for nested and
/// native segwit unless `ignore_magic`; xpub/tpub otherwise.
pub fn xpub_string(xpub: &Xpub, coin: Coin, script_type: i32, ignore_magic: bool) -> String {
    let main = coin == Coin::Bitcoin;
    let version: Option<[u8; 4]> = match (ignore_magic, script_type, main) {
        (false, InputScriptType::SPENDP2SHWITNESS, true) => Some([0x04, 0x9d, 0x7c, 0xb2]),
        (false, InputScriptType::SPENDP2SHWITNESS, false) => Some([0x04, 0x4a, 0x52, 0x62]),
        (false, InputScriptType::SPENDWITNESS, true) => Some([0x04, 0xb2, 0x47, 0x46]),
        (false, InputScriptType::SPENDWITNESS, false) => Some([0x04, 0x5f, 0x1c, 0xf6]),
        _ => None,
    };
    match version {
        None => xpub.to_string(),
        Some(v) => {
            let mut data = xpub.encode();
            data[..4].copy_from_slice(&v);
            base58::encode_check(&data)
        }
    }
}

/// The account descriptor the firmware adds to PublicKey.
pub fn descriptor(
    seed: &Seed,
    path: &DerivationPath,
    xpub: &Xpub,
    script_type: i32,
) -> Option<String> {
    let origin: String = path
        .into_iter()
        .map(|c| match c {
            ChildNumber::Hardened { index } => format!("/{index}h"),
            ChildNumber::Normal { index } => format!("/{index}"),
        })
        .collect();
    let key = format!("[{}{origin}]{xpub}/<0;1>/*", seed.fingerprint());
    let body = match script_type {
        InputScriptType::SPENDADDRESS => format!("pkh({key})"),
        InputScriptType::SPENDP2SHWITNESS => format!("sh(wpkh({key}))"),
        InputScriptType::SPENDWITNESS => format!("wpkh({key})"),
        InputScriptType::SPENDTAPROOT => format!("tr({key})"),
        _ => return None,
    };
    let mut engine = miniscript::descriptor::checksum::Engine::new();
    engine.input(&body).ok()?;
    Some(format!("{body}#{}", engine.checksum()))
}

/// The public keys of a multisig description, in script order.
///
/// # Errors
/// DataError for malformed nodes or a threshold out of range.
pub fn multisig_pubkeys(
    seed: &Seed,
    ms: &MultisigRedeemScriptType,
) -> Result<Vec<PublicKey>, Refusal> {
    let secp = seed.secp();
    let derive = |node, path: &[u32]| -> Result<PublicKey, Refusal> {
        let xpub =
            xpub_of(node, NetworkKind::Main).map_err(|_| data_error("Invalid multisig node"))?;
        let child = xpub
            .derive_pub(secp, &path_of(path))
            .map_err(|_| data_error("Invalid multisig path"))?;
        Ok(PublicKey::new(child.public_key))
    };
    let mut keys: Vec<PublicKey> = if !ms.nodes.is_empty() {
        ms.nodes
            .iter()
            .map(|n| derive(n, &ms.address_n))
            .collect::<Result<_, _>>()?
    } else {
        ms.pubkeys
            .iter()
            .map(|p| {
                let node = p.node.as_ref().ok_or_else(|| data_error("Missing node"))?;
                derive(node, &p.address_n)
            })
            .collect::<Result<_, _>>()?
    };
    if ms.m == 0 || ms.m as usize > keys.len() || keys.len() > 15 {
        return Err(data_error("Invalid multisig parameters"));
    }
    if ms.pubkeys_order == Some(MultisigPubkeysOrder::LEXICOGRAPHIC) {
        keys.sort_by_key(|k| k.to_bytes());
    }
    Ok(keys)
}

/// `OP_m <keys> OP_n OP_CHECKMULTISIG`.
pub fn multisig_script(m: u32, keys: &[PublicKey]) -> ScriptBuf {
    let mut b = bitcoin::script::Builder::new().push_int(i64::from(m));
    for k in keys {
        b = b.push_key(k);
    }
    b.push_int(keys.len() as i64)
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script()
}

/// The scriptPubKey of `script_type` for the key at `path` (or for `multisig`, which
/// must contain that key).
///
/// # Errors
/// DataError for an unknown script type or a multisig without our key.
pub fn script_pubkey(
    seed: &Seed,
    path: &DerivationPath,
    script_type: i32,
    multisig: Option<&MultisigRedeemScriptType>,
) -> Result<ScriptBuf, Refusal> {
    let secp = seed.secp();
    let key = CompressedPublicKey(
        seed.public_key(path)
            .map_err(|_| data_error("Invalid path"))?,
    );
    if let Some(ms) = multisig {
        let keys = multisig_pubkeys(seed, ms)?;
        if !keys.iter().any(|k| k.inner == key.0) {
            return Err(data_error("Pubkey not found in multisig script"));
        }
        let script = multisig_script(ms.m, &keys);
        return match script_type {
            InputScriptType::SPENDADDRESS | InputScriptType::SPENDMULTISIG => Ok(script.to_p2sh()),
            InputScriptType::SPENDWITNESS => Ok(script.to_p2wsh()),
            InputScriptType::SPENDP2SHWITNESS => Ok(script.to_p2wsh().to_p2sh()),
            _ => Err(data_error("Invalid script type for multisig")),
        };
    }
    match script_type {
        InputScriptType::SPENDADDRESS => Ok(ScriptBuf::new_p2pkh(&key.pubkey_hash())),
        InputScriptType::SPENDWITNESS => Ok(ScriptBuf::new_p2wpkh(&key.wpubkey_hash())),
        InputScriptType::SPENDP2SHWITNESS => {
            Ok(ScriptBuf::new_p2wpkh(&key.wpubkey_hash()).to_p2sh())
        }
        InputScriptType::SPENDTAPROOT => {
            let (xonly, _) = key.0.x_only_public_key();
            Ok(ScriptBuf::new_p2tr(secp, xonly, None))
        }
        _ => Err(data_error("Invalid script type")),
    }
}

/// The address of a script for `coin`.
///
/// # Errors
/// DataError when the script has no address.
pub fn address_of(script: &ScriptBuf, coin: Coin) -> Result<String, Refusal> {
    Address::from_script(script, coin.network())
        .map(|a| a.to_string())
        .map_err(|_| data_error("Script has no address"))
}

/// The script of an address of `coin`.
///
/// # Errors
/// DataError for an address of another network or an unreadable one.
pub fn script_of_address(address: &str, coin: Coin) -> Result<ScriptBuf, Refusal> {
    let network: Network = coin.network();
    address
        .parse::<Address<bitcoin::address::NetworkUnchecked>>()
        .ok()
        .and_then(|a| a.require_network(network).ok())
        .map(|a| a.script_pubkey())
        .ok_or_else(|| data_error("Invalid address"))
}

/// The private key at `path`.
///
/// # Errors
/// DataError for a path that cannot be derived.
pub fn secret(seed: &Seed, path: &DerivationPath) -> Result<SecretKey, Refusal> {
    seed.xpriv(path)
        .map(|x| x.private_key)
        .map_err(|_| data_error("Invalid path"))
}

/// The BIP-86 tweaked keypair of the key at `path`.
///
/// # Errors
/// DataError for a path that cannot be derived.
pub fn taproot_keypair(
    seed: &Seed,
    path: &DerivationPath,
) -> Result<bitcoin::key::Keypair, Refusal> {
    let sk = secret(seed, path)?;
    let kp = bitcoin::key::Keypair::from_secret_key(seed.secp(), &sk);
    Ok(kp.tap_tweak(seed.secp(), None).to_keypair())
}

/// A BIP-137 message signature as the firmware makes it.
///
/// # Errors
/// DataError for a path that cannot be derived or an unsupported script type.
pub fn sign_message(
    seed: &Seed,
    path: &DerivationPath,
    script_type: i32,
    no_script_type: bool,
    message: &[u8],
) -> Result<Vec<u8>, Refusal> {
    let sk = secret(seed, path)?;
    let msg = Message::from_digest(message_digest(message));
    let sig = seed.secp().sign_ecdsa_recoverable(&msg, &sk);
    let (recid, rs) = sig.serialize_compact();
    let offset = match (no_script_type, script_type) {
        (true, _) | (false, InputScriptType::SPENDADDRESS) => 0,
        (false, InputScriptType::SPENDP2SHWITNESS) => 4,
        (false, InputScriptType::SPENDWITNESS) => 8,
        _ => return Err(data_error("Unsupported script type")),
    };
    let mut out = vec![27 + 4 + offset + recid.to_i32() as u8];
    out.extend_from_slice(&rs);
    Ok(out)
}

/// Maps an error of the crate to a firmware refusal.
pub fn refusal(e: Error) -> Refusal {
    data_error(e.to_string())
}
