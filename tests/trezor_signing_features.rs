//! The signing features Trezor Connect has, through the host client against the
//! simulated Trezor, checked against the firmware's own device tests: external
//! inputs (already signed, or with a proof of ownership), replacements (fee bumps,
//! payjoin, meld) and change back to the same multisig wallet. Each case must end with
//! the firmware's serialized transaction byte for byte, after the firmware's sequence
//! of requests and screens, and leave the caller's PSBT as it was.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::trezor::Trezor;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::protocol::trezor::framing;
use hwsigner::protocol::trezor::messages::{
    button, failure, request_type, types, ButtonRequest, Failure, TxRequest,
};
use hwsigner::sim::confirm::{Confirm, Prompt};
use hwsigner::sim::fault::Faults;
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::{Identity, Packets};
use hwsigner::Error;
use prost::Message;
use serde_json::Value;
use trezor_support::features::*;
use trezor_support::*;

fn describe(ty: u16, payload: &[u8]) -> Option<String> {
    match ty {
        types::BUTTON_REQUEST => {
            let code = ButtonRequest::decode(payload).unwrap().code.unwrap();
            Some(match code {
                button::CONFIRM_OUTPUT => "button(ConfirmOutput)".into(),
                button::SIGN_TX => "button(SignTx)".into(),
                button::UNKNOWN_DERIVATION_PATH => "button(UnknownDerivationPath)".into(),
                other => format!("button({other})"),
            })
        }
        types::FAILURE => {
            let code = Failure::decode(payload).unwrap().code.unwrap();
            Some(match code {
                failure::DATA_ERROR => "failure(DataError)".into(),
                failure::PROCESS_ERROR => "failure(ProcessError)".into(),
                other => format!("failure({other})"),
            })
        }
        types::TX_REQUEST => {
            let r = TxRequest::decode(payload).unwrap();
            let d = r.details.unwrap_or_default();
            let hash = d
                .tx_hash
                .map(|h| format!(", {}", &to_hex(&h)[..6]))
                .unwrap_or_default();
            let index = d.request_index.map(|i| i.to_string()).unwrap_or_default();
            Some(match r.request_type.unwrap() {
                request_type::TXINPUT => format!("input({index}{hash})"),
                request_type::TXOUTPUT => format!("output({index}{hash})"),
                request_type::TXORIGINPUT => format!("orig_input({index}{hash})"),
                request_type::TXORIGOUTPUT => format!("orig_output({index}{hash})"),
                request_type::TXMETA => format!("meta({})", &hash[2..]),
                request_type::TXFINISHED => "finished".into(),
                other => format!("type {other}"),
            })
        }
        _ => None,
    }
}

/// What the simulated Trezor did while signing one case.
struct Run {
    result: hwsigner::Result<hwsigner::device::Signed>,
    /// Requests, screens and failures, from the first TxRequest on.
    requests: Vec<String>,
    /// What the simulated user was asked to confirm.
    prompts: Vec<String>,
}

fn sign(case: &Value, raw: &RawPsbt, options: &SignOptions) -> Run {
    let prompts = Rc::new(RefCell::new(Vec::new()));
    let asked = prompts.clone();
    let confirm = Confirm::Ask(Rc::new(move |p: &Prompt| {
        if let Prompt::SignTransaction(s) = p {
            asked.borrow_mut().push(s.clone());
        }
        true
    }));
    let mut sim = TrezorSim::new(case_seed(case), confirm, Faults::none());
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let link = MemoryTransport::new(
        Packets::Messages,
        Identity::default(),
        move |data: &[u8]| {
            let (ty, payload) = framing::decode_message(data)?;
            if ty == types::SIGN_TX {
                log.borrow_mut().clear();
            }
            let replies = sim.handle_message(ty, &payload);
            for (t, p) in &replies {
                if let Some(d) = describe(*t, p) {
                    log.borrow_mut().push(d);
                }
            }
            replies
                .into_iter()
                .map(|(t, p)| framing::encode_message(t, &p))
                .collect()
        },
    );
    let mut t = Trezor::new(link);
    let result = block_on(t.sign_psbt(raw, options));
    let requests = seen.borrow().clone();
    let prompts = prompts.borrow().clone();
    Run {
        result,
        requests,
        prompts,
    }
}

/// Whether a firmware test's `match=` pattern (alternatives, `[Ee]`) matches.
fn matches_pattern(message: &str, pattern: &str) -> bool {
    pattern.split('|').any(|alt| {
        message
            .to_lowercase()
            .contains(&alt.replace("[Ee]", "e").to_lowercase())
    })
}

/// Signs every case of `file` and returns the failures.
fn run_file(file: &str) -> (usize, Vec<String>) {
    let cases = cases(file);
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.get("attack").is_none()) {
        let name = case["name"].as_str().unwrap();
        let (raw, psbt, replaces) = features_psbt(case);
        let before = raw.serialize();
        let options = SignOptions {
            network: Some(network(case)),
            replaces,
            ..Default::default()
        };
        let run = sign(case, &raw, &options);
        assert_eq!(raw.serialize(), before, "{name}: the caller's psbt changed");
        if let Some(want) = case.get("expected_requests") {
            let want: Vec<String> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            if run.requests != want {
                failures.push(format!(
                    "{name}: requests\n got {:?}\nwant {want:?}",
                    run.requests
                ));
            }
        }
        if let Some(f) = case.get("expected_failure") {
            match &run.result {
                Err(Error::Device { code, message }) => {
                    let code_name = match *code as i32 {
                        failure::DATA_ERROR => "DataError",
                        failure::PROCESS_ERROR => "ProcessError",
                        _ => "other",
                    };
                    if code_name != f["code"]
                        || !matches_pattern(message, f["message"].as_str().unwrap())
                    {
                        failures.push(format!("{name}: failed with {code} {message}, not {f}"));
                    }
                }
                other => failures.push(format!("{name}: {other:?} where {f} was expected")),
            }
            continue;
        }
        let signed = match run.result {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let tx = signed.serialized_transaction().unwrap();
        if to_hex(&tx) != case["expected_serialized_tx"].as_str().unwrap() {
            failures.push(format!(
                "{name}: serialized tx differs:\n got {}\nwant {}",
                to_hex(&tx),
                case["expected_serialized_tx"]
            ));
            continue;
        }
        let parsed: bitcoin::Transaction = bitcoin::consensus::deserialize(&tx).unwrap();
        assert_eq!(
            parsed.compute_txid().to_string(),
            case["expected_txid"].as_str().unwrap(),
            "{name}"
        );
        // One verified signature for each input of ours; external inputs keep what
        // the caller gave and get none.
        let view = signed.psbt.view().unwrap();
        for (i, input) in case["inputs"].as_array().unwrap().iter().enumerate() {
            let (before, after) = (&psbt.inputs[i], &view.inputs[i]);
            if input["script_type"] == "EXTERNAL" {
                assert_eq!(before, after, "{name}: external input {i} changed");
                assert!(!signed.signatures.iter().any(|(k, _)| *k == i), "{name}");
            } else {
                let n = after.partial_sigs.len() - before.partial_sigs.len()
                    + usize::from(after.tap_key_sig.is_some());
                assert_eq!(n, 1, "{name}: input {i}");
            }
        }
        // Change is hidden: its address is on no screen; payments are shown.
        if let Some(hidden) = case.get("hidden_outputs") {
            for (j, out) in parsed.output.iter().enumerate() {
                let address = bitcoin::Address::from_script(&out.script_pubkey, network(case))
                    .unwrap()
                    .to_string();
                let shown = run.prompts.iter().any(|p| p.contains(&address));
                let is_hidden = hidden.as_array().unwrap().iter().any(|h| h == j);
                if shown == is_hidden {
                    failures.push(format!(
                        "{name}: output {j} ({address}) shown: {shown}, prompts {:?}",
                        run.prompts
                    ));
                }
            }
        }
    }
    (cases.len(), failures)
}

#[test]
fn external_inputs_match_the_firmware() {
    let (n, failures) = run_file(EXTERNAL);
    assert_eq!(n, 13);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn replacements_match_the_firmware() {
    let (n, failures) = run_file(REPLACEMENT);
    // Two more are attacks in the replaced transaction a client streams (trezorlib
    // runs them, see trezor_python.rs); hwsigner describes it from the PSBT.
    assert_eq!(n, 14);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn multisig_change_matches_the_firmware() {
    let (n, failures) = run_file(MULTISIG_CHANGE);
    assert_eq!(n, 6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn case_named(file: &str, name: &str) -> Value {
    cases(file).into_iter().find(|c| c["name"] == name).unwrap()
}

#[test]
fn a_replacement_must_spend_every_input_of_what_it_replaces() {
    let case = case_named(REPLACEMENT, "test_signtx_replacement::test_tx_meld");
    let (raw, psbt, replaces) = features_psbt(&case);
    let fpr = case_seed(&case).fingerprint();
    let coin = Some(hwsigner::protocol::trezor::btc::Coin::Testnet);
    use hwsigner::protocol::trezor::btc::plan::build_replacing;
    // As given: each input names its replaced transaction and index.
    let plan = build_replacing(&psbt, fpr, coin, &replaces).unwrap();
    assert_eq!(plan.orig_txs.len(), 2);
    let named: Vec<Option<u32>> = plan.inputs.iter().map(|i| i.orig_index).collect();
    assert_eq!(named, [Some(0), Some(0), Some(1), Some(1)]);
    // The new change output is in neither replaced transaction; the dropped change
    // outputs are described as change, the kept payments by address.
    assert_eq!(plan.outputs[2].orig_hash, None);
    let dropped: usize = plan
        .orig_txs
        .values()
        .flat_map(|o| &o.outputs)
        .filter(|o| !o.address_n.is_empty())
        .count();
    assert_eq!(dropped, 2);
    // A psbt that drops an input of a replaced transaction does not replace it.
    let mut fewer = psbt.clone();
    fewer.unsigned_tx.input.remove(3);
    fewer.inputs.remove(3);
    let e = build_replacing(&fewer, fpr, coin, &replaces).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, reason } if field == "replaces"
            && reason.contains("spends every input")),
        "{e}"
    );
    // Inputs in another order than in the replaced transaction.
    let mut swapped = psbt.clone();
    swapped.unsigned_tx.input.swap(0, 2);
    swapped.inputs.swap(0, 2);
    let e = build_replacing(&swapped, fpr, coin, &replaces).unwrap_err();
    assert!(e.to_string().contains("another order"), "{e}");
    // The same replaced transaction twice.
    let twice = [replaces[0].clone(), replaces[0].clone()];
    let e = build_replacing(&psbt, fpr, coin, &twice).unwrap_err();
    assert!(e.to_string().contains("named twice"), "{e}");
    // Without the dropped change, the device refuses to drop a payment, and the
    // caller's psbt is untouched.
    let bare: Vec<hwsigner::protocol::psbt::Replaced> = replaces
        .iter()
        .map(|r| hwsigner::protocol::psbt::Replaced::new(r.tx.clone()))
        .collect();
    let before = raw.serialize();
    let run = sign(
        &case,
        &raw,
        &SignOptions {
            network: Some(network(&case)),
            replaces: bare,
            ..Default::default()
        },
    );
    match run.result {
        Err(Error::Device { message, .. }) => {
            assert!(
                message.contains("removal of original external outputs"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(raw.serialize(), before);
}

#[test]
fn a_signature_for_an_external_input_is_a_lie() {
    use hwsigner::protocol::trezor::btc::{finish, plan, sign_tx::SignTxResult};
    let case = case_named(EXTERNAL, "test_signtx_external::test_p2wpkh_presigned");
    let (raw, psbt, _) = features_psbt(&case);
    let fpr = case_seed(&case).fingerprint();
    let plan = plan::build(&psbt, fpr, None).unwrap();
    assert!(plan.signers[0].is_some() && plan.signers[1].is_none());
    // The external input goes with its script, amount and witness, and no path.
    let ext = &plan.inputs[1];
    assert!(ext.address_n.is_empty());
    assert_eq!(ext.witness.as_deref().map(<[u8]>::len), Some(107));
    let signed = sign(&case, &raw, &SignOptions::default()).result.unwrap();
    let (_, ours) = &signed.signatures[0];
    let der = match ours {
        hwsigner::protocol::psbt::signature::InputSignature::Ecdsa { sig, .. } => {
            sig.signature.serialize_der().to_vec()
        }
        other => panic!("{other:?}"),
    };
    let tx = signed.serialized_transaction().unwrap();
    let honest = SignTxResult {
        signatures: vec![Some(der.clone()), None],
        serialized_tx: tx.clone(),
    };
    finish::finish(&raw, &psbt, &plan, honest).unwrap();
    let lying = SignTxResult {
        signatures: vec![Some(der.clone()), Some(der)],
        serialized_tx: tx,
    };
    let e = finish::finish(&raw, &psbt, &plan, lying).unwrap_err();
    assert_eq!(e.code(), "protocol", "{e}");
    assert!(e.to_string().contains("input 1"), "{e}");
}

#[test]
fn only_inputs_of_ours_are_signed_and_a_ledger_refuses_replacements() {
    // No input of ours at all.
    let case = case_named(EXTERNAL, "test_signtx_external::test_p2wpkh_presigned");
    let (_, psbt, _) = features_psbt(&case);
    let e = hwsigner::protocol::trezor::btc::plan::build(
        &psbt,
        bitcoin::bip32::Fingerprint::from([1, 2, 3, 4]),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), "unsupported");
    assert!(
        e.to_string().contains("input 0 is not this trezor's"),
        "{e}"
    );
    // A Ledger is not told of replaced transactions: refused before any exchange.
    let case = case_named(REPLACEMENT, "test_signtx_replacement::test_p2wpkh_finalize");
    let (raw, _, replaces) = features_psbt(&case);
    let transport = MemoryTransport::new(Packets::Messages, Identity::default(), |_: &[u8]| {
        panic!("nothing is sent")
    });
    let mut ledger = hwsigner::driver::ledger::Ledger::new(transport);
    let e = block_on(ledger.sign_psbt(
        &raw,
        &SignOptions {
            replaces,
            ..Default::default()
        },
    ))
    .unwrap_err();
    assert_eq!(e.code(), "unsupported", "{e}");
}

#[test]
fn a_payjoin_finalizes_with_the_receivers_input_as_given() {
    let case = case_named(
        REPLACEMENT,
        "test_signtx_replacement::test_p2wpkh_payjoin[no_fee_bump]",
    );
    let (raw, _, replaces) = features_psbt(&case);
    let mut device = hwsigner::device::Device::Trezor(Trezor::new(Box::new(
        TrezorSim::new(case_seed(&case), Confirm::Approve, Faults::none()).into_transport(),
    )));
    let signed = block_on(device.sign_psbt(
        &raw,
        &SignOptions {
            network: Some(network(&case)),
            replaces,
            finalize: true,
            ..Default::default()
        },
    ))
    .unwrap();
    // The extracted transaction is the firmware's, witnesses and all.
    assert_eq!(
        to_hex(&signed.serialized_transaction().unwrap()),
        case["expected_serialized_tx"].as_str().unwrap()
    );
}
