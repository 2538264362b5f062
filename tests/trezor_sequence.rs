//! The simulated Trezor streams SignTx in the firmware's order: the request sequences
//! the firmware's own device tests expect (core models), message for message.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::trezor::Trezor;
use hwsigner::protocol::trezor::framing;
use hwsigner::protocol::trezor::messages::{request_type, types, ButtonRequest, TxRequest};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::{Identity, Packets};
use prost::Message;
use trezor_support::*;

fn describe(ty: u16, payload: &[u8]) -> Option<String> {
    match ty {
        types::BUTTON_REQUEST => Some(format!(
            "button({})",
            ButtonRequest::decode(payload).unwrap().code.unwrap()
        )),
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
                request_type::TXMETA => format!("meta({})", &hash[2..]),
                request_type::TXFINISHED => "finished".into(),
                other => format!("type {other}"),
            })
        }
        _ => None,
    }
}

fn sequence(name: &str) -> Vec<String> {
    let mut sim = TrezorSim::with_test_seed().unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let link = MemoryTransport::new(
        Packets::Messages,
        Identity::default(),
        move |data: &[u8]| {
            let (ty, payload) = framing::decode_message(data)?;
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
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap();
    let (raw, _) = psbt_of(&case);
    block_on(t.sign_psbt(
        &raw,
        &SignOptions {
            network: Some(coin(&case).network()),
            ..Default::default()
        },
    ))
    .unwrap();
    let all = seen.borrow().clone();
    // From the first TxRequest on (GetPublicKey for the fingerprint comes first).
    all.into_iter().skip_while(|s| s != "input(0)").collect()
}

fn expect(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn legacy_one_input_one_output() {
    // tests/device_tests/bitcoin/test_signtx.py::test_one_one_fee (core).
    assert_eq!(
        sequence("test_signtx::test_one_one_fee"),
        expect(&[
            "input(0)",
            "output(0)",
            "button(3)",
            "button(3)",
            "button(8)",
            "input(0)",
            "meta(0dac36)",
            "input(0, 0dac36)",
            "output(0, 0dac36)",
            "output(1, 0dac36)",
            "input(0)",
            "output(0)",
            "output(0)",
            "finished",
        ])
    );
}

#[test]
fn legacy_with_change() {
    // test_signtx.py::test_testnet_one_two_fee (core): the change output is not shown.
    assert_eq!(
        sequence("test_signtx::test_testnet_one_two_fee"),
        expect(&[
            "input(0)",
            "output(0)",
            "button(3)",
            "button(3)",
            "output(1)",
            "button(8)",
            "input(0)",
            "meta(e5040e)",
            "input(0, e5040e)",
            "output(0, e5040e)",
            "output(1, e5040e)",
            "input(0)",
            "output(0)",
            "output(1)",
            "output(0)",
            "output(1)",
            "finished",
        ])
    );
}

#[test]
fn op_return_is_shown_on_one_screen() {
    // test_op_return.py::test_opreturn (core).
    assert_eq!(
        sequence("test_op_return::test_opreturn"),
        expect(&[
            "input(0)",
            "output(0)",
            "button(3)",
            "button(3)",
            "output(1)",
            "button(3)",
            "button(8)",
            "input(0)",
            "meta(4075a1)",
            "input(0, 4075a1)",
            "output(0, 4075a1)",
            "input(0)",
            "output(0)",
            "output(1)",
            "output(0)",
            "output(1)",
            "finished",
        ])
    );
}

#[test]
fn taproot_only_skips_previous_transactions() {
    let s = sequence("test_signtx_taproot::test_send_p2tr");
    assert!(!s.iter().any(|x| x.starts_with("meta")), "{s:?}");
    assert_eq!(s.last().map(String::as_str), Some("finished"));
}
