//! The MuSig2 signing sessions of a PSBT input: which aggregate keys it spends with, on
//! the key path or in which leaf, and the BIP-327 context (keys and tweaks) of each.
//!
//! An input spends an aggregate when a `PSBT_IN_TAP_BIP32_DERIVATION` of it has the
//! fingerprint of the untweaked aggregate (BIP-328: the aggregate xpub is the root) and
//! the key derived along its path is the one listed. The spend is on the key path when
//! that key is the input's internal key (the taproot tweak applied, and the result must
//! be the output key the utxo pays to), and in each leaf the derivation lists.

use bitcoin::bip32::{ChildNumber, Fingerprint, Xpub};
use bitcoin::secp256k1::PublicKey;
use bitcoin::taproot::{TapLeafHash, TapNodeHash};
use bitcoin::NetworkKind;
use musig2::secp::Point;
use musig2::KeyAggContext;

use crate::error::{Error, Result};
use crate::protocol::policy::musig::{expressions, participant_xpubs};
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::Map;
use crate::protocol::psbt::signature::spent_output;
use crate::protocol::psbt::view::{Input, Psbt};

use super::fields::{self, SessionKey};
use super::keys;

/// The participants of one `musig()`, and their untweaked aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The untweaked aggregate key (the root of the BIP-328 xpub).
    pub aggregate: PublicKey,
    /// The participants, in KeyAgg order.
    pub participants: Vec<PublicKey>,
}

impl Group {
    /// The group of `participants` in this order.
    ///
    /// # Errors
    /// As [`keys::key_agg`].
    pub fn new(participants: Vec<PublicKey>) -> Result<Self> {
        Ok(Group {
            aggregate: keys::aggregate(&participants)?,
            participants,
        })
    }

    /// The aggregate xpub (BIP-328) of the group.
    pub fn xpub(&self) -> Xpub {
        keys::aggregate_xpub(self.aggregate, NetworkKind::Main)
    }

    /// The fingerprint derivations from the aggregate xpub carry.
    pub fn fingerprint(&self) -> Fingerprint {
        self.xpub().fingerprint()
    }
}

/// The groups of `policy`'s `musig()` expressions (keys sorted, as the app does).
///
/// # Errors
/// `invalid-input` for a malformed `musig()` or a key without an xpub.
pub fn policy_groups(policy: &WalletPolicy) -> Result<Vec<Group>> {
    let mut out: Vec<Group> = Vec::new();
    for expression in expressions(&policy.template)? {
        let xpubs = participant_xpubs(policy, &expression.keys)?;
        let keys: Vec<PublicKey> = xpubs.iter().map(|x| x.public_key).collect();
        let group = Group::new(keys::sorted(&keys))?;
        if !out.contains(&group) {
            out.push(group);
        }
    }
    Ok(out)
}

/// The groups an input lists in `PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS`. Each list must
/// aggregate to its key, as listed or sorted.
///
/// # Errors
/// `invalid-input` naming the input for a malformed field or a list that does not
/// aggregate to its key.
pub fn psbt_groups(input: &Input, index: usize) -> Result<Vec<Group>> {
    let field = format!("input {index}");
    let map = unknown_map(input);
    let mut out = Vec::new();
    for (aggregate, participants) in
        fields::participants(&map, fields::IN_PARTICIPANT_PUBKEYS, &field)?
    {
        let group = [participants.clone(), keys::sorted(&participants)]
            .into_iter()
            .find(|p| keys::aggregate(p).ok() == Some(aggregate))
            .map(|participants| Group {
                aggregate,
                participants,
            })
            .ok_or_else(|| {
                Error::invalid(
                    field.clone(),
                    format!("musig2 participants of {aggregate} do not aggregate to it"),
                )
            })?;
        out.push(group);
    }
    Ok(out)
}

/// The fields of an input that `bitcoin::Psbt` does not know (the BIP-373 ones), as a
/// raw map.
pub fn unknown_map(input: &Input) -> Map {
    input
        .unknown
        .iter()
        .map(|(k, v)| {
            let mut key = vec![k.type_value];
            key.extend_from_slice(&k.key);
            (key, v.clone())
        })
        .collect()
}

/// One MuSig2 signing session of an input.
#[derive(Debug, Clone)]
pub struct Spend {
    /// The input.
    pub input: usize,
    /// Who signs.
    pub group: Group,
    /// The aggregate key after every tweak (the key the signature is checked under).
    pub aggregate: PublicKey,
    /// The leaf, for a script-path spend.
    pub leaf: Option<TapLeafHash>,
    /// KeyAgg with every tweak applied.
    pub context: KeyAggContext,
}

impl Spend {
    /// The session key of `participant`'s nonce and partial signature.
    pub fn session_key(&self, participant: PublicKey) -> SessionKey {
        SessionKey {
            participant,
            aggregate: self.aggregate,
            leaf: self.leaf,
        }
    }

    /// True when `key` is this session's for one of its participants.
    pub fn has(&self, key: &SessionKey) -> bool {
        key.aggregate == self.aggregate
            && key.leaf == self.leaf
            && self.group.participants.contains(&key.participant)
    }
}

/// The merkle root the input's output key commits to: `PSBT_IN_TAP_MERKLE_ROOT`, else
/// none without leaves (BIP-86), else the one every control block leads to.
fn merkle_root(input: &Input, index: usize) -> Result<Option<TapNodeHash>> {
    if let Some(root) = input.tap_merkle_root {
        return Ok(Some(root));
    }
    let mut root: Option<TapNodeHash> = None;
    for (control, (script, version)) in &input.tap_scripts {
        let mut node = TapNodeHash::from(TapLeafHash::from_script(script, *version));
        for sibling in control.merkle_branch.iter() {
            node = TapNodeHash::from_node_hashes(node, *sibling);
        }
        if root.is_some_and(|r| r != node) {
            return Err(Error::invalid(
                format!("input {index}"),
                "its control blocks lead to different merkle roots",
            ));
        }
        root = Some(node);
    }
    Ok(root)
}

/// KeyAgg of `group` with the plain (BIP-32) `tweaks` applied.
///
/// # Errors
/// `invalid-input` for a tweak out of range or a result at infinity.
pub fn context(group: &Group, tweaks: &[[u8; 32]]) -> Result<KeyAggContext> {
    let mut ctx = keys::key_agg(&group.participants)?;
    for t in tweaks {
        ctx = ctx
            .with_plain_tweak(keys::scalar(t)?)
            .map_err(|e| Error::invalid("musig2 tweak", e.to_string()))?;
    }
    Ok(ctx)
}

/// `ctx` with the BIP-341 taproot tweak for `merkle_root` (none: BIP-86, no script).
///
/// # Errors
/// `invalid-input` for a result at infinity.
pub fn taproot_context(
    ctx: KeyAggContext,
    merkle_root: Option<TapNodeHash>,
) -> Result<KeyAggContext> {
    match merkle_root {
        Some(root) => ctx.with_taproot_tweak(&root.to_byte_array()),
        None => ctx.with_unspendable_taproot_tweak(),
    }
    .map_err(|e| Error::invalid("musig2 tweak", e.to_string()))
}

/// The MuSig2 sessions of input `index` for the aggregates of `groups`.
///
/// # Errors
/// `invalid-input` when the input's taproot fields are inconsistent.
pub fn spends(psbt: &Psbt, index: usize, groups: &[Group]) -> Result<Vec<Spend>> {
    let Some(input) = psbt.inputs.get(index) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (xonly, (leaves, (fingerprint, path))) in &input.tap_key_origins {
        for group in groups.iter().filter(|g| g.fingerprint() == *fingerprint) {
            let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
            let Ok((derived, tweaks)) = keys::derive(&group.xpub(), &steps) else {
                continue;
            };
            if derived.public_key.x_only_public_key().0 != *xonly {
                continue;
            }
            let ctx = context(group, &tweaks)?;
            for leaf in leaves {
                out.push(Spend {
                    input: index,
                    group: group.clone(),
                    aggregate: derived.public_key,
                    leaf: Some(*leaf),
                    context: ctx.clone(),
                });
            }
            if input.tap_internal_key != Some(*xonly) {
                continue;
            }
            let tweaked = taproot_context(ctx, merkle_root(input, index)?)?;
            let output: PublicKey = keys::public_key(&tweaked.aggregated_pubkey::<Point>())?;
            let pays_to = spent_output(psbt, index).is_some_and(|u| {
                u.script_pubkey.is_p2tr()
                    && u.script_pubkey.as_bytes().get(2..)
                        == Some(&output.x_only_public_key().0.serialize()[..])
            });
            if pays_to {
                out.push(Spend {
                    input: index,
                    group: group.clone(),
                    aggregate: output,
                    leaf: None,
                    context: tweaked,
                });
            }
        }
    }
    Ok(out)
}

use bitcoin::hashes::Hash as _;
