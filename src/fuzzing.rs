//! Fuzz entry points: one function per decoder that reads untrusted bytes (from a
//! device, a caller or a host). Each calls the real code; none may panic. Where a
//! result is defined, it must also round-trip: what a decoder accepts, encoded again
//! and decoded, is the same (framing, APDU replies, Trezor messages, PSBTs, paths), and
//! every Merkle proof of a tree leads to the tree's root (and not with another leaf).
//! A broken property panics (through `holds`), so the fuzzer reports it like a crash.
//! Used by the cargo-fuzz targets in `fuzz/` and by `tests/fuzz_regressions.rs`.

use crate::protocol::ledger::btc::interpreter::Interpreter;
use crate::protocol::ledger::btc::merkle::{self, Hash32, MerkleTree};
use crate::protocol::ledger::btc::store::Store;
use crate::protocol::machine::{Answer, Machine, Need, Passphrase, Step};
use crate::protocol::policy::WalletPolicy;
use crate::protocol::trezor::btc::{keys, message, Coin};
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{self as msg, InputScriptType};

/// A property every input must keep; a broken one panics, which the fuzzer reports.
#[allow(
    clippy::panic,
    reason = "a fuzz target reports a broken property by panicking"
)]
fn holds(ok: bool, property: &str) {
    if !ok {
        panic!("fuzz property broken: {property}");
    }
}

/// Splits `data` into length-prefixed records (one length byte, then that many bytes;
/// the last record takes what is left).
fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (record, next) = tail.split_at(n);
        out.push(record);
        rest = next;
    }
    out
}

/// Ledger HID framing: `data` as 64-byte reports into one decoder; every message it
/// gives, framed again, decodes to itself.
pub fn ledger_framing(data: &[u8]) {
    use crate::protocol::ledger::framing::{encode, Decoder};
    let mut decoder = Decoder::new(0x0101);
    for chunk in data.chunks(64) {
        if let Ok(Some(message)) = decoder.push(chunk) {
            decoder = Decoder::new(0x0101);
            let again = encode(0x0101, &message).map(|reports| {
                let mut d = Decoder::new(0x0101);
                reports.iter().map(|r| d.push(r)).last()
            });
            holds(
                matches!(again, Ok(Some(Ok(Some(ref m)))) if *m == message),
                "ledger framing: a decoded message, encoded again, decodes to itself",
            );
        }
    }
}

/// A Ledger APDU reply: data and status word are the reply, split.
pub fn apdu_response(data: &[u8]) {
    if let Ok(r) = crate::protocol::ledger::apdu::Response::parse(data) {
        let mut again = r.data.clone();
        again.extend_from_slice(&r.sw.to_be_bytes());
        holds(
            again == data,
            "apdu reply: data and status word are the reply",
        );
        let _ = r.ok();
    }
}

/// The Bitcoin app's client commands, answered from a store with some elements.
pub fn interpreter(data: &[u8]) {
    let mut store = Store::new();
    store.add_preimage(b"preimage".to_vec());
    store.add_preimage(vec![0xaa; 300]);
    store.add_list(&[b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
    let many: Vec<Vec<u8>> = (0u8..20).map(|i| vec![i; usize::from(i) * 20]).collect();
    store.add_list(&many);
    store.add_map(&[
        (b"k1".to_vec(), b"v1".to_vec()),
        (b"k2".to_vec(), vec![7; 100]),
    ]);
    let mut interpreter = Interpreter::new(store);
    for command in records(data) {
        let _ = interpreter.execute(command);
    }
    let _ = interpreter.take_yielded();
}

/// Merkle proofs: a tree size, index, leaf and proof from `data`.
pub fn merkle_proof(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let size = usize::from(u16::from_be_bytes([head[0], head[1]]));
    let index = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let mut hashes = rest
        .chunks_exact(32)
        .filter_map(|c| Hash32::try_from(c).ok());
    let leaf = hashes.next().unwrap_or([0; 32]);
    let proof: Vec<Hash32> = hashes.collect();
    let _ = merkle::root_from_proof(size, index, leaf, &proof);
    let tree = MerkleTree::from_elements(&records(rest));
    if let (Some(p), Some(l)) = (tree.proof(index), tree.leaf(index)) {
        holds(
            merkle::root_from_proof(tree.len(), index, l, &p) == Some(tree.root()),
            "merkle: the proof of a leaf leads to the tree's root",
        );
        let mut other = l;
        other[0] ^= 1;
        holds(
            merkle::root_from_proof(tree.len(), index, other, &p) != Some(tree.root()),
            "merkle: the proof with another leaf does not lead to the tree's root",
        );
        let found = tree.index_of(&l);
        holds(
            found.and_then(|i| tree.leaf(i)) == Some(l),
            "merkle: a leaf of the tree is found where it is",
        );
    }
    let _ = tree.index_of(&leaf);
}

/// Trezor codec v1: `data` as 64-byte packets into one decoder, and as one message;
/// whatever either gives, encoded again, decodes to itself.
pub fn trezor_framing(data: &[u8]) {
    use crate::protocol::trezor::framing::{decode_message, encode, encode_message, Decoder};
    if let Ok((ty, payload)) = decode_message(data) {
        holds(
            encode_message(ty, &payload).ok().as_deref() == Some(data),
            "trezor message link: a decoded message, encoded again, is the same bytes",
        );
    }
    let mut decoder = Decoder::new();
    for chunk in data.chunks(64) {
        if let Ok(Some((ty, payload))) = decoder.push(chunk) {
            decoder = Decoder::new();
            let again = encode(ty, &payload).map(|packets| {
                let mut d = Decoder::new();
                packets.iter().map(|p| d.push(p)).last()
            });
            holds(
                matches!(again, Ok(Some(Ok(Some((t, ref p))))) if t == ty && *p == payload),
                "trezor framing: a decoded message, encoded again, decodes to itself",
            );
        }
    }
}

/// Feeds one reply, answering a need at once (a PIN of positions, an empty
/// passphrase) so the answer path is fuzzed too. False once the call ended.
fn step<T: 'static>(call: &mut Call<T>, ty: u16, payload: &[u8]) -> bool {
    let mut step = call.on_reply((ty, payload.to_vec()));
    loop {
        step = match step {
            Ok(Step::Send(_)) => return true,
            Ok(Step::Need(Need::Pin(_))) => call.on_answer(Answer::Pin("159".into())),
            Ok(Step::Need(_)) => {
                call.on_answer(Answer::Passphrase(Passphrase::Text(String::new())))
            }
            Ok(Step::Done(_)) | Err(_) => return false,
        }
    }
}

fn feed<T: 'static>(mut call: Call<T>, data: &[u8]) {
    let _ = call.start();
    for record in records(data) {
        let Some((ty, payload)) = record.split_first_chunk::<2>() else {
            return;
        };
        if !step(&mut call, u16::from_be_bytes(*ty), payload) {
            return;
        }
    }
}

/// Trezor protobuf replies: every message type the host decodes, and the call machines
/// fed `data` as a stream of (type, payload) replies.
pub fn trezor_messages(data: &[u8]) {
    let _ = msg::decode::<msg::Success>(data);
    let _ = msg::decode::<msg::Failure>(data);
    if let Ok(key) = msg::decode::<msg::PublicKey>(data) {
        let (_, again) = msg::encode(&key);
        holds(
            msg::decode::<msg::PublicKey>(&again).ok() == Some(key),
            "trezor messages: a decoded publickey, encoded again, decodes to itself",
        );
    }
    let _ = msg::decode::<msg::PinMatrixRequest>(data);
    let _ = msg::decode::<msg::TxRequest>(data);
    let _ = msg::decode::<msg::ButtonRequest>(data);
    let _ = msg::decode::<msg::Address>(data);
    let _ = msg::decode::<msg::MessageSignature>(data);
    let _ = msg::decode::<msg::PassphraseRequest>(data);
    if let Ok(f) = msg::decode::<msg::Features>(data) {
        let _ = crate::protocol::trezor::features::check(&f);
    }
    let Ok(path) = crate::protocol::path::parse("m/84'/0'/0'/0/0") else {
        return;
    };
    let st = InputScriptType::SPENDWITNESS;
    let selector = data.first().copied().unwrap_or(0) % 5;
    let rest = data.get(1..).unwrap_or_default();
    match selector {
        0 => feed(
            keys::get_address(&path, Coin::Bitcoin, st, None, false),
            rest,
        ),
        1 => feed(keys::get_public_key(&path, Coin::Bitcoin, st, false), rest),
        2 => feed(keys::master_fingerprint(), rest),
        3 => feed(
            message::sign_message(&path, Coin::Testnet, st, b"hello"),
            rest,
        ),
        _ => feed(
            message::verify_message("bc1qxyz", &[0; 65], b"hello", Coin::Bitcoin),
            rest,
        ),
    }
}

/// A PSBT (v0 or v2): parsed, converted to `bitcoin`'s type and to v2 maps, its sighash
/// types checked and its summary made; what parses, serialized again, parses to itself.
pub fn psbt(data: &[u8]) {
    if let Ok(raw) = crate::protocol::psbt::raw::decode(data) {
        if let Ok(view) = raw.view() {
            let _ = crate::protocol::psbt::sighash::check(&view, false);
        }
        // The summary with the simulated Ledger's fingerprint: change checks run on
        // every output that claims it.
        let fpr = bitcoin::bip32::Fingerprint::from([0xf5, 0xac, 0xc2, 0xfd]);
        let _ = crate::protocol::psbt::summary::summarize(&raw, Some(fpr));
        let _ = raw.to_v2_maps();
        let _ = raw.unsigned_tx();
        let again = crate::protocol::psbt::raw::RawPsbt::parse(&raw.serialize());
        holds(
            again.as_ref().ok() == Some(&raw),
            "psbt: a parsed psbt, serialized again, parses to itself",
        );
        // MuSig2 (BIP-373) fields: what finalizing and signing read.
        #[cfg(feature = "musig")]
        {
            let _ = crate::protocol::musig::pending(&raw);
            let _ = crate::protocol::musig::aggregate(&raw);
        }
    }
}

/// BIP-388 wallet policies and descriptors from UTF-8 text: the whole text as a
/// descriptor, and its lines as a template followed by keys.
pub fn policy(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = crate::protocol::policy::descriptor::policy_from_descriptor(text, "fuzz") {
        let _ = p.policy.form();
        let _ =
            crate::protocol::policy::derive_address(&p.policy, false, 0, bitcoin::Network::Testnet);
        let _ = p.policy.serialize();
    }
    let mut lines = text.lines();
    let template = lines.next().unwrap_or_default();
    let keys: Vec<String> = lines.map(str::to_owned).collect();
    if let Ok(p) = WalletPolicy::new("fuzz", template, keys) {
        let _ = p.form();
        let _ = crate::protocol::policy::derive_address(&p, true, 1, bitcoin::Network::Bitcoin);
        let _ = p.serialize();
        #[cfg(feature = "musig")]
        let _ = crate::protocol::musig::spend::policy_groups(&p);
    }
}

/// BIP-32 paths from UTF-8 text.
pub fn path(data: &[u8]) {
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(p) = crate::protocol::path::parse(text) {
            let again = crate::protocol::path::parse(&crate::protocol::path::format(&p));
            holds(
                again.ok() == Some(p),
                "path: a parsed path, formatted again, parses to itself",
            );
        }
        let _ = crate::protocol::path::parse_any(text);
    }
}

/// HID report descriptors.
pub fn hid_report_descriptor(data: &[u8]) {
    let _ = crate::protocol::identify::report_descriptor::collections(data);
    let _ = crate::protocol::identify::report_descriptor::primary_usage_page(data);
}

/// The simulated Ledger's APDU decoder: `data` as length-prefixed APDUs.
#[cfg(feature = "simulator")]
pub fn sim_ledger(data: &[u8]) {
    let mut sim = crate::sim::ledger::SimLedger::new(Default::default());
    let _ = sim.apdu(data);
    for apdu in records(data) {
        let _ = sim.apdu(apdu);
    }
}

/// The simulated Trezor's packet decoder: `data` as 64-byte packets.
#[cfg(feature = "simulator")]
pub fn sim_trezor(data: &[u8]) {
    use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
    thread_local! {
        // Deriving the seed (PBKDF2) dominates a run; every run gets the same seed.
        static SEED: Option<Seed> = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").ok();
    }
    let Some(seed) = SEED.with(Clone::clone) else {
        return;
    };
    let mut sim = crate::sim::trezor::TrezorSim::new(
        seed,
        crate::sim::confirm::Confirm::Approve,
        crate::sim::fault::Faults::none(),
    );
    for packet in data.chunks(64) {
        if sim.handle_packet(packet).is_err() {
            return;
        }
    }
}

/// The plan [`trezor_sign_tx`] signs: two wpkh inputs of the Trezor test seed (with
/// their previous transactions) and change, on testnet.
#[cfg(feature = "simulator")]
pub fn trezor_sign_tx_plan() -> Option<crate::protocol::trezor::btc::plan::Plan> {
    use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").ok()?;
    let policy = crate::sim::sample::wpkh_policy(&seed, true).ok()?;
    let psbt = crate::sim::sample::funded_psbt(&policy, 2).ok()?;
    let view = crate::protocol::psbt::raw::RawPsbt::parse(&psbt.serialize())
        .ok()?
        .view()
        .ok()?;
    crate::protocol::trezor::btc::plan::build(&view, seed.fingerprint(), None).ok()
}

/// The Trezor SignTx call machine of a fixed plan ([`trezor_sign_tx_plan`]), fed
/// `data` as device replies (length-prefixed records of a big-endian message type and
/// its payload), cycled until the call ends. It must end, with a result or a typed
/// error, within its own limits (on TxRequests and on user interactions): a call
/// still running after far more replies than those allow is a bug, and panics so the
/// fuzzer reports it.
#[cfg(feature = "simulator")]
#[allow(
    clippy::panic,
    reason = "a fuzz target reports a call that never ends by panicking"
)]
pub fn trezor_sign_tx(data: &[u8]) {
    thread_local! {
        // Deriving the seed (PBKDF2) dominates a run; every run gets the same plan.
        static PLAN: Option<crate::protocol::trezor::btc::plan::Plan> = trezor_sign_tx_plan();
    }
    let Some(plan) = PLAN.with(Clone::clone) else {
        return;
    };
    let replies: Vec<(u16, &[u8])> = records(data)
        .into_iter()
        .filter_map(|r| {
            r.split_first_chunk::<2>()
                .map(|(ty, payload)| (u16::from_be_bytes(*ty), payload))
        })
        .collect();
    if replies.is_empty() {
        return;
    }
    let mut call = crate::protocol::trezor::btc::sign_tx::sign_tx(plan);
    let _ = call.start();
    let bound = crate::protocol::trezor::call::MAX_INTERACTIONS + 100_000;
    for (ty, payload) in replies.iter().cycle().take(bound) {
        if !step(&mut call, *ty, payload) {
            return;
        }
    }
    panic!("the signtx call machine took {bound} replies without ending");
}

/// THP framing on the host: `data` as 64-byte packets into a channel that waits for
/// an ACK and a message, and into an allocation that waits for its response; the
/// retransmission timer fires between packets.
pub fn thp_framing(data: &[u8]) {
    use crate::protocol::thp::channel::{Allocation, Channel};
    use crate::protocol::thp::packet::{ctrl, Push, Reassembler};
    let mut channel = Channel::new(0x1234);
    let mut now = 0u64;
    if channel.send(ctrl::ENCRYPTED, vec![1, 2, 3], now).is_err() {
        return;
    }
    let mut allocation = Allocation::default();
    let mut reassembler = Reassembler::new();
    let nonce = [0u8; 8];
    for packet in data.chunks(64) {
        now += 100;
        if let Push::Frame(f) = reassembler.push(packet) {
            let _ = f.to_reports();
        }
        let _ = allocation.on_packet(packet, &nonce);
        match channel.on_packet(packet, now) {
            Ok(_) => {
                let _ = channel.take_outgoing();
            }
            Err(_) => {
                channel = Channel::new(0x1234);
                let _ = channel.send(ctrl::ENCRYPTED, vec![4], now);
            }
        }
        if channel.deadline().is_some_and(|d| d <= now) && channel.on_timeout(now).is_err() {
            channel = Channel::new(0x1234);
        }
    }
}

/// The THP handshake and pairing on the host: a real device handshake whose messages
/// are changed by XOR masks from `data` (records), then the host's session keys and the
/// pairing machine fed with the records that follow (as encrypted responses and as
/// `type u16 BE | protobuf` messages).
pub fn thp_handshake(data: &[u8]) {
    use crate::protocol::thp::credentials::Credential;
    use crate::protocol::thp::noise::{public_key, DeviceHandshake, HostHandshake, STATE_PAIRED};
    use crate::protocol::thp::pairing::{HandshakeFacts, Pairing, PairingRandom};
    let xor = |bytes: &mut Vec<u8>, mask: &[u8]| {
        for (b, m) in bytes.iter_mut().zip(mask.iter().cycle()) {
            *b ^= m;
        }
        if mask.len() > bytes.len() {
            bytes.extend_from_slice(mask.get(bytes.len()..).unwrap_or_default());
        }
    };
    let records = records(data);
    let mut records = records.into_iter();
    let prologue = b"\x0a\x04T3W1\x18\x02\x20\x00\x28\x02";
    let (host, init) = HostHandshake::start(prologue, [1; 32], true);
    let Ok((device, mut response)) = DeviceHandshake::respond(prologue, &init, [2; 32], [3; 32])
    else {
        return;
    };
    let first = records.next().unwrap_or_default();
    // Arbitrary bytes as the response too, then the masked real one.
    let credentials = [Credential {
        trezor_static: public_key([3; 32]),
        host_private: [4; 32],
        credential: vec![9; 10],
    }];
    let _ = HostHandshake::start(prologue, [1; 32], false)
        .0
        .on_init_response(first, &credentials, [5; 32]);
    xor(&mut response, first);
    let Ok(completion) = host.on_init_response(&response, &credentials, [5; 32]) else {
        return;
    };
    let Ok(done) = device.on_completion_request(&completion.request) else {
        return;
    };
    let mut state = done.response(STATE_PAIRED);
    xor(&mut state, records.next().unwrap_or_default());
    let Ok((mut keys, _)) = completion.on_completion_response(&state) else {
        return;
    };
    let mut pairing = Pairing::new(
        HandshakeFacts {
            handshake_hash: completion.handshake_hash,
            device_ephemeral: completion.device_ephemeral,
            masked_static: completion.masked_static,
            host_static: completion.host_static,
        },
        PairingRandom {
            challenge: [6; 16],
            cpace_private: [7; 32],
        },
        vec![2],
        "host",
        "app",
    );
    let _ = pairing.start();
    for record in records {
        let _ = keys.open_response(record);
        let _ = crate::protocol::thp::parse_app_message(record);
        let (ty, payload) = match record {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest.to_vec()),
            _ => continue,
        };
        match pairing.on_reply((ty, payload)) {
            Ok(Step::Need(Need::PairingCode)) => {
                let _ = pairing.on_answer(Answer::PairingCode("123456".into()));
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// The simulated Safe 7 against a hostile host: `data` as 64-byte packets.
#[cfg(feature = "simulator")]
pub fn sim_safe7(data: &[u8]) {
    use crate::sim::seed::{Seed, TREZOR_TEST_MNEMONIC};
    thread_local! {
        static SEED: Option<Seed> = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").ok();
    }
    let Some(seed) = SEED.with(Clone::clone) else {
        return;
    };
    let inner = crate::sim::trezor::TrezorSim::new(
        seed,
        crate::sim::confirm::Confirm::Approve,
        crate::sim::fault::Faults::none(),
    );
    let mut sim = crate::sim::trezor::Safe7Sim::new(inner);
    for packet in data.chunks(64) {
        if sim.handle_packet(packet).is_err() {
            return;
        }
        let _ = sim.idle();
    }
}
