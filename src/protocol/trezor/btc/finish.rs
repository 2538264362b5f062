//! After SignTx: every signature is verified against its sighash and put into a new
//! PSBT; the device's serialized transaction is checked to be the PSBT's transaction.

use bitcoin::blockdata::script::Instruction;
use bitcoin::consensus::deserialize;
use bitcoin::{ecdsa, taproot, CompressedPublicKey, EcdsaSighashType, TapSighashType, Transaction};

use crate::error::{Error, Result};
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::{self, InputSignature, Verifier};
use crate::protocol::psbt::signing::Signed;
use crate::protocol::psbt::view::Psbt;
use crate::protocol::trezor::btc::plan::{Plan, Signer};
use crate::protocol::trezor::btc::sign_tx::SignTxResult;

fn lie(index: usize, what: &str) -> Error {
    Error::protocol(format!("input {index}: the trezor returned {what}"))
}

/// Verifies `result` against `psbt` and builds the signed copy of `raw`.
///
/// # Errors
/// `protocol` naming the input when a signature is missing, malformed or does not
/// verify, or when the serialized transaction is not the PSBT's.
pub fn finish(raw: &RawPsbt, psbt: &Psbt, plan: &Plan, result: SignTxResult) -> Result<Signed> {
    let mut verifier = Verifier::new(psbt);
    let mut signed = raw.clone();
    let mut signatures = Vec::new();
    for (index, signer) in plan.signers.iter().enumerate() {
        let given = result.signatures.get(index).and_then(|s| s.as_deref());
        let Some(signer) = signer else {
            // An external input: the device does not sign it, and the PSBT keeps what
            // it has for it.
            if given.is_some() {
                return Err(lie(index, "a signature for an input it does not own"));
            }
            continue;
        };
        let bytes = given.ok_or_else(|| lie(index, "no signature"))?;
        let sig = match signer {
            Signer::Ecdsa(pubkey) => {
                let signature = bitcoin::secp256k1::ecdsa::Signature::from_der(bytes)
                    .map_err(|_| lie(index, "a signature that is not der"))?;
                InputSignature::Ecdsa {
                    pubkey: *pubkey,
                    sig: ecdsa::Signature {
                        signature,
                        sighash_type: EcdsaSighashType::All,
                    },
                }
            }
            Signer::TapKey(key) => {
                let signature = bitcoin::secp256k1::schnorr::Signature::from_slice(bytes)
                    .map_err(|_| lie(index, "a schnorr signature that is not 64 bytes"))?;
                InputSignature::TapKey {
                    key: *key,
                    sig: taproot::Signature {
                        signature,
                        sighash_type: TapSighashType::Default,
                    },
                }
            }
        };
        verifier.verify(index, &sig)?;
        signature::insert(&mut signed, index, &sig)?;
        signatures.push((index, sig));
    }
    let device_tx: Transaction = deserialize(&result.serialized_tx).map_err(|e| {
        Error::protocol(
            format!("the trezor's serialized transaction does not parse: {e}").to_ascii_lowercase(),
        )
    })?;
    // What signing filled in holds only the verified signatures and what the PSBT gives;
    // then the rest is compared without it.
    let mut tx = device_tx.clone();
    for (index, input) in tx.input.iter_mut().enumerate() {
        let spent = psbt.inputs.get(index);
        match (spent, signatures.iter().find(|(i, _)| *i == index)) {
            (Some(spent), Some((_, sig))) => check_filled_in(index, spent, sig, input)?,
            // An external input goes out with exactly what the PSBT gives for it.
            (Some(spent), None) => {
                let script_sig = spent.final_script_sig.clone().unwrap_or_default();
                let witness = spent.final_script_witness.clone().unwrap_or_default();
                if input.script_sig != script_sig || input.witness != witness {
                    return Err(lie(
                        index,
                        "another scriptsig or witness than the psbt gives for this external input",
                    ));
                }
            }
            (None, _) => {}
        }
        input.script_sig = bitcoin::ScriptBuf::new();
        input.witness = bitcoin::Witness::new();
    }
    if tx != psbt.unsigned_tx {
        return Err(Error::protocol(
            "the trezor serialized another transaction than the psbt's",
        ));
    }
    Ok(Signed {
        psbt: signed,
        signatures,
        transaction: Some(device_tx),
    })
}

/// Checks that the scriptSig (push-only) and witness of a signed input are made of the
/// verified signature and what the PSBT gives (its keys, partial signatures, redeem and
/// witness scripts, the P2WPKH program of the signing key, the empty push of multisig):
/// a byte the device changed there would otherwise go out with the transaction.
fn check_filled_in(
    index: usize,
    spent: &crate::protocol::psbt::view::Input,
    sig: &InputSignature,
    input: &bitcoin::TxIn,
) -> Result<()> {
    let ours = match sig {
        InputSignature::Ecdsa { sig, .. } => sig.to_vec(),
        InputSignature::TapKey { sig, .. } | InputSignature::TapScript { sig, .. } => sig.to_vec(),
        // A Trezor does no MuSig2: nothing of it can be filled in.
        _ => return Err(lie(index, "a kind of signature a trezor does not make")),
    };
    let mut given: Vec<Vec<u8>> = vec![Vec::new(), ours.clone()];
    given.extend(
        spent
            .bip32_derivation
            .keys()
            .map(|k| k.serialize().to_vec()),
    );
    given.extend(spent.partial_sigs.values().map(|s| s.to_vec()));
    given.extend(spent.redeem_script.iter().map(|s| s.to_bytes()));
    given.extend(spent.witness_script.iter().map(|s| s.to_bytes()));
    if let InputSignature::Ecdsa { pubkey, .. } = sig {
        if let Ok(key) = CompressedPublicKey::try_from(*pubkey) {
            given.push(bitcoin::ScriptBuf::new_p2wpkh(&key.wpubkey_hash()).to_bytes());
        }
    }
    let mut filled = Vec::new();
    for instruction in input.script_sig.instructions() {
        match instruction {
            Ok(Instruction::PushBytes(b)) => filled.push(b.as_bytes().to_vec()),
            _ => return Err(lie(index, "a scriptsig that is not push-only")),
        }
    }
    filled.extend(input.witness.iter().map(<[u8]>::to_vec));
    if !filled.contains(&ours) {
        return Err(lie(index, "a transaction without its signature"));
    }
    if filled.iter().any(|b| !given.contains(b)) {
        return Err(lie(
            index,
            "a transaction whose scriptsig or witness holds bytes the psbt does not give",
        ));
    }
    Ok(())
}
