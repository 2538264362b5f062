//! `signtx` on a Trezor, HWI's way.

use futures::executor::block_on;

use super::{is_p2pkh, is_p2sh, is_p2wsh, is_witness, parse_multisig, raw, utxo_checked};
use crate::cli::hwi::client::Client;
use crate::cli::hwi::errors::{self, HwiError};
use crate::cli::hwi::psbt::Psbt;
use crate::device::SignOptions;
use crate::protocol::psbt::signature::InputSignature;

/// Signs on a Trezor, HWI's way.
///
/// # Errors
/// HWI's errors for PSBTs it refuses; the device's.
pub fn trezor(client: &mut Client, psbt: &Psbt) -> Result<Psbt, HwiError> {
    crate::cli::hwi::commands::trezor_check_unlocked(client)?;
    let master = crate::cli::hwi::commands::master_fingerprint(client)?.to_bytes();
    let testnet = client.chain.is_test();
    // Which inputs HWI would send, and which it refuses.
    let mut to_ignore: Vec<usize> = Vec::new();
    let mut ours: Vec<usize> = Vec::new();
    for (n, input) in psbt.inputs.iter().enumerate() {
        let Some(utxo) = utxo_checked(input, n)? else {
            continue;
        };
        let mut script = utxo.script_pubkey.to_bytes();
        if is_p2sh(&script) {
            if input.redeem_script.is_empty() {
                continue;
            }
            script = input.redeem_script.clone();
        }
        let (wit, ver, _) = is_witness(&script);
        let p2wsh = is_p2wsh(&script);
        if p2wsh {
            if input.witness_script.is_empty() {
                continue;
            }
            script = input.witness_script.clone();
        }
        let multisig = parse_multisig(&script).is_some();
        if multisig && !wit && !is_p2sh(utxo.script_pubkey.as_bytes()) {
            return Err(HwiError::bad_argument("Cannot sign bare multisig"));
        } else if !multisig && !wit && !is_p2pkh(&script) {
            return Err(HwiError::bad_argument("Cannot sign unknown scripts"));
        } else if !multisig && wit && p2wsh {
            return Err(HwiError::bad_argument(
                "Cannot sign unknown witness versions",
            ));
        }
        let schnorr = wit && ver == 1;
        let (found, found_in_sigs, our_keys) = if schnorr {
            let mine = input
                .tap_bip32_paths
                .iter()
                .any(|(k, _, o)| *k == input.tap_internal_key && o.fingerprint == master);
            (mine, !input.tap_key_sig.is_empty(), usize::from(mine))
        } else if wit && ver > 1 {
            (false, false, 0)
        } else {
            let mut found = false;
            let mut in_sigs = false;
            let mut count = 0;
            for (k, o) in &input.hd_keypaths {
                if o.fingerprint != master {
                    continue;
                }
                if input.partial_sigs.iter().any(|(pk, _)| pk == k) {
                    in_sigs = true;
                    continue;
                }
                found = true;
                count += 1;
            }
            (found, in_sigs, count)
        };
        if our_keys > 1 {
            return Err(HwiError::unavailable(
                "signing one input with several keys of this device (HWI's multi-pass signing) is not supported by this hwi",
            ));
        }
        if !found && !found_in_sigs {
            return Err(HwiError::bad_argument("Cannot sign external inputs"));
        } else if !found {
            to_ignore.push(n);
        }
        ours.push(n);
    }
    for output in &psbt.outputs {
        let script = bitcoin::ScriptBuf::from_bytes(output.script.clone());
        let (wit, _, _) = is_witness(&output.script);
        if !(wit || script.is_p2pkh() || script.is_p2sh() || script.is_op_return()) {
            return Err(HwiError::bad_argument("Output is not an address"));
        }
    }
    let raw = raw(psbt)?;
    let network = if testnet {
        bitcoin::Network::Testnet
    } else {
        bitcoin::Network::Bitcoin
    };
    let options = SignOptions::default().with_network(network);
    let t = client
        .device
        .as_trezor()
        .ok_or_else(|| HwiError::other("not a trezor"))?;
    let signed =
        block_on(t.sign_psbt(&raw, &options)).map_err(|e| errors::trezor(&e, "sign_tx"))?;
    let mut out = psbt.clone();
    for (index, sig) in signed.signatures {
        if to_ignore.contains(&index) || !ours.contains(&index) {
            continue;
        }
        let Some(target) = out.inputs.get_mut(index) else {
            continue;
        };
        match sig {
            InputSignature::Ecdsa { sig, .. } => {
                let bytes = sig.serialize().to_vec();
                let key = target
                    .hd_keypaths
                    .iter()
                    .find(|(k, o)| {
                        o.fingerprint == master
                            && !target.partial_sigs.iter().any(|(pk, _)| pk == k)
                    })
                    .map(|(k, _)| k.clone());
                if let Some(k) = key {
                    target.partial_sigs.push((k, bytes));
                }
            }
            InputSignature::TapKey { sig, .. } | InputSignature::TapScript { sig, .. }
                if !target.tap_internal_key.is_empty() && target.tap_key_sig.is_empty() =>
            {
                target.tap_key_sig = sig.serialize().to_vec();
            }
            // A Trezor does no MuSig2.
            _ => {}
        }
    }
    Ok(out)
}
