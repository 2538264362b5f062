//! `signtx` as HWI does it on each vendor: which inputs it signs and with which
//! wallet, which PSBTs it refuses (and with which words), and where it puts the
//! signatures. The signing itself (and the check of every signature against its
//! sighash) is the crate's.
//!
//! - Ledger: HWI registers nothing it does not have to: each input's key with a
//!   standard BIP-44/49/84/86 path for `--chain` gives the standard policy of its
//!   account; a multisig input whose keys' xpubs are in the PSBT gives a
//!   `sortedmulti` policy, registered on the device. Taproot first, then segwit,
//!   nested segwit, legacy.
//! - Trezor: every input must be the device's (firmware without external inputs),
//!   outputs must be addresses; signatures go to the input's first key of the device
//!   that has none yet (a taproot one to the key-path signature).

use futures::executor::block_on;

mod trezor;

pub use trezor::trezor;

use crate::cli::hwi::args::AddrType;
use crate::cli::hwi::client::Client;
use crate::cli::hwi::errors::{self, HwiError, Ins};
use crate::cli::hwi::keys::{is_standard_path, HARDENED};
use crate::cli::hwi::psbt::Psbt;
use crate::device::SignOptions;
use crate::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::InputSignature;

pub(super) fn is_p2sh(s: &[u8]) -> bool {
    s.len() == 23 && s.first() == Some(&0xa9) && s.get(1) == Some(&0x14) && s.get(22) == Some(&0x87)
}

pub(super) fn is_p2pkh(s: &[u8]) -> bool {
    s.len() == 25
        && s.get(..3) == Some(&[0x76, 0xa9, 0x14][..])
        && s.get(23..) == Some(&[0x88, 0xac][..])
}

/// HWI's `is_witness`: (is witness, version, program).
pub(super) fn is_witness(s: &[u8]) -> (bool, u8, &[u8]) {
    if s.len() < 4 || s.len() > 42 {
        return (false, 0, &[]);
    }
    let first = s.first().copied().unwrap_or(0xff);
    if first != 0 && !(81..=96).contains(&first) {
        return (false, 0, &[]);
    }
    if usize::from(s.get(1).copied().unwrap_or(0)) + 2 == s.len() {
        let ver = if first == 0 { 0 } else { first - 0x50 };
        return (true, ver, s.get(2..).unwrap_or(&[]));
    }
    (false, 0, &[])
}

pub(super) fn is_p2wsh(s: &[u8]) -> bool {
    let (w, v, p) = is_witness(s);
    w && v == 0 && p.len() == 32
}

/// HWI's `parse_multisig`: `m <33-byte keys> n OP_CHECKMULTISIG`, up to 15 keys.
pub(super) fn parse_multisig(s: &[u8]) -> Option<(u32, Vec<Vec<u8>>)> {
    let m = i32::from(*s.first()?) - 80;
    if !(1..=15).contains(&m) {
        return None;
    }
    let mut keys = Vec::new();
    let mut offset = 1;
    while s.get(offset) == Some(&33) {
        keys.push(s.get(offset + 1..offset + 34)?.to_vec());
        offset += 34;
    }
    let n = i32::from(*s.get(offset)?) - 80;
    if n != keys.len() as i32 {
        return None;
    }
    if s.get(offset + 1) != Some(&174) {
        return None;
    }
    Some((m as u32, keys))
}

/// The raw PSBT the crate signs (the caller's bytes).
pub(super) fn raw(psbt: &Psbt) -> Result<RawPsbt, HwiError> {
    RawPsbt::parse(&psbt.serialize()).map_err(|e| errors::common(&e))
}

pub(super) fn utxo_checked(
    psbt_in: &super::psbt::Input,
    n: usize,
) -> Result<Option<bitcoin::TxOut>, HwiError> {
    if let Some(prev) = &psbt_in.non_witness_utxo {
        if bitcoin::consensus::serialize(&prev.compute_txid()) != psbt_in.prev_txid {
            return Err(HwiError::bad_argument(format!(
                "Input {n} has a non_witness_utxo with the wrong hash"
            )));
        }
        let index = psbt_in.prev_out.unwrap_or(0) as usize;
        return prev
            .output
            .get(index)
            .cloned()
            .map(Some)
            .ok_or_else(|| HwiError::other("list index out of range"));
    }
    Ok(psbt_in.witness_utxo.clone())
}

/// A wallet HWI signs with: its id, signing priority, policy and registration hmac.
type Wallet = ([u8; 32], u8, WalletPolicy, Option<[u8; 32]>);

fn priority(a: AddrType) -> u8 {
    match a {
        AddrType::Tap => 0,
        AddrType::Wit => 1,
        AddrType::ShWit => 2,
        AddrType::Legacy => 3,
    }
}

/// The standard single-key policy of `addr_type` at `account` (hardened index):
/// `[fpr/purpose'/coin'/account']xpub` in the standard template.
pub fn default_policy(
    client: &mut Client,
    addr_type: AddrType,
    account: u64,
) -> Result<WalletPolicy, HwiError> {
    let template = match addr_type {
        AddrType::Legacy => "pkh(@0/**)",
        AddrType::Wit => "wpkh(@0/**)",
        AddrType::ShWit => "sh(wpkh(@0/**))",
        AddrType::Tap => "tr(@0/**)",
    };
    let path = [
        u64::from(addr_type.purpose()) | HARDENED,
        u64::from(client.chain.coin_type()) | HARDENED,
        account | HARDENED,
    ];
    let fpr = super::commands::master_fingerprint(client)?;
    let xpub = super::commands::xpub_at(client, &super::keys::path_string(&path))?;
    let key = format!("[{fpr}{}]{xpub}", super::keys::path_suffix(&path, "'"));
    WalletPolicy::new("", template, vec![key]).map_err(|e| errors::common(&e))
}

/// Signs on a Ledger, HWI's way; returns the PSBT with the new signatures.
///
/// # Errors
/// HWI's errors for PSBTs it refuses; the device's.
pub fn ledger(client: &mut Client, psbt: &Psbt) -> Result<Psbt, HwiError> {
    let master = super::commands::master_fingerprint(client)?.to_bytes();
    // wallet id -> (priority, policy, hmac), in insertion order.
    let mut wallets: Vec<Wallet> = Vec::new();
    for (n, input) in psbt.inputs.iter().enumerate() {
        let Some(utxo) = utxo_checked(input, n)? else {
            continue;
        };
        let mut script = utxo.script_pubkey.to_bytes();
        let mut p2sh = false;
        if is_p2sh(&script) {
            if input.redeem_script.is_empty() {
                continue;
            }
            script = input.redeem_script.clone();
            p2sh = true;
        }
        let (wit, ver, _) = is_witness(&script);
        let addr_type = match (wit, p2sh, ver) {
            (false, _, _) => AddrType::Legacy,
            (true, true, 0) => AddrType::ShWit,
            (true, true, _) => {
                return Err(HwiError::bad_argument("Cannot have witness v1+ in p2sh"))
            }
            (true, false, 0) => AddrType::Wit,
            (true, false, 1) => AddrType::Tap,
            (true, false, _) => continue,
        };
        if is_p2wsh(&script) {
            if input.witness_script.is_empty() {
                continue;
            }
            script = input.witness_script.clone();
        }
        if let Some((k, keys)) = parse_multisig(&script) {
            let mut key_exprs = Vec::new();
            let mut ok = true;
            for pubkey in &keys {
                let Some((_, origin)) = input.hd_keypaths.iter().find(|(pk, _)| pk == pubkey)
                else {
                    continue;
                };
                let found = psbt.xpubs.iter().find(|(_, xo)| {
                    xo.fingerprint == origin.fingerprint
                        && origin.path.get(..xo.path.len()) == Some(xo.path.as_slice())
                });
                match found {
                    Some((xkey, xo)) => {
                        let xpub = bitcoin::bip32::Xpub::decode(xkey)
                            .map_err(|e| HwiError::bad_argument(e.to_string()))?;
                        let path: Vec<u64> = xo.path.iter().map(|i| u64::from(*i)).collect();
                        key_exprs.push(format!(
                            "[{}{}]{xpub}",
                            crate::protocol::bytes::to_hex(&xo.fingerprint),
                            super::keys::path_suffix(&path, "'")
                        ));
                    }
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let policy = multisig_policy(addr_type, k, key_exprs, true)?;
            let id = policy.id();
            if !wallets.iter().any(|(i, _, _, _)| *i == id) {
                let l = client
                    .device
                    .as_ledger()
                    .ok_or_else(|| HwiError::other("not a ledger"))?;
                let reg = block_on(l.register_policy(&policy))
                    .map_err(|e| errors::ledger(&e, Ins::RegisterWallet))?;
                wallets.push((id, priority(addr_type), policy, Some(reg.hmac)));
            }
            continue;
        }
        let mut origins: Vec<Vec<u32>> = input
            .hd_keypaths
            .iter()
            .filter(|(_, o)| o.fingerprint == master)
            .map(|(_, o)| o.path.clone())
            .collect();
        origins.extend(
            input
                .tap_bip32_paths
                .iter()
                .filter(|(k, _, o)| *k == input.tap_internal_key && o.fingerprint == master)
                .map(|(_, _, o)| o.path.clone()),
        );
        for path in origins {
            let path: Vec<u64> = path.iter().map(|i| u64::from(*i)).collect();
            if !is_standard_path(&path, addr_type, client.chain) {
                continue;
            }
            let account = path.get(2).copied().unwrap_or(0) & !HARDENED;
            let policy = default_policy(client, addr_type, account)?;
            let id = policy.id();
            match wallets.iter_mut().find(|(i, _, _, _)| *i == id) {
                Some(w) => *w = (id, priority(addr_type), policy, None),
                None => wallets.push((id, priority(addr_type), policy, None)),
            }
        }
    }
    wallets.sort_by_key(|(_, p, _, _)| *p);
    let mut out = psbt.clone();
    if wallets.is_empty() {
        return Ok(out);
    }
    let raw = raw(psbt)?;
    for (_, _, policy, hmac) in wallets {
        let options = SignOptions::default().with_policy(policy, hmac);
        let l = client
            .device
            .as_ledger()
            .ok_or_else(|| HwiError::other("not a ledger"))?;
        let signed =
            block_on(l.sign_psbt(&raw, &options)).map_err(|e| errors::ledger(&e, Ins::SignPsbt))?;
        for (index, sig) in signed.signatures {
            let Some(target) = out.inputs.get_mut(index) else {
                continue;
            };
            let taproot = target
                .utxo()
                .map(|u| {
                    let (w, v, _) = is_witness(u.script_pubkey.as_bytes());
                    w && v >= 1
                })
                .unwrap_or(false);
            match sig {
                InputSignature::Ecdsa { pubkey, sig } if !taproot => {
                    set_partial(
                        &mut target.partial_sigs,
                        pubkey.to_bytes(),
                        sig.serialize().to_vec(),
                    );
                }
                InputSignature::Ecdsa { sig, .. } if target.tap_key_sig.is_empty() => {
                    target.tap_key_sig = sig.serialize().to_vec();
                }
                InputSignature::TapKey { sig, .. } | InputSignature::TapScript { sig, .. }
                    if target.tap_key_sig.is_empty() =>
                {
                    target.tap_key_sig = sig.serialize().to_vec();
                }
                // HWI 3.2.0 runs no MuSig2 rounds, and neither does `hwi`.
                _ => {}
            }
        }
    }
    Ok(out)
}

fn set_partial(sigs: &mut Vec<(Vec<u8>, Vec<u8>)>, pubkey: Vec<u8>, sig: Vec<u8>) {
    match sigs.iter_mut().find(|(k, _)| *k == pubkey) {
        Some(e) => e.1 = sig,
        None => sigs.push((pubkey, sig)),
    }
}

/// `ledger_bitcoin`'s `MultisigWallet`: `"k of n Multisig"`, `sh(...)`, `wsh(...)` or
/// `sh(wsh(...))` of `sortedmulti` (or `multi`) over `@i/**`.
pub fn multisig_policy(
    addr_type: AddrType,
    k: u32,
    keys: Vec<String>,
    sorted: bool,
) -> Result<WalletPolicy, HwiError> {
    let n = keys.len();
    if !(1 <= k as usize && k as usize <= n && n <= 16) {
        return Err(HwiError::bad_argument(
            "Invalid threshold or number of keys",
        ));
    }
    let op = if sorted { "sortedmulti" } else { "multi" };
    let (prefix, suffix) = match addr_type {
        AddrType::Legacy => (format!("sh({op}("), "))"),
        AddrType::Wit => (format!("wsh({op}("), "))"),
        AddrType::ShWit => (format!("sh(wsh({op}("), ")))"),
        AddrType::Tap => {
            return Err(HwiError::bad_argument(
                "Unexpected address type: AddressType.TAP",
            ))
        }
    };
    let placeholders: Vec<String> = (0..n).map(|i| format!("@{i}/**")).collect();
    let template = format!("{prefix}{k},{}{suffix}", placeholders.join(","));
    WalletPolicy::new(&format!("{k} of {n} Multisig"), &template, keys)
        .map_err(|e| errors::common(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_as_hwi_reads_them() {
        let mut ms = vec![0x52];
        for b in [2u8, 3] {
            ms.push(33);
            ms.extend([b; 33]);
        }
        ms.extend([0x52, 0xae]);
        assert_eq!(parse_multisig(&ms).unwrap().0, 2);
        assert!(parse_multisig(&[0x51]).is_none());
        assert!(
            is_witness(
                &[0x51, 0x20]
                    .iter()
                    .chain([0u8; 32].iter())
                    .copied()
                    .collect::<Vec<_>>()
            )
            .0
        );
        let policy = multisig_policy(AddrType::Wit, 2, vec!["a".into(), "b".into()], true).unwrap();
        assert_eq!(policy.template, "wsh(sortedmulti(2,@0/**,@1/**))");
        assert_eq!(policy.name, "2 of 2 Multisig");
    }
}
