//! SIGN_PSBT in the simulated app: fetch the committed PSBT maps, find the inputs the
//! policy controls, ask the user, sign, and yield each signature.

use bitcoin::bip32::{ChildNumber, DerivationPath};
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, TapTweak};
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{LeafVersion, TapLeafHash};
use bitcoin::{Amount, TxOut};
use miniscript::descriptor::{DefiniteDescriptorKey, Descriptor};
use miniscript::{ForEachKey, ToPublicKey};

use crate::protocol::bytes::{write_varint, Reader};
use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::spent_output;
use crate::protocol::psbt::view::Psbt;
use crate::sim::confirm::Prompt;
use crate::sim::fault::Fault;

use super::commands::{authorize, read_policy};
use super::context::AppContext;
use super::host::{
    HostLink, MapCommitment, SimResult, SW_DENY, SW_INCORRECT_DATA, SW_NOT_SUPPORTED,
};

const MAX_IN_OUT: usize = 10_000;

fn bad<T>(_: T) -> u16 {
    SW_INCORRECT_DATA
}

/// An input the policy controls: which branch and index, and the descriptor there.
struct Planned {
    index: usize,
    change: u32,
    address_index: u32,
    derived: Descriptor<DefiniteDescriptorKey>,
}

/// The full paths of this device's keys in `policy` at `change`/`index`.
fn our_paths(
    ctx: &AppContext,
    policy: &WalletPolicy,
    change: u32,
    index: u32,
) -> Vec<DerivationPath> {
    (0..policy.keys.len())
        .filter_map(|k| ctx.our_key_origin(policy, k))
        .map(|origin| {
            origin.extend([
                ChildNumber::Normal { index: change },
                ChildNumber::Normal { index },
            ])
        })
        .collect()
}

fn plan(ctx: &AppContext, policy: &WalletPolicy, psbt: &Psbt) -> SimResult<Vec<Planned>> {
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    let branches = policy
        .descriptor()
        .map_err(bad)?
        .into_single_descriptors()
        .map_err(bad)?;
    let origins: Vec<DerivationPath> = (0..policy.keys.len())
        .filter_map(|k| ctx.our_key_origin(policy, k))
        .collect();
    let mut out = Vec::new();
    for (index, input) in psbt.inputs.iter().enumerate() {
        let Some(utxo) = spent_output(psbt, index) else {
            continue;
        };
        let ecdsa = input.bip32_derivation.values();
        let tap = input.tap_key_origins.values().map(|(_, origin)| origin);
        let mut found = None;
        for (fpr, path) in ecdsa.chain(tap) {
            if *fpr != seed.fingerprint() {
                continue;
            }
            for origin in &origins {
                let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
                let Some((tail, head)) = steps.split_last_chunk::<2>().map(|(h, t)| (t, h)) else {
                    continue;
                };
                if head != origin.as_ref() {
                    continue;
                }
                let (
                    ChildNumber::Normal { index: change },
                    ChildNumber::Normal {
                        index: address_index,
                    },
                ) = (tail[0], tail[1])
                else {
                    continue;
                };
                let Some(branch) = branches.get(change as usize) else {
                    continue;
                };
                let Ok(derived) = branch.at_derivation_index(address_index) else {
                    continue;
                };
                if derived.script_pubkey() == utxo.script_pubkey {
                    found = Some(Planned {
                        index,
                        change,
                        address_index,
                        derived,
                    });
                }
            }
            if found.is_some() {
                break;
            }
        }
        out.extend(found);
    }
    Ok(out)
}

/// True when output `index` is change of `policy` as the app decides it: a derivation
/// of one of this device's keys in the policy, on the change branch, whose script at
/// that index is the output's.
fn is_change(ctx: &AppContext, policy: &WalletPolicy, psbt: &Psbt, index: usize) -> bool {
    let (Some(seed), Some(output), Some(txout)) = (
        ctx.seed.as_ref(),
        psbt.outputs.get(index),
        psbt.unsigned_tx.output.get(index),
    ) else {
        return false;
    };
    let Some(branch) = policy
        .descriptor()
        .ok()
        .and_then(|d| d.into_single_descriptors().ok())
        .and_then(|b| b.get(1).cloned())
    else {
        return false;
    };
    let origins: Vec<DerivationPath> = (0..policy.keys.len())
        .filter_map(|k| ctx.our_key_origin(policy, k))
        .collect();
    let ecdsa = output.bip32_derivation.values();
    let tap = output.tap_key_origins.values().map(|(_, origin)| origin);
    ecdsa.chain(tap).any(|(fpr, path)| {
        let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
        match steps.split_last_chunk::<2>() {
            Some((head, [ChildNumber::Normal { index: 1 }, ChildNumber::Normal { index: i }]))
                if *fpr == seed.fingerprint() && origins.iter().any(|o| o.as_ref() == head) =>
            {
                branch
                    .at_derivation_index(*i)
                    .is_ok_and(|d| d.script_pubkey() == txout.script_pubkey)
            }
            _ => false,
        }
    })
}

/// What the app shows before signing, as one line: its warnings (inputs it does not
/// sign, segwit v0 inputs without their previous transaction, sighash types other than
/// ALL / DEFAULT), each external output, a high-fee warning, and the fee. Change that
/// the policy accounts for is not shown; an output with this device's derivation that
/// the policy does not account for is an external output like any other.
///
/// # Errors
/// Incorrect data for a negative fee; not supported for more than 10 change outputs,
/// as the app.
fn review(
    ctx: &AppContext,
    policy: &WalletPolicy,
    psbt: &Psbt,
    planned: &[Planned],
) -> SimResult<String> {
    let mut parts = Vec::new();
    let ours = |i: usize| planned.iter().any(|p| p.index == i);
    if (0..psbt.inputs.len()).any(|i| !ours(i)) {
        parts.push("warning: external inputs".to_string());
    }
    let unverified = planned.iter().any(|p| {
        p.derived.desc_type().segwit_version() == Some(bitcoin::WitnessVersion::V0)
            && psbt
                .inputs
                .get(p.index)
                .is_some_and(|i| i.non_witness_utxo.is_none())
    });
    if unverified {
        parts.push("warning: unverified inputs".to_string());
    }
    let non_default = planned.iter().any(|p| {
        psbt.inputs
            .get(p.index)
            .and_then(|i| i.sighash_type)
            .is_some_and(|t| !matches!(t.to_u32(), 0 | 1))
    });
    if non_default {
        parts.push("warning: non-default sighash".to_string());
    }
    let spent: Option<Amount> = (0..psbt.inputs.len())
        .map(|i| spent_output(psbt, i).map(|o| o.value))
        .try_fold(Amount::ZERO, |sum, a| sum.checked_add(a?));
    let sent = psbt
        .unsigned_tx
        .output
        .iter()
        .try_fold(Amount::ZERO, |sum, o| sum.checked_add(o.value));
    let fee = spent
        .zip(sent)
        .and_then(|(spent, sent)| spent.checked_sub(sent))
        .ok_or(SW_INCORRECT_DATA)?;
    let mut change = 0;
    for (i, o) in psbt.unsigned_tx.output.iter().enumerate() {
        if is_change(ctx, policy, psbt, i) {
            change += 1;
            continue;
        }
        let to = bitcoin::Address::from_script(&o.script_pubkey, ctx.network())
            .map_or_else(|_| "script".to_string(), |a| a.to_string());
        parts.push(format!("{} to {to}", o.value));
    }
    if change > 10 {
        return Err(SW_NOT_SUPPORTED);
    }
    if change == psbt.unsigned_tx.output.len() {
        parts.push("self-transfer".to_string());
    }
    let total = spent.unwrap_or(Amount::ZERO);
    if fee.to_sat().saturating_mul(10) >= total.to_sat() && total.to_sat() > 100_000 {
        parts.push("warning: high fee".to_string());
    }
    parts.push(format!("fee {fee}"));
    Ok(parts.join(", "))
}

/// The body of a YIELD carrying one signature.
fn yielded(index: usize, key: &[u8], sig: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + key.len() + sig.len() + 9);
    write_varint(&mut out, index as u64);
    out.push(key.len() as u8);
    out.extend_from_slice(key);
    out.extend_from_slice(sig);
    out
}

pub async fn sign_psbt(ctx: &AppContext, link: &HostLink, data: &[u8]) -> SimResult<Vec<u8>> {
    let mut r = Reader::new(data, "sign_psbt");
    let global = MapCommitment::read(&mut r)?;
    let n_in = usize::try_from(r.varint("inputs").map_err(bad)?).map_err(bad)?;
    let inputs_root: Hash32 = r.array("inputs root").map_err(bad)?;
    let n_out = usize::try_from(r.varint("outputs").map_err(bad)?).map_err(bad)?;
    let outputs_root: Hash32 = r.array("outputs root").map_err(bad)?;
    let wallet_id: Hash32 = r.array("wallet id").map_err(bad)?;
    let hmac: Hash32 = r.array("hmac").map_err(bad)?;
    r.finish().map_err(bad)?;
    if n_in == 0 || n_in > MAX_IN_OUT || n_out == 0 || n_out > MAX_IN_OUT {
        return Err(SW_INCORRECT_DATA);
    }
    let serialized = link.preimage(&wallet_id).await?;
    let policy = read_policy(link, &serialized).await?;
    authorize(ctx, &policy, &wallet_id, &hmac)?;

    let global_map = link.full_map(&global).await?;
    let mut inputs = Vec::with_capacity(n_in);
    for i in 0..n_in {
        let c = link.element(&inputs_root, n_in, i).await?;
        inputs.push(
            link.full_map(&MapCommitment::read(&mut Reader::new(&c, "input map"))?)
                .await?,
        );
    }
    let mut outputs = Vec::with_capacity(n_out);
    for i in 0..n_out {
        let c = link.element(&outputs_root, n_out, i).await?;
        outputs.push(
            link.full_map(&MapCommitment::read(&mut Reader::new(&c, "output map"))?)
                .await?,
        );
    }
    let raw = RawPsbt {
        version: 2,
        global: global_map,
        inputs,
        outputs,
    };
    let raw = RawPsbt::parse(&raw.serialize()).map_err(bad)?;
    let psbt = raw.view().map_err(bad)?;

    let planned = plan(ctx, &policy, &psbt)?;
    #[cfg(feature = "musig")]
    let musig_sessions = super::musig::plan(ctx, &policy, &psbt)?;
    #[cfg(not(feature = "musig"))]
    let musig_sessions: Vec<()> = Vec::new();
    if planned.is_empty() && musig_sessions.is_empty() {
        return Err(SW_INCORRECT_DATA);
    }
    let prevouts: Vec<TxOut> = (0..psbt.inputs.len())
        .map(|i| spent_output(&psbt, i).ok_or(SW_INCORRECT_DATA))
        .collect::<SimResult<_>>()?;
    // MuSig2 round 1 (no public nonce in the PSBT) needs no approval: no key signs.
    #[cfg(feature = "musig")]
    let round2 = super::musig::has_nonces(&raw);
    #[cfg(not(feature = "musig"))]
    let round2 = false;
    #[cfg(feature = "musig")]
    let session_id = super::musig::session_id(&policy, &psbt.unsigned_tx, &prevouts);
    #[cfg(feature = "musig")]
    if !round2 {
        super::musig::round1(ctx, link, &musig_sessions, &session_id).await?;
    }
    if planned.is_empty() && !round2 {
        return Ok(Vec::new());
    }
    if !ctx.confirm(&Prompt::SignTransaction(review(
        ctx, &policy, &psbt, &planned,
    )?)) {
        return Err(SW_DENY);
    }
    let mut cache = SighashCache::new(&psbt.unsigned_tx);
    for p in &planned {
        sign_input(ctx, link, &policy, &psbt, &prevouts, &mut cache, p).await?;
    }
    #[cfg(feature = "musig")]
    if round2 {
        let tx = super::musig::Round2 {
            raw: &raw,
            psbt: &psbt,
            prevouts: &prevouts,
        };
        super::musig::round2(ctx, link, &musig_sessions, &session_id, tx).await?;
    }
    if ctx.faults.has(Fault::EndlessLoop) {
        loop {
            link.yield_value(&[0]).await?;
        }
    }
    Ok(Vec::new())
}

async fn sign_input(
    ctx: &AppContext,
    link: &HostLink,
    policy: &WalletPolicy,
    psbt: &Psbt,
    prevouts: &[TxOut],
    cache: &mut SighashCache<&bitcoin::Transaction>,
    p: &Planned,
) -> SimResult<()> {
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    let secp = seed.secp();
    let input = psbt.inputs.get(p.index).ok_or(SW_INCORRECT_DATA)?;
    let utxo = prevouts.get(p.index).ok_or(SW_INCORRECT_DATA)?;
    let foreign = ctx.faults.has(Fault::ForeignPubkey);
    // `OtherSighash`: the right key over a digest with a byte changed.
    let sighash = |mut digest: [u8; 32]| {
        if ctx.faults.has(Fault::OtherSighash) {
            digest[0] ^= 1;
        }
        Message::from_digest(digest)
    };
    let corrupt = |mut sig: Vec<u8>| {
        if ctx.faults.has(Fault::BadSignature) {
            if let Some(b) = sig.get_mut(8) {
                *b ^= 1;
            }
        }
        sig
    };
    for path in our_paths(ctx, policy, p.change, p.address_index) {
        let secret = seed.xpriv(&path).map_err(bad)?.private_key;
        let keypair = Keypair::from_secret_key(secp, &secret);
        let pubkey = bitcoin::PublicKey::new(secret.public_key(secp));
        let other = seed
            .xpriv(&path.child(ChildNumber::Normal { index: 1 }))
            .map_err(bad)?
            .private_key
            .public_key(secp);
        match &p.derived {
            Descriptor::Tr(tr) => {
                let ty = match input.sighash_type {
                    Some(t) => t.taproot_hash_ty().map_err(bad)?,
                    None => TapSighashType::Default,
                };
                let with_type = |sig: bitcoin::secp256k1::schnorr::Signature| {
                    let mut v = sig.as_ref().to_vec();
                    if ty != TapSighashType::Default {
                        v.push(ty as u8);
                    }
                    v
                };
                let xonly = pubkey.inner.x_only_public_key().0;
                let info = tr.spend_info();
                if tr.internal_key().to_x_only_pubkey() == xonly {
                    let hash = cache
                        .taproot_key_spend_signature_hash(p.index, &Prevouts::All(prevouts), ty)
                        .map_err(bad)?;
                    let tweaked = keypair.tap_tweak(secp, info.merkle_root());
                    let sig = secp.sign_schnorr_with_aux_rand(
                        &sighash(hash.to_byte_array()),
                        &tweaked.to_keypair(),
                        &[0; 32],
                    );
                    let key = if foreign {
                        other.x_only_public_key().0
                    } else {
                        info.output_key().to_x_only_public_key()
                    };
                    link.yield_value(&yielded(
                        p.index,
                        &key.serialize(),
                        &corrupt(with_type(sig)),
                    ))
                    .await?;
                }
                for item in tr.leaves() {
                    let ms = item.miniscript();
                    if !ms.iter_pk().any(|k| k.to_x_only_pubkey() == xonly) {
                        continue;
                    }
                    let leaf = TapLeafHash::from_script(&ms.encode(), LeafVersion::TapScript);
                    let hash = cache
                        .taproot_script_spend_signature_hash(
                            p.index,
                            &Prevouts::All(prevouts),
                            leaf,
                            ty,
                        )
                        .map_err(bad)?;
                    let sig = secp.sign_schnorr_with_aux_rand(
                        &sighash(hash.to_byte_array()),
                        &keypair,
                        &[0; 32],
                    );
                    let mut key = if foreign {
                        other.x_only_public_key().0
                    } else {
                        xonly
                    }
                    .serialize()
                    .to_vec();
                    key.extend_from_slice(leaf.as_byte_array());
                    link.yield_value(&yielded(p.index, &key, &corrupt(with_type(sig))))
                        .await?;
                }
            }
            derived => {
                if !derived.for_any_key(|k| k.to_public_key() == pubkey) {
                    continue;
                }
                let ty = match input.sighash_type {
                    Some(t) => t.ecdsa_hash_ty().map_err(bad)?,
                    None => EcdsaSighashType::All,
                };
                let script_code = derived.script_code().map_err(bad)?;
                let digest = if input.witness_utxo.is_some() {
                    cache
                        .p2wsh_signature_hash(p.index, &script_code, utxo.value, ty)
                        .map_err(bad)?
                        .to_byte_array()
                } else {
                    cache
                        .legacy_signature_hash(p.index, &script_code, ty.to_u32())
                        .map_err(bad)?
                        .to_byte_array()
                };
                let sig = secp.sign_ecdsa(&sighash(digest), &secret);
                let mut bytes = sig.serialize_der().to_vec();
                bytes.push(ty.to_u32() as u8);
                let key = if foreign {
                    other.serialize()
                } else {
                    pubkey.inner.serialize()
                };
                link.yield_value(&yielded(p.index, &key, &corrupt(bytes)))
                    .await?;
            }
        }
    }
    Ok(())
}
