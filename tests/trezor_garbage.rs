//! Random and mutated bytes from a "device" never panic the host: every answer is a
//! result or a typed error.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use bitcoin::bip32::Fingerprint;
use hwsigner::protocol::machine::{Machine, Step};
use hwsigner::protocol::trezor::btc::{finish, keys, message, plan, sign_tx, Coin};
use hwsigner::protocol::trezor::call::Call;
use hwsigner::protocol::trezor::framing::Decoder;
use hwsigner::protocol::trezor::messages::{types, InputScriptType};
use trezor_support::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % (max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const CODES: [&str; 12] = [
    "user-rejected",
    "device-locked",
    "app-not-open",
    "busy",
    "disconnected",
    "timeout",
    "cancelled",
    "unsupported",
    "invalid-input",
    "protocol",
    "device",
    "transport",
];

#[test]
fn random_packets_never_panic_the_decoder() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut d = Decoder::new();
    for i in 0..20_000 {
        let mut p = rng.bytes(70);
        if i % 3 == 0 && p.len() >= 9 {
            p[..3].copy_from_slice(b"?##");
        }
        if let Err(e) = d.push(&p) {
            assert_eq!(e.code(), "protocol");
        }
    }
}

fn feed<T: 'static>(mut call: Call<T>, rng: &mut Rng, rounds: usize) {
    let kinds = [
        types::FAILURE,
        types::SUCCESS,
        types::PUBLIC_KEY,
        types::ADDRESS,
        types::MESSAGE_SIGNATURE,
        types::TX_REQUEST,
        types::BUTTON_REQUEST,
        types::FEATURES,
        999,
    ];
    for _ in 0..rounds {
        let ty = kinds[(rng.next() as usize) % kinds.len()];
        let payload = rng.bytes(120);
        match call.on_reply((ty, payload)) {
            Ok(Step::Done(_)) => return,
            Ok(Step::Send(_)) => {}
            Ok(Step::Need(need)) => panic!("no pin or passphrase request was sent: {need:?}"),
            Err(e) => {
                assert!(CODES.contains(&e.code()));
                let msg = e.to_string();
                assert_eq!(msg, msg.to_lowercase(), "{msg}");
                return;
            }
        }
    }
}

#[test]
fn random_replies_never_panic_a_call() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_taproot::test_send_mixed")
        .unwrap();
    let (_, psbt) = psbt_of(&case);
    let fpr = Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]);
    let p = plan::build(&psbt, fpr, None).unwrap();
    for _ in 0..3_000 {
        feed(keys::master_fingerprint(), &mut rng, 4);
        feed(
            keys::get_public_key(
                &path("m/84'/0'/0'"),
                Coin::Bitcoin,
                InputScriptType::SPENDWITNESS,
                false,
            ),
            &mut rng,
            4,
        );
        feed(
            keys::get_address(
                &path("m/84'/0'/0'/0/0"),
                Coin::Bitcoin,
                InputScriptType::SPENDWITNESS,
                None,
                false,
            ),
            &mut rng,
            4,
        );
        feed(
            message::sign_message(
                &path("m/84'/0'/0'/0/0"),
                Coin::Bitcoin,
                InputScriptType::SPENDWITNESS,
                b"m",
            ),
            &mut rng,
            4,
        );
        feed(sign_tx::sign_tx(p.clone()), &mut rng, 8);
    }
}

#[test]
fn mutated_real_replies_never_panic_signing() {
    use hwsigner::sim::trezor::TrezorSim;
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_mixed_inputs::test_non_segwit_segwit_inputs")
        .unwrap();
    let (raw, psbt) = psbt_of(&case);
    let expected_tx = case["expected_serialized_tx"].as_str().unwrap();
    let fpr = Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]);
    let p = plan::build(&psbt, fpr, None).unwrap();
    // (signed as the firmware does, caught in the call, caught when finishing)
    let mut outcomes = [0usize; 3];
    for _ in 0..40 {
        let mut sim = TrezorSim::with_test_seed().unwrap();
        let mut call = sign_tx::sign_tx(p.clone());
        let Ok(Step::Send((mut ty, mut payload))) = call.start() else {
            panic!("signtx starts by sending");
        };
        let result = loop {
            let replies = sim.handle_message(ty, &payload);
            let Some((rty, mut reply)) = replies.into_iter().next() else {
                break None;
            };
            if rng.next() % 40 == 0 && !reply.is_empty() {
                let i = (rng.next() as usize) % reply.len();
                reply[i] ^= 1 << (rng.next() % 8);
                if rng.next() % 2 == 0 {
                    reply.truncate(i);
                }
            }
            match call.on_reply((rty, reply)) {
                Ok(Step::Send((msg_type, next))) => {
                    ty = msg_type;
                    payload = next;
                }
                Ok(Step::Need(need)) => panic!("the simulator asked for {need:?}"),
                Ok(Step::Done(r)) => break Some(Ok(r)),
                Err(e) => break Some(Err(e)),
            }
        };
        match result {
            // What the call returns is checked as the driver does: every signature
            // against its sighash, the transaction against the PSBT's. It ends as the
            // firmware's own transaction, or as a typed error.
            Some(Ok(r)) => match finish::finish(&raw, &psbt, &p, r) {
                Ok(signed) => {
                    assert_eq!(
                        to_hex(&signed.serialized_transaction().unwrap()),
                        expected_tx
                    );
                    outcomes[0] += 1;
                }
                Err(e) => {
                    assert_eq!(e.code(), "protocol", "{e}");
                    outcomes[2] += 1;
                }
            },
            Some(Err(e)) => {
                assert!(CODES.contains(&e.code()), "{e}");
                outcomes[1] += 1;
            }
            None => {}
        }
    }
    // The seed gives runs of each kind.
    assert!(
        outcomes.iter().all(|n| *n > 0),
        "some runs sign, some mutations are caught in the call, some when finishing: \
         {outcomes:?}"
    );
}

#[test]
fn a_serialized_transaction_with_changed_script_data_is_refused() {
    use bitcoin::consensus::{deserialize, serialize};
    use futures::executor::block_on;
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_mixed_inputs::test_non_segwit_segwit_inputs")
        .unwrap();
    let (raw, psbt) = psbt_of(&case);
    let fpr = Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]);
    let p = plan::build(&psbt, fpr, None).unwrap();
    let mut t = sim_trezor();
    let result = block_on(t.run(sign_tx::sign_tx(p.clone()))).unwrap();
    let signed = finish::finish(&raw, &psbt, &p, result.clone()).unwrap();
    assert_eq!(
        to_hex(&signed.serialized_transaction().unwrap()),
        case["expected_serialized_tx"].as_str().unwrap()
    );
    // Input 0 is p2pkh (scriptSig: signature, key), input 1 p2wpkh (witness: same).
    let tx: bitcoin::Transaction = deserialize(&result.serialized_tx).unwrap();
    let mut changed = Vec::new();
    let mut key_in_script_sig = tx.clone();
    let mut bytes = key_in_script_sig.input[0].script_sig.to_bytes();
    *bytes.last_mut().unwrap() ^= 1;
    key_in_script_sig.input[0].script_sig = bitcoin::ScriptBuf::from_bytes(bytes);
    changed.push((0, key_in_script_sig));
    let mut key_in_witness = tx.clone();
    let mut items: Vec<Vec<u8>> = key_in_witness.input[1].witness.to_vec();
    *items[1].last_mut().unwrap() ^= 1;
    key_in_witness.input[1].witness = bitcoin::Witness::from_slice(&items);
    changed.push((1, key_in_witness));
    let mut extra_item = tx.clone();
    extra_item.input[1].witness.push([0x51]);
    changed.push((1, extra_item));
    let mut no_signature = tx;
    no_signature.input[1].witness = bitcoin::Witness::new();
    changed.push((1, no_signature));
    for (input, tx) in changed {
        let mut lie = result.clone();
        lie.serialized_tx = serialize(&tx);
        let e = finish::finish(&raw, &psbt, &p, lie).unwrap_err();
        assert_eq!(e.code(), "protocol", "{e}");
        assert!(e.to_string().contains(&format!("input {input}:")), "{e}");
    }
}
