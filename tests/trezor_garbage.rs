//! Random and mutated bytes from a "device" never panic the host: every answer is a
//! result or a typed error.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use bitcoin::bip32::Fingerprint;
use hwsigner::protocol::machine::{Machine, Step};
use hwsigner::protocol::trezor::btc::{keys, message, plan, sign_tx, Coin};
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
    let (_, psbt) = psbt_of(&case);
    let fpr = Fingerprint::from([0x5c, 0x9e, 0x22, 0x8d]);
    let p = plan::build(&psbt, fpr, None).unwrap();
    let mut outcomes = [0usize; 2];
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
            Some(Ok(_)) => outcomes[0] += 1,
            Some(Err(e)) => {
                assert!(CODES.contains(&e.code()), "{e}");
                outcomes[1] += 1;
            }
            None => {}
        }
    }
    assert!(
        outcomes[1] > 0,
        "some mutations must be caught: {outcomes:?}"
    );
}
