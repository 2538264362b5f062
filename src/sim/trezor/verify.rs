//! Checking signatures the simulated Trezor is given, as the firmware does
//! (`verification.py`): those of already signed external inputs, of the replaced
//! transaction's input, and of ownership proofs. The scriptSig and witness are read
//! for the scriptPubKey they spend (P2PKH, P2WPKH, P2WPKH in P2SH, P2WSH multisig,
//! taproot key path); the caller computes the digest for the kind of spend found.

use bitcoin::consensus::deserialize;
use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::key::XOnlyPublicKey;
use bitcoin::script::Instruction;
use bitcoin::secp256k1::{ecdsa, schnorr, Message};
use bitcoin::{PublicKey, Script, ScriptBuf, Witness};

use crate::protocol::trezor::messages::failure;
use crate::sim::seed::Seed;
use crate::sim::trezor::keys::Refusal;

/// How an input is spent, and with which keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spend {
    /// Legacy: the digest signs the scriptPubKey as the script code.
    Legacy(Sigs),
    /// Segwit v0 with this script code (P2WPKH: the P2PKH script of the key; P2WSH:
    /// the witness script).
    SegwitV0(ScriptBuf, Sigs),
    /// Taproot key path by this output key.
    Taproot(XOnlyPublicKey, schnorr::Signature),
}

/// ECDSA signatures (SIGHASH_ALL, without the sighash byte) and the keys that must
/// have made `threshold` of them, in order (as OP_CHECKMULTISIG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sigs {
    keys: Vec<PublicKey>,
    sigs: Vec<ecdsa::Signature>,
    threshold: usize,
}

fn data_error<T>(text: &str) -> Result<T, Refusal> {
    Err((failure::DATA_ERROR, text.to_string()))
}

fn pushes(script: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    Script::from_bytes(script)
        .instructions_minimal()
        .map(|i| match i {
            Ok(Instruction::PushBytes(b)) => Ok(b.as_bytes().to_vec()),
            Ok(Instruction::Op(op)) if op.to_u8() == 0 => Ok(Vec::new()),
            _ => data_error("Invalid scriptSig."),
        })
        .collect()
}

fn signature(bytes: &[u8]) -> Result<ecdsa::Signature, Refusal> {
    let Some((&hash_type, der)) = bytes.split_last() else {
        return data_error("Invalid signature");
    };
    if hash_type != 0x01 {
        return data_error("Unsupported sighash type.");
    }
    let mut sig =
        ecdsa::Signature::from_der_lax(der).or_else(|_| data_error("Invalid signature"))?;
    sig.normalize_s();
    Ok(sig)
}

fn key(bytes: &[u8]) -> Result<PublicKey, Refusal> {
    PublicKey::from_slice(bytes).or_else(|_| data_error("Invalid public key"))
}

/// One signature by one key: `[sig, pubkey]` whose key hashes to `hash`.
fn single(items: &[Vec<u8>], hash: &[u8]) -> Result<Sigs, Refusal> {
    let [sig, pk] = items else {
        return data_error("Invalid witness.");
    };
    let key = key(pk)?;
    if hash160::Hash::hash(&key.to_bytes()).as_byte_array() != hash {
        return data_error("Invalid public key hash");
    }
    Ok(Sigs {
        keys: vec![key],
        sigs: vec![signature(sig)?],
        threshold: 1,
    })
}

/// `OP_0 <sigs> <script>` spending a bare multisig `script`.
fn multisig(items: &[Vec<u8>]) -> Result<(ScriptBuf, Sigs), Refusal> {
    let Some((script, rest)) = items.split_last() else {
        return data_error("Invalid witness.");
    };
    let script = ScriptBuf::from_bytes(script.clone());
    let Some((m, keys)) = crate::protocol::trezor::btc::multisig::multisig_of(&script) else {
        return data_error("Unsupported multisig script.");
    };
    let Some((dummy, sigs)) = rest.split_first() else {
        return data_error("Invalid witness.");
    };
    if !dummy.is_empty() {
        return data_error("Invalid witness.");
    }
    let sigs = sigs
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| signature(s))
        .collect::<Result<_, _>>()?;
    Ok((
        script,
        Sigs {
            keys,
            sigs,
            threshold: m as usize,
        },
    ))
}

/// Reads how `script_pubkey` is spent by `script_sig` and the serialized `witness`.
///
/// # Errors
/// DataError for an unsupported script or a scriptSig or witness that does not match
/// it.
pub fn parse(script_pubkey: &[u8], script_sig: &[u8], witness: &[u8]) -> Result<Spend, Refusal> {
    let spk = Script::from_bytes(script_pubkey);
    let items: Vec<Vec<u8>> = if witness.is_empty() {
        Vec::new()
    } else {
        deserialize::<Witness>(witness)
            .or_else(|_| data_error("Invalid witness."))?
            .to_vec()
    };
    let program = spk.as_bytes();
    // The witness program (or script hash) after the version and push bytes.
    let tail = program.get(2..).unwrap_or_default();
    if spk.is_p2pkh() {
        if !items.is_empty() {
            return data_error("Unexpected witness.");
        }
        let hash = program.get(3..23).unwrap_or_default();
        return Ok(Spend::Legacy(single(&pushes(script_sig)?, hash)?));
    }
    if spk.is_p2wpkh() {
        if !script_sig.is_empty() {
            return data_error("Unexpected scriptSig.");
        }
        let hash = program.get(2..22).unwrap_or_default();
        let sigs = single(&items, hash)?;
        let code = ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(
            hash.try_into().unwrap_or_default(),
        ));
        return Ok(Spend::SegwitV0(code, sigs));
    }
    if spk.is_p2wsh() {
        if !script_sig.is_empty() {
            return data_error("Unexpected scriptSig.");
        }
        let (script, sigs) = multisig(&items)?;
        if sha256::Hash::hash(script.as_bytes()).as_byte_array()[..] != *tail {
            return data_error("Invalid script hash");
        }
        return Ok(Spend::SegwitV0(script, sigs));
    }
    if spk.is_p2tr() {
        if !script_sig.is_empty() {
            return data_error("Unexpected scriptSig.");
        }
        let [sig] = items.as_slice() else {
            return data_error("Unsupported witness.");
        };
        if sig.len() != 64 {
            return data_error("Unsupported sighash type.");
        }
        let key = XOnlyPublicKey::from_slice(tail).or_else(|_| data_error("Invalid public key"))?;
        let sig =
            schnorr::Signature::from_slice(sig).or_else(|_| data_error("Invalid signature"))?;
        return Ok(Spend::Taproot(key, sig));
    }
    if spk.is_p2sh() {
        let hash = program.get(2..22).unwrap_or_default();
        let script_sig_items = pushes(script_sig)?;
        if items.is_empty() {
            let (script, sigs) = multisig(&script_sig_items)?;
            if hash160::Hash::hash(script.as_bytes()).as_byte_array()[..] != *hash {
                return data_error("Invalid script hash");
            }
            return Ok(Spend::Legacy(sigs));
        }
        let [inner] = script_sig_items.as_slice() else {
            return data_error("Invalid scriptSig.");
        };
        let inner_spk = Script::from_bytes(inner);
        let inner_tail = inner.get(2..).unwrap_or_default();
        let spend = if inner_spk.is_p2wpkh() {
            let sigs = single(&items, inner_tail)?;
            let code = ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::from_byte_array(
                inner_tail.try_into().unwrap_or_default(),
            ));
            Spend::SegwitV0(code, sigs)
        } else if inner_spk.is_p2wsh() {
            let (script, sigs) = multisig(&items)?;
            if sha256::Hash::hash(script.as_bytes()).as_byte_array()[..] != *inner_tail {
                return data_error("Invalid script hash");
            }
            Spend::SegwitV0(script, sigs)
        } else {
            return data_error("Unsupported script type.");
        };
        if hash160::Hash::hash(inner).as_byte_array()[..] != *hash {
            return data_error("Invalid script hash");
        }
        return Ok(spend);
    }
    data_error("Unsupported script type.")
}

/// Checks the signatures of `spend` over `digest`.
///
/// # Errors
/// DataError "Invalid signature" when fewer than the threshold verify.
pub fn check(seed: &Seed, spend: &Spend, digest: [u8; 32]) -> Result<(), Refusal> {
    let secp = seed.secp();
    let msg = Message::from_digest(digest);
    let ok = match spend {
        Spend::Legacy(s) | Spend::SegwitV0(_, s) => {
            // In order, as OP_CHECKMULTISIG: each signature by a later key than the last.
            let mut keys = s.keys.iter();
            let mut good = 0;
            for sig in &s.sigs {
                if keys.any(|k| secp.verify_ecdsa(&msg, sig, &k.inner).is_ok()) {
                    good += 1;
                } else {
                    break;
                }
            }
            good >= s.threshold && s.sigs.len() >= s.threshold
        }
        Spend::Taproot(key, sig) => secp.verify_schnorr(sig, &msg, key).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        data_error("Invalid signature")
    }
}
