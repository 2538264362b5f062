//! After SignTx: every signature is verified against its sighash and put into a new
//! PSBT; the device's serialized transaction is checked to be the PSBT's transaction.

use bitcoin::consensus::deserialize;
use bitcoin::psbt::Psbt;
use bitcoin::{ecdsa, taproot, EcdsaSighashType, TapSighashType, Transaction};

use crate::error::{Error, Result};
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::{self, InputSignature, Verifier};
use crate::protocol::psbt::signing::Signed;
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
            format!("the trezor's serialized transaction does not parse: {e}").to_lowercase(),
        )
    })?;
    // Compared without scriptSigs and witnesses, which signing fills in.
    let mut tx = device_tx.clone();
    for input in &mut tx.input {
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
