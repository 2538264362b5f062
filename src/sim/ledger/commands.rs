//! The simulated Bitcoin app's commands, except SIGN_PSBT (see `sign_psbt`).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bitcoin::bip32::{ChildNumber, DerivationPath};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::Message;

use crate::protocol::bytes::Reader;
use crate::protocol::ledger::btc::client::{ins, message_hash};
use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::policy::{derive_address, PolicyVersion, WalletPolicy, NO_HMAC};
use crate::sim::confirm::Prompt;
use crate::sim::fault::Fault;

use super::context::AppContext;
use super::host::{
    HostLink, SimResult, SW_DENY, SW_INCORRECT_DATA, SW_NOT_SUPPORTED, SW_SIGNATURE_FAIL,
};

type Handler = Pin<Box<dyn Future<Output = SimResult<Vec<u8>>>>>;

/// The handler of instruction `ins`, or `None` for an unknown one.
pub fn dispatch(
    instruction: u8,
    ctx: Rc<AppContext>,
    link: Rc<HostLink>,
    data: Vec<u8>,
) -> Option<Handler> {
    Some(match instruction {
        ins::GET_MASTER_FINGERPRINT => Box::pin(async move { master_fingerprint(&ctx, &data) }),
        ins::GET_EXTENDED_PUBKEY => Box::pin(async move { extended_pubkey(&ctx, &data) }),
        ins::REGISTER_WALLET => Box::pin(async move { register_wallet(&ctx, &link, &data).await }),
        ins::GET_WALLET_ADDRESS => {
            Box::pin(async move { wallet_address(&ctx, &link, &data).await })
        }
        ins::SIGN_PSBT => {
            Box::pin(async move { super::sign_psbt::sign_psbt(&ctx, &link, &data).await })
        }
        ins::SIGN_MESSAGE => Box::pin(async move { sign_message(&ctx, &link, &data).await }),
        _ => return None,
    })
}

fn bad<T>(_: T) -> u16 {
    SW_INCORRECT_DATA
}

fn master_fingerprint(ctx: &AppContext, data: &[u8]) -> SimResult<Vec<u8>> {
    if !data.is_empty() {
        return Err(SW_INCORRECT_DATA);
    }
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    Ok(seed.fingerprint().as_bytes().to_vec())
}

/// Reads `n | n × u32 BE` (at most 8 steps).
pub fn read_path(r: &mut Reader<'_>) -> SimResult<DerivationPath> {
    let n = usize::from(r.u8("path length").map_err(bad)?);
    if n > 8 {
        return Err(SW_INCORRECT_DATA);
    }
    let mut steps = Vec::with_capacity(n);
    for _ in 0..n {
        steps.push(ChildNumber::from(u32::from_be_bytes(
            r.array("path step").map_err(bad)?,
        )));
    }
    Ok(DerivationPath::from(steps))
}

fn extended_pubkey(ctx: &AppContext, data: &[u8]) -> SimResult<Vec<u8>> {
    let mut r = Reader::new(data, "get_extended_pubkey");
    let display = r.u8("display").map_err(bad)?;
    let path = read_path(&mut r)?;
    r.finish().map_err(bad)?;
    if display > 1 {
        return Err(SW_INCORRECT_DATA);
    }
    // As the app: a key off the standard paths is only given while shown.
    if display == 0 && !safe_for_export(&path, ctx.testnet) {
        return Err(SW_NOT_SUPPORTED);
    }
    let xpub = if ctx.faults.has(Fault::WrongFingerprint) {
        ctx.foreign_xpub(&path)
    } else {
        ctx.xpub(&path)
    }
    .ok_or(SW_INCORRECT_DATA)?;
    let text = xpub.to_string();
    if display == 1 && !ctx.confirm(&Prompt::Show(format!("{path}: {text}"))) {
        return Err(SW_DENY);
    }
    if ctx.faults.has(Fault::ForeignPubkey) {
        let other = ctx
            .xpub(&path.child(ChildNumber::Normal { index: 7 }))
            .ok_or(SW_INCORRECT_DATA)?;
        return Ok(other.to_string().into_bytes());
    }
    Ok(text.into_bytes())
}

/// Reads a serialized wallet policy and fetches its template and keys from the host.
pub async fn read_policy(link: &HostLink, serialized: &[u8]) -> SimResult<WalletPolicy> {
    let mut r = Reader::new(serialized, "wallet policy");
    let version = match r.u8("version").map_err(bad)? {
        1 => PolicyVersion::V1,
        2 => PolicyVersion::V2,
        _ => return Err(SW_INCORRECT_DATA),
    };
    let name_len = usize::from(r.u8("name length").map_err(bad)?);
    let name = String::from_utf8(r.bytes(name_len, "name").map_err(bad)?.to_vec()).map_err(bad)?;
    let template_len = usize::try_from(r.varint("template length").map_err(bad)?).map_err(bad)?;
    let template = match version {
        PolicyVersion::V1 => r.bytes(template_len, "template").map_err(bad)?.to_vec(),
        PolicyVersion::V2 => {
            let hash: Hash32 = r.array("template hash").map_err(bad)?;
            let t = link.preimage(&hash).await?;
            if t.len() != template_len {
                return Err(SW_INCORRECT_DATA);
            }
            t
        }
    };
    let n_keys = usize::try_from(r.varint("key count").map_err(bad)?).map_err(bad)?;
    let keys_root: Hash32 = r.array("keys root").map_err(bad)?;
    r.finish().map_err(bad)?;
    if n_keys == 0 || n_keys > 32 {
        return Err(SW_INCORRECT_DATA);
    }
    let keys = fetch_keys(link, &keys_root, n_keys).await?;
    let template = String::from_utf8(template).map_err(bad)?;
    let mut policy = WalletPolicy::new(&name, &template, keys).map_err(bad)?;
    policy.version = version;
    // The policy must be one the app can use.
    policy.descriptor().map_err(bad)?;
    Ok(policy)
}

/// Every key of a committed list, in order.
async fn fetch_keys(link: &HostLink, root: &Hash32, n: usize) -> SimResult<Vec<String>> {
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        keys.push(String::from_utf8(link.element(root, n, i).await?).map_err(bad)?);
    }
    Ok(keys)
}

/// Fetches the keys of `policy` again, as the app does where it reads them a second time
/// (the keys must be the ones read before).
async fn fetch_keys_again(link: &HostLink, policy: &WalletPolicy) -> SimResult<()> {
    let keys: Vec<Vec<u8>> = policy.keys.iter().map(|k| k.as_bytes().to_vec()).collect();
    let root = crate::protocol::ledger::btc::merkle::MerkleTree::from_elements(&keys).root();
    if fetch_keys(link, &root, keys.len()).await? == policy.keys {
        Ok(())
    } else {
        Err(SW_INCORRECT_DATA)
    }
}

async fn register_wallet(ctx: &AppContext, link: &HostLink, data: &[u8]) -> SimResult<Vec<u8>> {
    let mut r = Reader::new(data, "register_wallet");
    let len = usize::try_from(r.varint("policy length").map_err(bad)?).map_err(bad)?;
    let serialized = r.bytes(len, "policy").map_err(bad)?.to_vec();
    r.finish().map_err(bad)?;
    // As the app: a v2 policy's keys are read once to check the policy is sane, then
    // once more to show each to the user.
    let policy = read_policy(link, &serialized).await?;
    if policy.version == PolicyVersion::V2 {
        fetch_keys_again(link, &policy).await?;
    }
    if policy.name.is_empty()
        || !(0..policy.keys.len()).any(|i| ctx.our_key_origin(&policy, i).is_some())
    {
        return Err(SW_INCORRECT_DATA);
    }
    if !ctx.confirm(&Prompt::RegisterPolicy(format!(
        "{}: {}",
        policy.name, policy.template
    ))) {
        return Err(SW_DENY);
    }
    let id = sha256::Hash::hash(&serialized).to_byte_array();
    let mut out = id.to_vec();
    out.extend_from_slice(&ctx.policy_hmac(&id));
    Ok(out)
}

/// The app's rule for giving an xpub without showing it: purpose 44', 49', 84', 86'
/// (three hardened steps) or 48' (four, the last 1' or 2'), this network's coin type, an
/// account of at most 100, then only unhardened steps; or Electrum's
/// m/4541509'/1112098098'.
pub fn safe_for_export(path: &DerivationPath, testnet: bool) -> bool {
    let steps: Vec<u32> = path.into_iter().map(|c| u32::from(*c)).collect();
    const H: u32 = 0x8000_0000;
    if steps == [4_541_509 | H, 1_112_098_098 | H] {
        return true;
    }
    let hardened = match steps.first().map(|p| p & !H) {
        Some(44 | 45 | 49 | 84 | 86 | 87) => 3,
        Some(48) => 4,
        _ => return false,
    };
    let coin = u32::from(testnet);
    steps.len() >= hardened
        && steps.iter().take(hardened).all(|s| s & H != 0)
        && steps.iter().skip(hardened).all(|s| s & H == 0)
        && steps.get(1).map(|c| c & !H) == Some(coin)
        && steps.get(2).is_some_and(|a| a & !H <= 100)
        && (hardened == 3 || matches!(steps.get(3).map(|t| t & !H), Some(1 | 2)))
}

/// Checks that `policy` may be used with `hmac`: registered on this device, or one of
/// the standard single-key policies of this device's keys.
pub fn authorize(
    ctx: &AppContext,
    policy: &WalletPolicy,
    wallet_id: &Hash32,
    hmac: &Hash32,
) -> SimResult<()> {
    if *hmac != NO_HMAC {
        return if ctx.policy_hmac(wallet_id) == *hmac {
            Ok(())
        } else {
            Err(SW_SIGNATURE_FAIL)
        };
    }
    let origin = ctx.our_key_origin(policy, 0).ok_or(SW_INCORRECT_DATA)?;
    let steps: Vec<ChildNumber> = origin.into_iter().copied().collect();
    let coin = if ctx.testnet { 1 } else { 0 };
    match steps.as_slice() {
        [ChildNumber::Hardened { index: purpose }, ChildNumber::Hardened { index: c }, ChildNumber::Hardened { index: account }]
            if policy.name.is_empty()
                && policy.keys.len() == 1
                && *c == coin
                && *account < 100
                && crate::protocol::policy::standard::template_for_purpose(*purpose)
                    == Some(policy.template.as_str()) =>
        {
            Ok(())
        }
        _ => Err(SW_INCORRECT_DATA),
    }
}

async fn wallet_address(ctx: &AppContext, link: &HostLink, data: &[u8]) -> SimResult<Vec<u8>> {
    let mut r = Reader::new(data, "get_wallet_address");
    let display = r.u8("display").map_err(bad)?;
    let wallet_id: Hash32 = r.array("wallet id").map_err(bad)?;
    let hmac: Hash32 = r.array("hmac").map_err(bad)?;
    let change = r.u8("change").map_err(bad)?;
    let index = u32::from_be_bytes(r.array("index").map_err(bad)?);
    r.finish().map_err(bad)?;
    if display > 1 || change > 1 || index >= 0x8000_0000 {
        return Err(SW_INCORRECT_DATA);
    }
    let serialized = link.preimage(&wallet_id).await?;
    let policy = read_policy(link, &serialized).await?;
    authorize(ctx, &policy, &wallet_id, &hmac)?;
    // As the app: a standard policy's key is read to check it is this device's, then
    // again to derive the address.
    if hmac == NO_HMAC {
        fetch_keys_again(link, &policy).await?;
    }
    let address = if ctx.faults.has(Fault::ForeignPubkey) {
        foreign_address(ctx)?
    } else {
        // Another index than asked (flipping the last bit keeps it unhardened).
        let index = if ctx.faults.has(Fault::WrongAddress) {
            index ^ 1
        } else {
            index
        };
        derive_address(&policy, change == 1, index, ctx.network()).map_err(bad)?
    };
    if display == 1 && !ctx.confirm(&Prompt::Show(address.clone())) {
        return Err(SW_DENY);
    }
    Ok(address.into_bytes())
}

/// The p2wpkh address of a key the policy does not hold (our key at `m/7`).
fn foreign_address(ctx: &AppContext) -> SimResult<String> {
    let xpub = ctx
        .xpub(&DerivationPath::from(vec![ChildNumber::Normal {
            index: 7,
        }]))
        .ok_or(SW_INCORRECT_DATA)?;
    let key = bitcoin::CompressedPublicKey(xpub.public_key);
    Ok(bitcoin::Address::p2wpkh(&key, ctx.network()).to_string())
}

async fn sign_message(ctx: &AppContext, link: &HostLink, data: &[u8]) -> SimResult<Vec<u8>> {
    let mut r = Reader::new(data, "sign_message");
    let path = read_path(&mut r)?;
    let len = usize::try_from(r.varint("message length").map_err(bad)?).map_err(bad)?;
    let root: Hash32 = r.array("chunks root").map_err(bad)?;
    r.finish().map_err(bad)?;
    if len > 1 << 16 {
        return Err(SW_INCORRECT_DATA);
    }
    let chunks = len.div_ceil(64);
    let mut message = Vec::with_capacity(len);
    for i in 0..chunks {
        message.extend(link.element(&root, chunks, i).await?);
    }
    if message.len() != len {
        return Err(SW_INCORRECT_DATA);
    }
    if !ctx.confirm(&Prompt::SignMessage(
        String::from_utf8_lossy(&message).into_owned(),
    )) {
        return Err(SW_DENY);
    }
    let seed = ctx.seed.as_ref().ok_or(SW_INCORRECT_DATA)?;
    let key = seed.xpriv(&path).map_err(bad)?.private_key;
    if ctx.faults.has(Fault::OtherSighash) {
        // The right key over another message.
        message.push(b'!');
    }
    let digest = message_hash(&message).to_byte_array();
    let sig = seed
        .secp()
        .sign_ecdsa_recoverable(&Message::from_digest(digest), &key);
    let (recid, compact) = sig.serialize_compact();
    let mut out = vec![31 + recid.to_i32() as u8];
    out.extend_from_slice(&compact);
    if ctx.faults.has(Fault::BadSignature) {
        if let Some(b) = out.get_mut(10) {
            *b ^= 1;
        }
    }
    Ok(out)
}
