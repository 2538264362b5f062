//! Replaying tests/vectors/ledger (a copy of ../shared/ledger-vectors): shared by the
//! native tests and the browser tests.
#![allow(dead_code, clippy::type_complexity)]

use std::cell::RefCell;
use std::rc::Rc;
use std::str::FromStr;

use bitcoin::bip32::DerivationPath;
use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::policy::{PolicyVersion, WalletPolicy};
use hwsigner::protocol::psbt::raw;
use hwsigner::protocol::psbt::signature::InputSignature;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::{Identity, Packets, Transport};
use hwsigner::{Error, Result};
use serde_json::Value;

pub mod fund;
pub mod known;
mod text;
#[allow(unused_imports)]
pub use text::{cases, hex, to_hex};

pub const GET_EXTENDED_PUBKEY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/ledger/get_extended_pubkey.json"
));
pub const GET_WALLET_ADDRESS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/ledger/get_wallet_address.json"
));
pub const REGISTER_WALLET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/ledger/register_wallet.json"
));
pub const SIGN_PSBT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/ledger/sign_psbt.json"
));
pub const MISC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/ledger/misc.json"
));

/// The recorded exchanges of a case: (APDU the host must send, reply).
pub fn exchanges(case: &Value) -> Vec<(Vec<u8>, Vec<u8>)> {
    let lines: Vec<&str> = case["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| !l.starts_with("//"))
        .collect();
    lines
        .chunks(2)
        .map(|pair| {
            assert!(
                pair[0].starts_with("=> ") && pair[1].starts_with("<= "),
                "bad vector lines {pair:?}"
            );
            (hex(&pair[0][3..]), hex(&pair[1][3..]))
        })
        .collect()
}

/// Where a replay stands: how many exchanges were used, and the first mismatch.
#[derive(Default, Debug)]
pub struct ReplayState {
    pub used: usize,
    pub mismatch: Option<String>,
}

/// A function that answers each APDU exactly as recorded, and notes the first APDU
/// that differs.
pub fn responder(
    recorded: Vec<(Vec<u8>, Vec<u8>)>,
) -> (
    impl FnMut(&[u8]) -> Result<Vec<u8>>,
    Rc<RefCell<ReplayState>>,
) {
    let state = Rc::new(RefCell::new(ReplayState::default()));
    let st = state.clone();
    let respond = move |apdu: &[u8]| {
        let mut s = st.borrow_mut();
        let i = s.used;
        let Some((expected, reply)) = recorded.get(i) else {
            s.mismatch.get_or_insert(format!(
                "exchange {i}: sent {} after the recording ended",
                to_hex(apdu)
            ));
            return Err(Error::Disconnected);
        };
        if apdu != expected.as_slice() {
            s.mismatch.get_or_insert(format!(
                "exchange {i}: sent {}\n expected {}",
                to_hex(apdu),
                to_hex(expected)
            ));
            return Err(Error::Disconnected);
        }
        s.used += 1;
        Ok(reply.clone())
    };
    (respond, state)
}

/// A device that answers exactly as recorded.
pub fn replay_device(
    recorded: Vec<(Vec<u8>, Vec<u8>)>,
) -> (Ledger<MemoryTransport>, Rc<RefCell<ReplayState>>) {
    let (mut respond, state) = responder(recorded);
    let transport = MemoryTransport::new(
        Packets::Messages,
        Identity::default(),
        move |apdu: &[u8]| Ok(vec![respond(apdu)?]),
    );
    (Ledger::new(transport), state)
}

pub fn policy_of(case: &Value) -> WalletPolicy {
    let keys: Vec<String> = case["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut p = WalletPolicy::new(
        case["name"].as_str().unwrap(),
        case["policy"].as_str().unwrap(),
        keys,
    )
    .unwrap();
    if case["version"].as_u64() == Some(1) {
        p.version = PolicyVersion::V1;
    }
    p
}

fn hmac_of(case: &Value) -> Option<[u8; 32]> {
    case["hmac"].as_str().map(|h| hex(h).try_into().unwrap())
}

pub fn finish(
    state: &Rc<RefCell<ReplayState>>,
    total: usize,
    result: Result<()>,
) -> std::result::Result<(), String> {
    let s = state.borrow();
    if let Some(m) = &s.mismatch {
        return Err(m.clone());
    }
    result.map_err(|e| format!("{e} (after {} of {total} exchanges)", s.used))?;
    if s.used != total {
        return Err(format!(
            "only {} of {total} recorded exchanges were used",
            s.used
        ));
    }
    Ok(())
}

/// Replays one case of one file; `Ok` when every APDU matched, all were used, and the
/// result equals the recorded one.
pub async fn replay(file: &str, case: &Value) -> std::result::Result<(), String> {
    let recorded = exchanges(case);
    let total = recorded.len();
    let (mut dev, state) = replay_device(recorded);
    let result = run_case(&mut dev, file, case).await;
    finish(&state, total, result)
}

/// Runs the operation of one case on `dev` and checks its result.
pub async fn run_case<T: Transport>(dev: &mut Ledger<T>, file: &str, case: &Value) -> Result<()> {
    {
        match file {
            "get_extended_pubkey" => {
                let path =
                    DerivationPath::from_str(case["derivation_path"].as_str().unwrap()).unwrap();
                let xpub = dev.xpub(&path, case["display"].as_bool().unwrap()).await?;
                check_eq(&xpub.to_string(), case["result"].as_str().unwrap())
            }
            "get_version" => {
                let info = dev.app_info().await?;
                check_eq(&info.name, case["result"]["name"].as_str().unwrap())?;
                check_eq(&info.version, case["result"]["version"].as_str().unwrap())?;
                check_eq(
                    &to_hex(&info.flags),
                    case["result"]["flags"].as_str().unwrap(),
                )
            }
            "sign_message" => {
                let path =
                    DerivationPath::from_str(case["derivation_path"].as_str().unwrap()).unwrap();
                let sig = dev
                    .sign_message(&path, case["message"].as_str().unwrap().as_bytes())
                    .await?;
                check_eq(&sig, case["result"].as_str().unwrap())
            }
            "register_wallet" => {
                let policy = policy_of(case);
                let reg = dev.register_policy(&policy).await?;
                check_eq(&to_hex(&reg.hmac), case["hmac"].as_str().unwrap())
            }
            "get_wallet_address" => {
                let policy = policy_of(case);
                let hmac = hmac_of(case);
                let addr = dev
                    .address(
                        &policy,
                        hmac.as_ref(),
                        case["change"].as_bool().unwrap(),
                        case["address_index"].as_u64().unwrap() as u32,
                        case["display"].as_bool().unwrap(),
                    )
                    .await?;
                check_eq(&addr, case["address"].as_str().unwrap())
            }
            "sign_psbt" => {
                let policy = policy_of(case);
                let hmac = hmac_of(case);
                let psbt = raw::decode(case["psbt"].as_str().unwrap().as_bytes())?;
                let opts = hwsigner::device::SignOptions {
                    policy: Some((policy, hmac)),
                    ..Default::default()
                };
                let signed = dev.sign_psbt(&psbt, &opts).await?;
                check_signed(case, &signed)
            }
            other => panic!("unknown vector file {other}"),
        }
    }
}

fn check_eq(got: &str, want: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::protocol(format!(
            "result {got:?}, recorded {want:?}"
        )))
    }
}

/// Every expected signature was yielded, and every yielded one is in the new PSBT.
fn check_signed(case: &Value, signed: &hwsigner::device::Signed) -> Result<()> {
    if signed.signatures.is_empty() {
        return Err(Error::protocol("no signature"));
    }
    let out = signed.psbt.to_bitcoin()?;
    for (index, sig) in &signed.signatures {
        let input = &out.inputs[*index];
        let present = match sig {
            InputSignature::Ecdsa { pubkey, sig } => input.partial_sigs.get(pubkey) == Some(sig),
            InputSignature::TapKey { sig, .. } => input.tap_key_sig.as_ref() == Some(sig),
            InputSignature::TapScript { key, leaf, sig } => {
                input.tap_script_sigs.get(&(*key, *leaf)) == Some(sig)
            }
            other => panic!("a signature of a kind this test does not know: {other:?}"),
        };
        if !present {
            return Err(Error::protocol(format!(
                "signature for input {index} missing from the psbt"
            )));
        }
    }
    for want in case["sigs"].as_array().unwrap() {
        let key = want["key"].as_str().unwrap();
        let sig = want["sig"].as_str().unwrap();
        let found = signed.signatures.iter().any(|(_, s)| match s {
            InputSignature::Ecdsa { pubkey, sig: got } => {
                to_hex(&pubkey.to_bytes()) == key && to_hex(&got.to_vec()) == sig
            }
            InputSignature::TapKey { key: k, sig: got } => {
                to_hex(&k.serialize()) == key && to_hex(&got.to_vec()) == sig
            }
            InputSignature::TapScript {
                key: k, sig: got, ..
            } => to_hex(&k.serialize()) == key && to_hex(&got.to_vec()) == sig,
            other => panic!("a signature of a kind this test does not know: {other:?}"),
        });
        if !found {
            return Err(Error::protocol(format!(
                "recorded signature by {key} not yielded"
            )));
        }
    }
    Ok(())
}

/// All 15 cases: (file, case).
pub fn all_cases() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    for c in cases(GET_EXTENDED_PUBKEY) {
        out.push(("get_extended_pubkey", c));
    }
    for c in cases(GET_WALLET_ADDRESS) {
        out.push(("get_wallet_address", c));
    }
    for c in cases(REGISTER_WALLET) {
        out.push(("register_wallet", c));
    }
    for c in cases(SIGN_PSBT) {
        out.push(("sign_psbt", c));
    }
    for c in cases(MISC) {
        let kind = if c["command"] == "get_version" {
            "get_version"
        } else {
            "sign_message"
        };
        out.push((kind, c));
    }
    out
}
