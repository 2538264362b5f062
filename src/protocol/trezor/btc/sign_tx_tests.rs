//! Tests of the SignTx answering machine.

use super::*;
use crate::protocol::machine::{Machine, Step};
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::messages::{
    TxInput, TxOutput, TxRequestDetailsType, TxRequestSerializedType,
};
use bitcoin::consensus::deserialize;
use prost::Message as _;
use std::collections::BTreeMap;

// A real transaction (vectors: the previous tx of test_one_one_fee).
const PREV: &str = "0100000001dacfb5828cd2434f29d237968d4c785b8e12d6d45108df91a2fc09cc26f7f9eb000000006b4830450221009deff16fa96f178b429a8a816ca08762fd5fd2972e0090c878b36a56898ce553022055caab6afe0ed050e6dfbf91af9541166b17bda4ade447c08077902a9992f19b012102187fc04e6004c9bbe63178bc3fb3d3d6fd747f127ade47753c6f2dab37a3ac85ffffffff02f4f90000000000001976a914afbbf5e4c1315ec9f5e96428986660130dbee7b888ac05d70200000000001976a9143f1cccd6cc6174f2ac6454081d66444dc39a02bc88ac00000000";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn plan() -> (Plan, Vec<u8>) {
    let prev: Transaction = deserialize(&hex(PREV)).unwrap();
    let txid = prev.compute_txid();
    let mut hash = txid.to_byte_array().to_vec();
    hash.reverse();
    let mut prev_txs = BTreeMap::new();
    prev_txs.insert(txid, prev);
    let plan = Plan {
        coin: Coin::Bitcoin,
        version: 1,
        lock_time: 0,
        inputs: vec![TxInput {
            prev_hash: hash.clone(),
            amount: 63988,
            ..Default::default()
        }],
        outputs: vec![TxOutput {
            address: Some("13Hbso8zgV5Wmqn3uA7h3QVtmPzs47wcJ7".into()),
            amount: 50248,
            ..Default::default()
        }],
        prev_txs,
        signers: vec![Some(crate::protocol::trezor::btc::plan::Signer::Ecdsa(
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                .parse()
                .unwrap(),
        ))],
        orig_txs: BTreeMap::new(),
    };
    (plan, hash)
}

fn request(kind: i32, index: Option<u32>, hash: Option<&[u8]>) -> TxRequest {
    TxRequest {
        request_type: Some(kind),
        details: Some(TxRequestDetailsType {
            request_index: index,
            tx_hash: hash.map(<[u8]>::to_vec),
            ..Default::default()
        }),
        serialized: None,
    }
}

type Sign = Call<SignTxResult>;

fn feed(call: &mut Sign, req: &TxRequest) -> Result<Step<(u16, Vec<u8>), SignTxResult>> {
    call.on_reply((types::TX_REQUEST, req.encode_to_vec()))
}

fn sent(step: Step<(u16, Vec<u8>), SignTxResult>) -> (u16, Vec<u8>) {
    match step {
        Step::Send(message) => message,
        _ => panic!("not a send"),
    }
}

#[test]
fn answers_every_request_type_from_the_plan() {
    let (plan, hash) = plan();
    let mut call = sign_tx(plan);
    let (ty, payload) = sent(call.start().unwrap());
    assert_eq!(ty, types::SIGN_TX);
    assert_eq!(SignTx::decode(payload.as_slice()).unwrap().inputs_count, 1);

    let (ty, p) = sent(feed(&mut call, &request(request_type::TXINPUT, Some(0), None)).unwrap());
    assert_eq!(ty, types::TX_ACK);
    let input = TxAckInput::decode(p.as_slice())
        .unwrap()
        .tx
        .unwrap()
        .input
        .unwrap();
    assert_eq!(input.amount, 63988);

    let p = sent(feed(&mut call, &request(request_type::TXOUTPUT, Some(0), None)).unwrap()).1;
    let out = TxAckOutput::decode(p.as_slice())
        .unwrap()
        .tx
        .unwrap()
        .output
        .unwrap();
    assert_eq!(out.amount, 50248);

    let p = sent(feed(&mut call, &request(request_type::TXMETA, None, Some(&hash))).unwrap()).1;
    let meta = TxAckPrevMeta::decode(p.as_slice()).unwrap().tx.unwrap();
    assert_eq!(
        (meta.inputs_count, meta.outputs_count, meta.version),
        (1, 2, 1)
    );

    let p = sent(
        feed(
            &mut call,
            &request(request_type::TXINPUT, Some(0), Some(&hash)),
        )
        .unwrap(),
    )
    .1;
    let pin = TxAckPrevInput::decode(p.as_slice())
        .unwrap()
        .tx
        .unwrap()
        .input
        .unwrap();
    assert_eq!(pin.script_sig.len(), 0x6b);
    assert_eq!(pin.sequence, 0xffff_ffff);

    let p = sent(
        feed(
            &mut call,
            &request(request_type::TXOUTPUT, Some(1), Some(&hash)),
        )
        .unwrap(),
    )
    .1;
    let pout = TxAckPrevOutput::decode(p.as_slice())
        .unwrap()
        .tx
        .unwrap()
        .output
        .unwrap();
    assert_eq!(pout.amount, 0x02d705);

    let p = sent(
        feed(
            &mut call,
            &request(request_type::TXEXTRADATA, None, Some(&hash)),
        )
        .unwrap(),
    )
    .1;
    let extra = TxAckPrevExtraData::decode(p.as_slice())
        .unwrap()
        .tx
        .unwrap();
    assert_eq!(extra.extra_data_chunk, Some(Vec::new()));

    // Serialized chunks and a signature come back with the requests.
    let mut with_sig = request(request_type::TXOUTPUT, Some(0), None);
    with_sig.serialized = Some(TxRequestSerializedType {
        signature_index: Some(0),
        signature: Some(vec![0x30, 0x01]),
        serialized_tx: Some(vec![1, 2]),
    });
    sent(feed(&mut call, &with_sig).unwrap());
    assert_eq!(
        call.poll_event(),
        Some(Status::Signing { index: 1, total: 1 })
    );
    assert_eq!(call.poll_event(), None);
    let mut fin = request(request_type::TXFINISHED, None, None);
    fin.serialized = Some(TxRequestSerializedType {
        serialized_tx: Some(vec![3]),
        ..Default::default()
    });
    match feed(&mut call, &fin).unwrap() {
        Step::Done(r) => {
            assert_eq!(r.serialized_tx, vec![1, 2, 3]);
            assert_eq!(r.signatures, vec![Some(vec![0x30, 0x01])]);
        }
        _ => panic!("not done"),
    }
}

#[test]
fn requests_the_plan_cannot_answer_are_protocol_errors() {
    let (plan, hash) = plan();
    let bad = [
        request(request_type::TXINPUT, Some(1), None),
        request(request_type::TXOUTPUT, None, None),
        request(request_type::TXMETA, None, Some(&[7; 32])),
        request(request_type::TXMETA, None, Some(&[7; 3])),
        request(request_type::TXOUTPUT, Some(2), Some(&hash)),
        request(request_type::TXPAYMENTREQ, Some(0), None),
        TxRequest {
            request_type: Some(request_type::TXEXTRADATA),
            details: Some(TxRequestDetailsType {
                tx_hash: Some(hash.clone()),
                extra_data_len: Some(4),
                extra_data_offset: Some(0),
                ..Default::default()
            }),
            serialized: None,
        },
        TxRequest {
            request_type: Some(request_type::TXINPUT),
            details: Some(TxRequestDetailsType {
                request_index: Some(0),
                ..Default::default()
            }),
            serialized: Some(TxRequestSerializedType {
                signature_index: Some(5),
                signature: Some(vec![1]),
                serialized_tx: None,
            }),
        },
    ];
    for req in bad {
        let mut call = sign_tx(plan.clone());
        let e = feed(&mut call, &req).unwrap_err();
        assert_eq!(e.code(), "protocol", "{req:?}: {e}");
    }
    let mut call = sign_tx(plan);
    let e = call
        .on_reply((types::TX_REQUEST, vec![0xff, 0xff]))
        .unwrap_err();
    assert_eq!(e.code(), "protocol");
}

#[test]
fn what_the_device_makes_the_host_hold_is_bounded() {
    let (plan, _) = plan();
    let budget = serialized_budget(&plan);
    assert!(budget < 2_000, "{budget}");
    let mut call = sign_tx(plan.clone());
    call.start().unwrap();
    let chunky = |n: usize| {
        let mut r = request(request_type::TXINPUT, Some(0), None);
        r.serialized = Some(TxRequestSerializedType {
            serialized_tx: Some(vec![0; n]),
            ..Default::default()
        });
        r
    };
    // Chunks of 500 bytes: accepted up to the budget, refused past it, long before the
    // request cap (which alone would let ~100 chunks of up to 1 MiB through).
    let mut accepted = 0;
    let e = loop {
        match feed(&mut call, &chunky(500)) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
        assert!(
            accepted < 10,
            "the serialized transaction grows without bound"
        );
    };
    assert_eq!(e.code(), "protocol");
    assert!(e.to_string().contains("serialized over"), "{e}");
    assert_eq!(accepted, budget / 500);
    // A signature longer than any DER or Schnorr signature.
    let mut call = sign_tx(plan);
    call.start().unwrap();
    let mut r = request(request_type::TXINPUT, Some(0), None);
    r.serialized = Some(TxRequestSerializedType {
        signature_index: Some(0),
        signature: Some(vec![0x30; 5000]),
        ..Default::default()
    });
    let e = feed(&mut call, &r).unwrap_err();
    assert!(e.to_string().contains("a signature of 5000 bytes"), "{e}");
}
