//! MuSig2 in the simulated app's SIGN_PSBT, as app-bitcoin-new 2.4 does it
//! (`doc/musig.md`, `src/handler/sign_psbt/musig_signing.c`, `src/musig/`).
//!
//! - An input is ours for a `musig()` key expression holding one of our keys when a
//!   `PSBT_IN_TAP_BIP32_DERIVATION` has the fingerprint of the untweaked aggregate and
//!   a two-step path `change/index` (BIP-328), and the policy's script there is the
//!   utxo's.
//! - Without any `PSBT_IN_MUSIG2_PUB_NONCE` in the PSBT, round 1: a public nonce per
//!   (input, expression), yielded with tag 0xffffffff, without asking the user; the
//!   session's `rand_root` is kept (8 slots; the first is reused when full).
//! - With nonces, round 2: the session is taken out of storage (gone even if signing
//!   then fails), the nonces are regenerated from `rand_root` and must be the ones in
//!   the PSBT, and the partial signature is yielded with tag 0xfffffffe.
//!
//! Nonces follow BIP-327 NonceGen with `rand' = SHA256(rand_root ‖ i ‖ j)` (i the input,
//! j the expression's position in the policy, both u32 big-endian), the participant
//! key and the tweaked aggregate key, and no secret key, message or extra input. The
//! device draws `rand_root` at random; the simulator derives it from its seed and the
//! session id (a tagged hash of the policy's keys and the transaction), so that runs
//! repeat.

use bitcoin::bip32::{ChildNumber, DerivationPath};
use bitcoin::hashes::{hmac, sha256, Hash, HashEngine};
use bitcoin::secp256k1::PublicKey;
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::taproot::{LeafVersion, TapLeafHash};
use bitcoin::{Transaction, TxOut};
use miniscript::descriptor::Descriptor;
use miniscript::ToPublicKey;
use musig2::secp::{MaybeScalar, Point, Scalar};
use musig2::{AggNonce, KeyAggContext, PubNonce, SecNonce, SecNonceBuilder};

use crate::protocol::bytes::write_varint;
use crate::protocol::ledger::btc::merkle::MerkleTree;
use crate::protocol::musig::fields::{
    self, SessionKey, PUB_NONCE_LEN, YIELD_PARTIAL_SIG_TAG, YIELD_PUB_NONCE_TAG,
};
use crate::protocol::musig::keys;
use crate::protocol::musig::spend::{context, taproot_context, Group};
use crate::protocol::policy::musig::{expressions, key_xpub, participant_xpubs};
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signature::spent_output;
use crate::protocol::psbt::view::Psbt;
use crate::sim::fault::Fault;

use super::context::AppContext;
use super::host::{HostLink, SimResult, SW_BAD_STATE, SW_INCORRECT_DATA};

fn bad<T>(_: T) -> u16 {
    SW_INCORRECT_DATA
}

/// One MuSig2 session of this device: an input and a `musig()` expression, on the key
/// path or in a leaf.
pub struct Session {
    input: usize,
    position: usize,
    my_key: PublicKey,
    my_path: DerivationPath,
    aggregate: PublicKey,
    leaf: Option<TapLeafHash>,
    participants: Vec<PublicKey>,
    context: KeyAggContext,
}

impl Session {
    fn key(&self, participant: PublicKey) -> SessionKey {
        SessionKey {
            participant,
            aggregate: self.aggregate,
            leaf: self.leaf,
        }
    }
}

/// The sessions of the inputs `policy` controls through a `musig()` holding our key.
pub fn plan(ctx: &AppContext, policy: &WalletPolicy, psbt: &Psbt) -> SimResult<Vec<Session>> {
    let exprs = expressions(&policy.template).map_err(bad)?;
    if exprs.is_empty() {
        return Ok(Vec::new());
    }
    let branches = policy
        .descriptor()
        .map_err(bad)?
        .into_single_descriptors()
        .map_err(bad)?;
    let mut out = Vec::new();
    for e in &exprs {
        // As the app: the last of our keys in the expression is the one that signs.
        let Some((k, my_path)) = e
            .keys
            .iter()
            .filter_map(|k| ctx.our_key_origin(policy, *k).map(|o| (*k, o)))
            .last()
        else {
            continue;
        };
        let my_key = policy
            .keys
            .get(k)
            .and_then(|info| key_xpub(info).ok())
            .ok_or(SW_INCORRECT_DATA)?
            .public_key;
        let xpubs = participant_xpubs(policy, &e.keys).map_err(bad)?;
        let participants = keys::sorted(&xpubs.iter().map(|x| x.public_key).collect::<Vec<_>>());
        let group = Group::new(participants.clone()).map_err(bad)?;
        for (index, input) in psbt.inputs.iter().enumerate() {
            let Some(utxo) = spent_output(psbt, index) else {
                continue;
            };
            for (_, (_, (fingerprint, path))) in input.tap_key_origins.iter() {
                let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
                let [ChildNumber::Normal { index: step }, ChildNumber::Normal { index: address }] =
                    steps.as_slice()
                else {
                    continue;
                };
                if *fingerprint != group.fingerprint() {
                    continue;
                }
                let branch = if *step == e.steps.0 {
                    0
                } else if *step == e.steps.1 {
                    1
                } else {
                    continue;
                };
                let Some(Ok(derived)) = branches
                    .get(branch)
                    .map(|b| b.at_derivation_index(*address))
                else {
                    continue;
                };
                if derived.script_pubkey() != utxo.script_pubkey {
                    continue;
                }
                let Descriptor::Tr(tr) = &derived else {
                    continue;
                };
                let (agg, tweaks) = keys::derive(&group.xpub(), &steps).map_err(bad)?;
                let ctx2 = context(&group, &tweaks).map_err(bad)?;
                let xonly = agg.public_key.x_only_public_key().0;
                let session = |aggregate, leaf, context| Session {
                    input: index,
                    position: e.position,
                    my_key,
                    my_path: my_path.clone(),
                    aggregate,
                    leaf,
                    participants: participants.clone(),
                    context,
                };
                if tr.internal_key().to_x_only_pubkey() == xonly {
                    let tweaked = taproot_context(ctx2.clone(), tr.spend_info().merkle_root())
                        .map_err(bad)?;
                    let output =
                        keys::public_key(&tweaked.aggregated_pubkey::<Point>()).map_err(bad)?;
                    out.push(session(output, None, tweaked));
                }
                for item in tr.leaves() {
                    let ms = item.miniscript();
                    if ms.iter_pk().any(|k| k.to_x_only_pubkey() == xonly) {
                        let leaf = TapLeafHash::from_script(&ms.encode(), LeafVersion::TapScript);
                        out.push(session(agg.public_key, Some(leaf), ctx2.clone()));
                    }
                }
                break;
            }
        }
    }
    Ok(out)
}

/// True when any input has a public nonce: the app then runs round 2.
pub fn has_nonces(psbt: &RawPsbt) -> bool {
    psbt.inputs
        .iter()
        .any(|m| fields::has(m, fields::IN_PUB_NONCE))
}

fn tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let t = sha256::Hash::hash(tag);
    let mut e = sha256::Hash::engine();
    e.input(t.as_byte_array());
    e.input(t.as_byte_array());
    for p in parts {
        e.input(p);
    }
    sha256::Hash::from_engine(e).to_byte_array()
}

/// The app's psbt session id: the tagged hash `PsbtSessionId` of the policy's keys root
/// and the transaction's BIP-341 hashes (prevouts, amounts, scripts, sequences,
/// outputs), the same in both rounds.
pub fn session_id(policy: &WalletPolicy, tx: &Transaction, prevouts: &[TxOut]) -> [u8; 32] {
    use bitcoin::consensus::Encodable;
    let single = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        f(&mut v);
        sha256::Hash::hash(&v).to_byte_array()
    };
    let sha_prevouts = single(&|v| {
        for i in &tx.input {
            let _ = i.previous_output.consensus_encode(v);
        }
    });
    let sha_amounts = single(&|v| {
        for o in prevouts {
            v.extend_from_slice(&o.value.to_sat().to_le_bytes());
        }
    });
    let sha_scripts = single(&|v| {
        for o in prevouts {
            let _ = o.script_pubkey.consensus_encode(v);
        }
    });
    let sha_sequences = single(&|v| {
        for i in &tx.input {
            v.extend_from_slice(&i.sequence.0.to_le_bytes());
        }
    });
    let sha_outputs = single(&|v| {
        for o in &tx.output {
            let _ = o.consensus_encode(v);
        }
    });
    let keys_root = MerkleTree::from_elements(&policy.keys).root();
    tagged(
        b"PsbtSessionId",
        &[
            &keys_root,
            &sha_prevouts,
            &sha_amounts,
            &sha_scripts,
            &sha_sequences,
            &sha_outputs,
        ],
    )
}

/// The simulator's `rand_root` of a session (the device's is random).
fn rand_root(ctx: &AppContext, id: &[u8; 32]) -> SimResult<[u8; 32]> {
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    let mut e = hmac::HmacEngine::<sha256::Hash>::new(seed.bip39_seed());
    e.input(b"hwsigner simulator musig2 rand_root");
    e.input(id);
    Ok(hmac::Hmac::<sha256::Hash>::from_engine(e).to_byte_array())
}

/// `rand_i_j = SHA256(rand_root ‖ i ‖ j)`, u32 big-endian.
fn rand_i_j(root: &[u8; 32], i: usize, j: usize) -> [u8; 32] {
    let mut e = sha256::Hash::engine();
    e.input(root);
    e.input(&(i as u32).to_be_bytes());
    e.input(&(j as u32).to_be_bytes());
    sha256::Hash::from_engine(e).to_byte_array()
}

fn nonce(root: &[u8; 32], s: &Session) -> SimResult<SecNonce> {
    let me = keys::point(&s.my_key).map_err(bad)?;
    let aggregate = keys::point(&s.aggregate).map_err(bad)?;
    Ok(
        SecNonceBuilder::from_pubkey(rand_i_j(root, s.input, s.position), me)
            .with_aggregated_pubkey(aggregate)
            .build(),
    )
}

/// `tag | varint input | value | participant | aggregate | leaf?`.
fn yielded(tag: u64, s: &Session, participant: &PublicKey, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + 9 + value.len() + 66 + 32);
    write_varint(&mut out, tag);
    write_varint(&mut out, s.input as u64);
    out.extend_from_slice(value);
    out.extend_from_slice(&participant.serialize());
    out.extend_from_slice(&s.aggregate.serialize());
    if let Some(leaf) = s.leaf {
        out.extend_from_slice(leaf.as_byte_array());
    }
    out
}

/// A key the policy does not hold (for `ForeignPubkey`): ours at `m/7`.
fn foreign(ctx: &AppContext) -> SimResult<PublicKey> {
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    seed.public_key(&DerivationPath::from(vec![ChildNumber::Normal {
        index: 7,
    }]))
    .map_err(bad)
}

/// Round 1: yields a public nonce per session and keeps the session's `rand_root`.
pub async fn round1(
    ctx: &AppContext,
    link: &HostLink,
    sessions: &[Session],
    id: &[u8; 32],
) -> SimResult<()> {
    // A session with the same id is replaced (the client sent round 1 twice).
    ctx.musig_pop(id);
    let root = rand_root(ctx, id)?;
    for s in sessions {
        let public = nonce(&root, s)?.public_nonce();
        let who = if ctx.faults.has(Fault::ForeignPubkey) {
            foreign(ctx)?
        } else {
            s.my_key
        };
        link.yield_value(&yielded(YIELD_PUB_NONCE_TAG, s, &who, &public.serialize()))
            .await?;
    }
    if !sessions.is_empty() {
        ctx.musig_store(*id, root);
    }
    Ok(())
}

fn pubnonce(psbt: &RawPsbt, s: &Session, participant: PublicKey) -> Option<PubNonce> {
    let map = psbt.inputs.get(s.input)?;
    let key = s.key(participant).psbt_key(fields::IN_PUB_NONCE);
    let value = map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)?;
    if value.len() != PUB_NONCE_LEN {
        return None;
    }
    PubNonce::from_bytes(value).ok()
}

/// The inputs of round 2 that depend on the transaction.
pub struct Round2<'a> {
    /// The PSBT as the device read it (for the nonces).
    pub raw: &'a RawPsbt,
    /// Its bitcoin view (for sighash types).
    pub psbt: &'a Psbt,
    /// Every input's spent output.
    pub prevouts: &'a [TxOut],
}

/// Round 2: a partial signature per session.
pub async fn round2(
    ctx: &AppContext,
    link: &HostLink,
    sessions: &[Session],
    id: &[u8; 32],
    tx: Round2<'_>,
) -> SimResult<()> {
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    let mut cache = SighashCache::new(&tx.psbt.unsigned_tx);
    let mut root: Option<[u8; 32]> = None;
    for s in sessions {
        let mine = pubnonce(tx.raw, s, s.my_key).ok_or(SW_BAD_STATE)?;
        let root = match root {
            Some(r) => r,
            None => {
                // Taken out of storage at once: a session signs at most once.
                let r = ctx.musig_pop(id).ok_or(SW_BAD_STATE)?;
                root = Some(r);
                r
            }
        };
        let nonces = s
            .participants
            .iter()
            .map(|p| pubnonce(tx.raw, s, *p).ok_or(SW_INCORRECT_DATA))
            .collect::<SimResult<Vec<_>>>()?;
        let aggnonce: AggNonce = nonces.iter().sum();
        let secnonce = nonce(&root, s)?;
        if secnonce.public_nonce() != mine {
            return Err(SW_INCORRECT_DATA);
        }
        let ty = match tx.psbt.inputs.get(s.input).and_then(|i| i.sighash_type) {
            Some(t) => t.taproot_hash_ty().map_err(bad)?,
            None => TapSighashType::Default,
        };
        let prevouts = Prevouts::All(tx.prevouts);
        let mut digest = match s.leaf {
            None => cache.taproot_key_spend_signature_hash(s.input, &prevouts, ty),
            Some(leaf) => cache.taproot_script_spend_signature_hash(s.input, &prevouts, leaf, ty),
        }
        .map_err(bad)?
        .to_byte_array();
        if ctx.faults.has(Fault::OtherSighash) {
            digest[0] ^= 1;
        }
        let secret = seed.xpriv(&s.my_path).map_err(bad)?.private_key;
        let secret = Scalar::from_slice(&secret.secret_bytes()).map_err(bad)?;
        let psig: MaybeScalar =
            musig2::sign_partial(&s.context, secret, secnonce, &aggnonce, digest).map_err(bad)?;
        let mut bytes = psig.serialize();
        if ctx.faults.has(Fault::BadSignature) {
            if let Some(b) = bytes.get_mut(8) {
                *b ^= 1;
            }
        }
        let who = if ctx.faults.has(Fault::ForeignPubkey) {
            foreign(ctx)?
        } else {
            s.my_key
        };
        link.yield_value(&yielded(YIELD_PARTIAL_SIG_TAG, s, &who, &bytes))
            .await?;
    }
    Ok(())
}
