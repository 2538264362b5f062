//! Every case of tests/vectors/trezor against the simulated Trezor, through the
//! host client: xpubs, addresses, message signatures, and full SignTx runs whose
//! serialized transaction must equal the firmware's byte for byte.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use bitcoin::bip32::Xpub;
use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::trezor::Trezor;
use hwsigner::protocol::trezor::btc::keys::address_n;
use hwsigner::protocol::trezor::btc::multisig::Multisig;
use hwsigner::protocol::trezor::call::Call;
use hwsigner::protocol::trezor::messages::{
    GetPublicKey, MessageSignature, PublicKey, SignMessage,
};
use std::str::FromStr;
use trezor_support::*;

#[test]
fn all_52_public_keys() {
    let cases = cases(PUBLIC_KEYS);
    assert_eq!(cases.len(), 52);
    let mut t = sim_trezor();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let p = path(case["path"].as_str().unwrap());
        let curve = case["ecdsa_curve_name"].as_str();
        let request = GetPublicKey {
            address_n: address_n(&p),
            ecdsa_curve_name: curve.map(String::from),
            show_display: Some(false),
            coin_name: case["coin"].as_str().map(String::from),
            script_type: case["script_type"].as_str().map(input_type),
            ignore_xpub_magic: case["ignore_xpub_magic"].as_bool(),
        };
        let got: PublicKey =
            block_on(t.run(Call::simple(&request, |pk: PublicKey| Ok(pk)))).unwrap();
        let node = got.node.clone().unwrap();
        if curve.is_some() {
            if to_hex(&node.public_key) != case["public_key"].as_str().unwrap() {
                failures.push(format!("case {n}: public key"));
            }
            continue;
        }
        if got.xpub != case["xpub"].as_str().unwrap() {
            failures.push(format!(
                "case {n} {}: xpub {} != {}",
                case["path"], got.xpub, case["xpub"]
            ));
        }
        if format!("{:08x}", got.root_fingerprint.unwrap())
            != case["root_fingerprint"].as_str().unwrap()
        {
            failures.push(format!("case {n}: root fingerprint"));
        }
        if let Some(d) = case["descriptor"].as_str() {
            if got.descriptor.as_deref() != Some(d) {
                failures.push(format!("case {n}: descriptor {:?} != {d}", got.descriptor));
            }
        }
        let want = &case["node"];
        if node.depth as u64 != want["depth"].as_u64().unwrap()
            || format!("{:08x}", node.fingerprint) != want["parent_fingerprint"].as_str().unwrap()
            || node.child_num as u64 != want["child_num"].as_u64().unwrap()
            || to_hex(&node.chain_code) != want["chain_code"].as_str().unwrap()
            || to_hex(&node.public_key) != want["public_key"].as_str().unwrap()
        {
            failures.push(format!("case {n}: node"));
        }
        // The client's own call (always plain xpub/tpub) returns the same key.
        let c = coin(case);
        let x = block_on(t.xpub_with(
            &p,
            c,
            input_type(case["script_type"].as_str().unwrap()),
            false,
        ))
        .unwrap();
        if case["ignore_xpub_magic"] == true && x.text != case["xpub"].as_str().unwrap() {
            failures.push(format!("case {n}: client xpub"));
        }
        if x.xpub.public_key.serialize().to_vec() != hex(want["public_key"].as_str().unwrap()) {
            failures.push(format!("case {n}: client key"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
}

#[test]
fn all_31_addresses() {
    let cases = cases(ADDRESSES);
    assert_eq!(cases.len(), 31);
    let mut t = sim_trezor();
    let mut failures = Vec::new();
    let mut multisig_cases = 0;
    for (n, case) in cases.iter().enumerate() {
        let p = path(case["path"].as_str().unwrap());
        let st = input_type(case["script_type"].as_str().unwrap());
        let ms = case.get("multisig").map(|m| {
            multisig_cases += 1;
            Multisig {
                m: m["m"].as_u64().unwrap() as u32,
                xpubs: m["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| Xpub::from_str(x.as_str().unwrap()).unwrap())
                    .collect(),
                path: m["address_n"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| (i.as_u64().unwrap() as u32).into())
                    .collect(),
                sorted: m["pubkeys_order"] == "LEXICOGRAPHIC",
            }
        });
        match block_on(t.address_with(&p, coin(case), st, ms.as_ref(), false)) {
            Ok(a) if a == case["address"].as_str().unwrap() => {}
            other => failures.push(format!(
                "case {n} {}: {other:?} != {}",
                case["path"], case["address"]
            )),
        }
    }
    assert_eq!(multisig_cases, 12);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_15_message_signatures() {
    let cases = cases(SIGN_MESSAGE);
    assert_eq!(cases.len(), 15);
    let mut t = sim_trezor();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let p = path(case["path"].as_str().unwrap());
        let st = input_type(case["script_type"].as_str().unwrap());
        let message = hex(case["message_hex"].as_str().unwrap());
        let (address, signature) = if case["no_script_type"] == true {
            let request = SignMessage {
                address_n: address_n(&p),
                message: message.clone(),
                coin_name: case["coin"].as_str().map(String::from),
                script_type: Some(st),
                no_script_type: Some(true),
                chunkify: None,
            };
            let s = block_on(t.run(Call::simple(&request, |s: MessageSignature| Ok(s)))).unwrap();
            // The host check recovers the key of the signature.
            let (header, key) =
                hwsigner::protocol::trezor::btc::message::recover(&s.signature, &message).unwrap();
            assert!((31..=34).contains(&header));
            assert_eq!(
                key.inner,
                seed()
                    .xpriv(&p)
                    .unwrap()
                    .private_key
                    .public_key(&bitcoin::key::Secp256k1::new())
            );
            (s.address, s.signature)
        } else {
            let s = block_on(t.sign_message_with(&p, coin(case), st, &message)).unwrap();
            assert_eq!(s.base64(), case["signature_base64"].as_str().unwrap());
            (s.address, s.signature)
        };
        if address != case["address"].as_str().unwrap()
            || to_hex(&signature) != case["signature_hex"].as_str().unwrap()
        {
            failures.push(format!(
                "case {n} {}: {address} {}",
                case["name"],
                to_hex(&signature)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_18_sign_tx_runs_match_the_firmware_byte_for_byte() {
    let cases = cases(SIGN_TX);
    assert_eq!(cases.len(), 18);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (raw, psbt) = psbt_of(case);
        let mut t: Trezor<_> = sim_trezor();
        let options = SignOptions {
            network: Some(coin(case).network()),
            ..Default::default()
        };
        match block_on(t.sign_psbt(&raw, &options)) {
            Ok(signed) => {
                if to_hex(&signed.serialized_transaction().unwrap())
                    != case["expected_serialized_tx"].as_str().unwrap()
                {
                    failures.push(format!(
                        "{name}: serialized tx differs:\n got {}\nwant {}",
                        to_hex(&signed.serialized_transaction().unwrap()),
                        case["expected_serialized_tx"]
                    ));
                }
                assert_eq!(signed.signatures.len(), psbt.inputs.len(), "{name}");
                // The new PSBT holds one verified signature per input.
                let view = signed.psbt.to_bitcoin().unwrap();
                for (i, input) in view.inputs.iter().enumerate() {
                    let n = input.partial_sigs.len() + usize::from(input.tap_key_sig.is_some());
                    assert_eq!(n, 1, "{name}: input {i}");
                    if let Some(sig) = input.partial_sigs.values().next() {
                        assert_eq!(sig.sighash_type, bitcoin::EcdsaSighashType::All);
                    }
                    if let Some(sig) = &input.tap_key_sig {
                        assert_eq!(sig.to_vec().len(), 64);
                    }
                }
                let tx: bitcoin::Transaction =
                    bitcoin::consensus::deserialize(&signed.serialized_transaction().unwrap())
                        .unwrap();
                assert_eq!(
                    tx.compute_txid().to_string(),
                    case["expected_txid"].as_str().unwrap(),
                    "{name}"
                );
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 18 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_12_multisig_addresses_from_descriptors() {
    let mut t = sim_trezor();
    let seed = seed();
    let mut done = 0;
    for case in cases(ADDRESSES)
        .iter()
        .filter(|c| c.get("multisig").is_some())
    {
        let m = &case["multisig"];
        let full = case["path"].as_str().unwrap();
        let steps: Vec<&str> = full.split('/').collect();
        let account = steps[..steps.len() - 2].join("/");
        let network = if case["coin"] == "Bitcoin" {
            bitcoin::NetworkKind::Main
        } else {
            bitcoin::NetworkKind::Test
        };
        let ours = seed.xpub(&path(&account), network).unwrap().to_string();
        let branch = m["address_n"][0].as_u64().unwrap();
        let index = m["address_n"][1].as_u64().unwrap() as u32;
        let keys: Vec<String> = m["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let x = x.as_str().unwrap();
                if x == ours {
                    format!(
                        "[{FPR}{}]{x}/{branch}/*",
                        account.trim_start_matches('m').replace('\'', "h")
                    )
                } else {
                    format!("[deadbeef]{x}/{branch}/*")
                }
            })
            .collect();
        let multi = if m["pubkeys_order"] == "LEXICOGRAPHIC" {
            "sortedmulti"
        } else {
            "multi"
        };
        let inner = format!("{multi}({},{})", m["m"], keys.join(","));
        let desc = match case["script_type"].as_str().unwrap() {
            "SPENDADDRESS" | "SPENDMULTISIG" => format!("sh({inner})"),
            "SPENDP2SHWITNESS" => format!("sh(wsh({inner}))"),
            "SPENDWITNESS" => format!("wsh({inner})"),
            other => panic!("{other}"),
        };
        let a = block_on(t.multisig_address(&desc, false, index, false))
            .unwrap_or_else(|e| panic!("{desc}: {e}"));
        assert_eq!(a, case["address"].as_str().unwrap(), "{desc}");
        done += 1;
    }
    assert_eq!(done, 12);
    // A descriptor without any of the device's keys.
    let foreign = "wsh(multi(1,[deadbeef]xpub6EgGHjcvovyMw8xyoJw9ZRUfjGLS1KUmbjVqMKSNfM6E8hq4EbQ3CpBxfGCPsdxzXtCFuKCxYarzY1TYCG1cmPwq9ep548cM9Ws9rB8V8E8/0/*))";
    assert_eq!(
        block_on(t.multisig_address(foreign, false, 0, false))
            .unwrap_err()
            .code(),
        "unsupported"
    );
    assert_eq!(
        block_on(t.multisig_address("wpkh(nonsense)", false, 0, false))
            .unwrap_err()
            .code(),
        "invalid-input"
    );
}

#[test]
fn the_device_verifies_the_vector_signatures() {
    let mut t = sim_trezor();
    for case in cases(SIGN_MESSAGE)
        .iter()
        .filter(|c| c["no_script_type"] == false)
    {
        let message = hex(case["message_hex"].as_str().unwrap());
        let sig = hex(case["signature_hex"].as_str().unwrap());
        let address = case["address"].as_str().unwrap();
        block_on(t.verify_message(address, &sig, &message, coin(case))).unwrap();
        // A changed message does not verify.
        let mut other = message.clone();
        other.push(b'!');
        let e = block_on(t.verify_message(address, &sig, &other, coin(case))).unwrap_err();
        assert!(matches!(e, hwsigner::Error::Device { code: 3, .. }), "{e}");
    }
    block_on(t.cancel()).unwrap();
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
}
