//! MuSig2 (BIP-327) between two simulated Ledgers (two seeds): `musig()` policies
//! registered and shown, both rounds of SIGN_PSBT, the partial signatures aggregated,
//! and the final transaction's Schnorr signature checked against the BIP-341 sighash
//! with rust-bitcoin alone.
#![cfg(all(not(target_arch = "wasm32"), feature = "musig"))]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{schnorr, Message, Secp256k1, XOnlyPublicKey};
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash};
use bitcoin::{Transaction, TxOut};
use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::ledger::Ledger;
use hwsigner::protocol::musig::fields;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::protocol::psbt::signature::InputSignature;
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::ledger::serve::apdu_transport;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, FOREIGN_MNEMONIC, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::transport::memory::MemoryTransport;

type Dev = Ledger<MemoryTransport>;

fn ledger(mnemonic: &str, faults: Faults) -> (Dev, Rc<RefCell<SimLedger>>) {
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions {
        mnemonic: mnemonic.into(),
        faults,
        ..Default::default()
    })));
    (Ledger::new(apdu_transport(sim.clone())), sim)
}

fn seed(m: &str) -> Seed {
    Seed::from_mnemonic(m, "").unwrap()
}

/// `tr(musig(@0,@1)/**)`: the 2-of-2 on the key path.
fn key_path_policy() -> WalletPolicy {
    let keys = vec![
        common::fund::key_info(&seed(SPECULOS_MNEMONIC), "m/87'/1'/0'"),
        common::fund::key_info(&seed(TREZOR_TEST_MNEMONIC), "m/87'/1'/0'"),
    ];
    WalletPolicy::new("MuSig key path", "tr(musig(@0,@1)/**)", keys).unwrap()
}

/// `tr(@0/**,pk(musig(@1,@2)/**))`: a third party's internal key, the 2-of-2 in a leaf.
fn script_path_policy() -> WalletPolicy {
    let keys = vec![
        common::fund::key_info(&seed(FOREIGN_MNEMONIC), "m/86'/1'/0'"),
        common::fund::key_info(&seed(SPECULOS_MNEMONIC), "m/87'/1'/0'"),
        common::fund::key_info(&seed(TREZOR_TEST_MNEMONIC), "m/87'/1'/0'"),
    ];
    WalletPolicy::new("MuSig leaf", "tr(@0/**,pk(musig(@1,@2)/**))", keys).unwrap()
}

fn sign(
    dev: &mut Dev,
    psbt: &RawPsbt,
    policy: &WalletPolicy,
    hmac: [u8; 32],
) -> hwsigner::Result<hwsigner::psbt::Signed> {
    let opts = SignOptions::default().with_policy(policy.clone(), Some(hmac));
    block_on(dev.sign_psbt(psbt, &opts))
}

fn count(psbt: &RawPsbt, key_type: u8) -> usize {
    psbt.inputs
        .iter()
        .flatten()
        .filter(|(k, _)| k.first() == Some(&key_type))
        .count()
}

/// Checks input `i`'s witness with rust-bitcoin: a BIP-340 signature over the BIP-341
/// sighash, by the output key (key path) or by the leaf's key, the leaf committed to
/// by the output key (script path).
fn check_witness(tx: &Transaction, prevouts: &[TxOut], i: usize, leaf_spend: bool) {
    let secp = Secp256k1::verification_only();
    let witness: Vec<&[u8]> = tx.input[i].witness.iter().collect();
    let output_key =
        XOnlyPublicKey::from_slice(&prevouts[i].script_pubkey.as_bytes()[2..]).unwrap();
    let mut cache = SighashCache::new(tx);
    let sig = schnorr::Signature::from_slice(witness[0]).unwrap();
    if !leaf_spend {
        assert_eq!(witness.len(), 1, "input {i}: key-path witness");
        let hash = cache
            .taproot_key_spend_signature_hash(
                i,
                &Prevouts::All(prevouts),
                bitcoin::TapSighashType::Default,
            )
            .unwrap();
        secp.verify_schnorr(
            &sig,
            &Message::from_digest(hash.to_byte_array()),
            &output_key,
        )
        .unwrap();
        return;
    }
    assert_eq!(witness.len(), 3, "input {i}: script-path witness");
    let script = bitcoin::ScriptBuf::from_bytes(witness[1].to_vec());
    let control = ControlBlock::decode(witness[2]).unwrap();
    assert!(control.verify_taproot_commitment(&secp, output_key, &script));
    // pk(K): <K> OP_CHECKSIG
    let bytes = script.as_bytes();
    assert_eq!((bytes.len(), bytes[0], bytes[33]), (34, 0x20, 0xac));
    let key = XOnlyPublicKey::from_slice(&bytes[1..33]).unwrap();
    let leaf = TapLeafHash::from_script(&script, LeafVersion::TapScript);
    let hash = cache
        .taproot_script_spend_signature_hash(
            i,
            &Prevouts::All(prevouts),
            leaf,
            bitcoin::TapSighashType::Default,
        )
        .unwrap();
    secp.verify_schnorr(&sig, &Message::from_digest(hash.to_byte_array()), &key)
        .unwrap();
}

/// Registers on both, checks the address at 0/1 on both, runs both rounds, finalizes,
/// and checks the final witnesses.
fn two_of_two(policy: &WalletPolicy, leaf_spend: bool) {
    let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
    let (mut b, _) = ledger(TREZOR_TEST_MNEMONIC, Faults::none());
    let ra = block_on(a.register_policy(policy)).unwrap();
    let rb = block_on(b.register_policy(policy)).unwrap();
    assert_eq!((ra.id, rb.id), (policy.id(), policy.id()));
    assert_ne!(ra.hmac, rb.hmac, "each device has its own hmac key");
    let shown_a = block_on(a.address(policy, Some(&ra.hmac), false, 1, true)).unwrap();
    let shown_b = block_on(b.address(policy, Some(&rb.hmac), false, 1, true)).unwrap();
    assert_eq!(shown_a, shown_b);
    assert!(shown_a.starts_with("tb1p"), "{shown_a}");

    let funded = common::fund::funded_psbt(policy, 2);
    let p0 = RawPsbt::parse(&funded.serialize()).unwrap();
    let prevouts: Vec<TxOut> = funded
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    assert_eq!(
        count(&p0, fields::IN_PARTICIPANT_PUBKEYS),
        2,
        "participants listed per input"
    );

    // Round 1 from device to device: each adds its nonces.
    let r1a = sign(&mut a, &p0, policy, ra.hmac).unwrap();
    assert_eq!(count(&r1a.psbt, fields::IN_PUB_NONCE), 2);
    assert!(r1a
        .signatures
        .iter()
        .all(|(_, s)| matches!(s, InputSignature::MusigPubNonce { .. })));
    let r1b = sign(&mut b, &r1a.psbt, policy, rb.hmac).unwrap();
    assert_eq!(count(&r1b.psbt, fields::IN_PUB_NONCE), 4);
    assert_eq!(r1b.signatures.len(), 2);
    // The first device's nonces are still there, byte for byte.
    for (k, v) in r1a.psbt.inputs.iter().flatten() {
        assert!(r1b
            .psbt
            .inputs
            .iter()
            .flatten()
            .any(|(k2, v2)| k2 == k && v2 == v));
    }
    // Round 2.
    let r2a = sign(&mut a, &r1b.psbt, policy, ra.hmac).unwrap();
    assert_eq!(count(&r2a.psbt, fields::IN_PARTIAL_SIG), 2);
    assert!(r2a
        .signatures
        .iter()
        .all(|(_, s)| matches!(s, InputSignature::MusigPartialSig { .. })));
    // Only one participant's partial signatures: not final yet.
    let e = hwsigner::device::finalize(&r2a.psbt).unwrap_err();
    assert_eq!(e.code(), "invalid-input");
    assert!(e.to_string().contains("1 of 2 participants"), "{e}");
    let r2b = sign(&mut b, &r2a.psbt, policy, rb.hmac).unwrap();
    assert_eq!(count(&r2b.psbt, fields::IN_PARTIAL_SIG), 4);
    let (_, tx) = hwsigner::device::finalize(&r2b.psbt).unwrap();
    for i in 0..2 {
        check_witness(&tx, &prevouts, i, leaf_spend);
    }
}

#[test]
fn key_path_two_of_two_from_policy_to_final_transaction() {
    two_of_two(&key_path_policy(), false);
}

#[test]
fn script_path_two_of_two_from_policy_to_final_transaction() {
    two_of_two(&script_path_policy(), true);
}

/// Both devices' nonces for `policy` (round 1 done), and their hmacs.
fn after_round1(policy: &WalletPolicy, a: &mut Dev, b: &mut Dev) -> (RawPsbt, [u8; 32], [u8; 32]) {
    let ra = block_on(a.register_policy(policy)).unwrap().hmac;
    let rb = block_on(b.register_policy(policy)).unwrap().hmac;
    let p0 = RawPsbt::parse(&common::fund::funded_psbt(policy, 2).serialize()).unwrap();
    let r1a = sign(a, &p0, policy, ra).unwrap();
    let r1b = sign(b, &r1a.psbt, policy, rb).unwrap();
    (r1b.psbt, ra, rb)
}

#[test]
fn partial_signatures_that_do_not_verify_are_refused() {
    let policy = key_path_policy();
    for fault in [
        Fault::BadSignature,
        Fault::OtherSighash,
        Fault::ForeignPubkey,
    ] {
        let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
        let (mut b, sim_b) = ledger(TREZOR_TEST_MNEMONIC, Faults::none());
        let (nonces, _, rb) = after_round1(&policy, &mut a, &mut b);
        sim_b.borrow_mut().set_faults(Faults(vec![fault]));
        let e = sign(&mut b, &nonces, &policy, rb).unwrap_err();
        assert_eq!(e.code(), "protocol", "{fault:?}: {e}");
        let why = if fault == Fault::ForeignPubkey {
            "a session the input does not have"
        } else {
            "partial signature that does not verify"
        };
        assert!(e.to_string().contains(why), "{fault:?}: {e}");
    }
}

#[test]
fn a_nonce_for_another_participant_is_refused() {
    let policy = script_path_policy();
    let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults(vec![Fault::ForeignPubkey]));
    let hmac = block_on(a.register_policy(&policy)).unwrap().hmac;
    let p0 = RawPsbt::parse(&common::fund::funded_psbt(&policy, 1).serialize()).unwrap();
    let e = sign(&mut a, &p0, &policy, hmac).unwrap_err();
    assert_eq!(e.code(), "protocol");
    assert!(
        e.to_string()
            .starts_with("protocol error: input 0: the device returned musig2 data of"),
        "{e}"
    );
}

#[test]
fn a_session_signs_once_and_only_on_the_device_that_made_its_nonces() {
    let policy = key_path_policy();
    let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
    let (mut b, _) = ledger(TREZOR_TEST_MNEMONIC, Faults::none());
    let (nonces, ra, _) = after_round1(&policy, &mut a, &mut b);
    sign(&mut a, &nonces, &policy, ra).unwrap();
    // The app deleted the session when round 2 began: a second round 2 fails.
    let e = sign(&mut a, &nonces, &policy, ra).unwrap_err();
    assert!(
        matches!(e, hwsigner::Error::Device { code: 0xb007, .. }),
        "{e:?}"
    );
    // The same seed on another device (no session): also 0xb007.
    let (mut a2, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
    let e = sign(&mut a2, &nonces, &policy, ra).unwrap_err();
    assert!(
        matches!(e, hwsigner::Error::Device { code: 0xb007, .. }),
        "{e:?}"
    );
}

#[test]
fn a_partial_signature_changed_in_the_psbt_does_not_aggregate() {
    let policy = key_path_policy();
    let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
    let (mut b, _) = ledger(TREZOR_TEST_MNEMONIC, Faults::none());
    let (nonces, ra, rb) = after_round1(&policy, &mut a, &mut b);
    let r2a = sign(&mut a, &nonces, &policy, ra).unwrap();
    let mut r2b = sign(&mut b, &r2a.psbt, &policy, rb).unwrap().psbt;
    let (_, sig) = r2b.inputs[1]
        .iter_mut()
        .find(|(k, _)| k[0] == fields::IN_PARTIAL_SIG)
        .unwrap();
    sig[31] ^= 1;
    let e = hwsigner::device::finalize(&r2b).unwrap_err();
    assert_eq!(e.code(), "invalid-input");
    assert!(e.to_string().contains("input 1"), "{e}");
    assert!(e.to_string().contains("do not aggregate"), "{e}");
}

#[path = "common/peers.rs"]
mod peers;

/// Serves a simulated Ledger with `mnemonic` on a free local port (Speculos protocol).
fn serve(mnemonic: &str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mnemonic = mnemonic.to_string();
    std::thread::spawn(move || {
        hwsigner::sim::ledger::serve::serve_speculos_on(
            listener,
            SimLedger::new(SimLedgerOptions {
                mnemonic,
                ..Default::default()
            }),
        )
    });
    port
}

/// The BIP-373 entries of each input, sorted.
fn musig_fields(psbt: &RawPsbt) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let musig = [
        fields::IN_PARTICIPANT_PUBKEYS,
        fields::IN_PUB_NONCE,
        fields::IN_PARTIAL_SIG,
    ];
    psbt.inputs
        .iter()
        .map(|m| {
            let mut v: Vec<_> = m
                .iter()
                .filter(|(k, _)| musig.contains(&k[0]))
                .cloned()
                .collect();
            v.sort();
            v
        })
        .collect()
}

/// Ledger's Python client runs both rounds on two simulated Ledgers: the same wallet
/// ids, addresses and BIP-373 fields as hwsigner's own flow, and hwsigner aggregates
/// what it got into a transaction that verifies.
fn python_client_flow(policy: &WalletPolicy, sessions: usize, leaf_spend: bool) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    if !peers::installed(&python, "the venv with ledger-bitcoin") {
        return;
    }
    let funded = common::fund::funded_psbt(policy, 2);
    let p0 = RawPsbt::parse(&funded.serialize()).unwrap();
    let job = serde_json::json!({
        "name": policy.name, "template": policy.template, "keys": policy.keys,
        "psbt": hwsigner::protocol::psbt::raw::encode_base64(&p0.serialize()),
    });
    let mut child = std::process::Command::new(python)
        .arg(root.join("tests/python/ledger_musig_client.py"))
        .arg(serve(SPECULOS_MNEMONIC).to_string())
        .arg(serve(TREZOR_TEST_MNEMONIC).to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let host_address =
        hwsigner::policy::derive_address(policy, false, 1, bitcoin::Network::Testnet).unwrap();
    for d in got["devices"].as_array().unwrap() {
        assert_eq!(d["version"], "2.4.6");
        assert_eq!(
            d["wallet_id"],
            hwsigner::protocol::bytes::to_hex(&policy.id())
        );
        assert_eq!(d["address"], host_address);
    }
    let py1 =
        hwsigner::protocol::psbt::raw::decode(got["round1"].as_str().unwrap().as_bytes()).unwrap();
    let py2 =
        hwsigner::protocol::psbt::raw::decode(got["round2"].as_str().unwrap().as_bytes()).unwrap();

    // hwsigner's flow on fresh devices with the same seeds (the simulator's nonces are
    // a function of its seed and the session).
    let (mut a, _) = ledger(SPECULOS_MNEMONIC, Faults::none());
    let (mut b, _) = ledger(TREZOR_TEST_MNEMONIC, Faults::none());
    let (ours1, ra, rb) = after_round1(policy, &mut a, &mut b);
    assert_eq!(musig_fields(&ours1), musig_fields(&py1), "round 1 fields");
    assert_eq!(count(&py1, fields::IN_PUB_NONCE), 4 * sessions);
    let r2a = sign(&mut a, &ours1, policy, ra).unwrap();
    let ours2 = sign(&mut b, &r2a.psbt, policy, rb).unwrap().psbt;
    assert_eq!(musig_fields(&ours2), musig_fields(&py2), "round 2 fields");
    assert_eq!(count(&py2, fields::IN_PARTIAL_SIG), 4 * sessions);

    let (_, tx) = hwsigner::device::finalize(&py2).unwrap();
    let prevouts: Vec<TxOut> = funded
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    for i in 0..2 {
        check_witness(&tx, &prevouts, i, leaf_spend);
    }
}

#[test]
fn ledgers_python_client_runs_the_key_path_flow() {
    python_client_flow(&key_path_policy(), 1, false);
}

#[test]
fn ledgers_python_client_runs_the_script_path_flow() {
    python_client_flow(&script_path_policy(), 1, true);
}

/// Finalizing asked before every participant signed returns the round's PSBT (the
/// device's partial signatures are one-time); the signer that completes the set gets
/// the transaction.
#[test]
fn finalize_waits_for_every_partial_signature() {
    use hwsigner::device::Device;
    let policy = key_path_policy();
    let sim = |m: &str| {
        Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions {
            mnemonic: m.into(),
            ..Default::default()
        })))
    };
    let mut a = Device::ledger(Box::new(apdu_transport(sim(SPECULOS_MNEMONIC))));
    let mut b = Device::ledger(Box::new(apdu_transport(sim(TREZOR_TEST_MNEMONIC))));
    let ha = block_on(a.register_policy(&policy)).unwrap().hmac;
    let hb = block_on(b.register_policy(&policy)).unwrap().hmac;
    let opts = |h| {
        SignOptions::default()
            .with_policy(policy.clone(), Some(h))
            .finalize(true)
    };
    let mut psbt = RawPsbt::parse(&common::fund::funded_psbt(&policy, 2).serialize()).unwrap();
    for (who, last) in [(0, false), (1, false), (0, false), (1, true)] {
        let (dev, h) = if who == 0 { (&mut a, ha) } else { (&mut b, hb) };
        let signed = block_on(dev.sign_psbt(&psbt, &opts(h))).unwrap();
        assert_eq!(signed.transaction.is_some(), last);
        psbt = signed.psbt;
    }
    assert_eq!(
        count(&psbt, fields::IN_PARTIAL_SIG),
        0,
        "finalized: BIP-174 drops the partial fields"
    );
}

/// n devices, `sessions` MuSig2 sessions per input and device: every round adds one
/// nonce (then one partial signature) per session and device, and the result verifies.
fn n_of_n(policy: &WalletPolicy, seeds: &[&str], sessions: usize, leaf_spend: bool) {
    let mut devices: Vec<(Dev, [u8; 32])> = seeds
        .iter()
        .map(|m| {
            let (mut d, _) = ledger(m, Faults::none());
            let hmac = block_on(d.register_policy(policy)).unwrap().hmac;
            (d, hmac)
        })
        .collect();
    let funded = common::fund::funded_psbt(policy, 2);
    let prevouts: Vec<TxOut> = funded
        .inputs
        .iter()
        .map(|i| i.witness_utxo.clone().unwrap())
        .collect();
    let mut psbt = RawPsbt::parse(&funded.serialize()).unwrap();
    for (key_type, what) in [
        (fields::IN_PUB_NONCE, "nonces"),
        (fields::IN_PARTIAL_SIG, "partial signatures"),
    ] {
        for (k, (dev, hmac)) in devices.iter_mut().enumerate() {
            let signed = sign(dev, &psbt, policy, *hmac).unwrap();
            assert_eq!(signed.signatures.len(), 2 * sessions, "device {k}: {what}");
            psbt = signed.psbt;
            assert_eq!(
                count(&psbt, key_type),
                2 * sessions * (k + 1),
                "after device {k}: {what}"
            );
        }
    }
    let (_, tx) = hwsigner::device::finalize(&psbt).unwrap();
    for i in 0..2 {
        check_witness(&tx, &prevouts, i, leaf_spend);
    }
}

#[test]
fn three_of_three_on_the_key_path() {
    let seeds = [SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC, FOREIGN_MNEMONIC];
    let keys = seeds
        .iter()
        .map(|m| common::fund::key_info(&seed(m), "m/87'/1'/0'"))
        .collect();
    let policy = WalletPolicy::new("3 of 3", "tr(musig(@0,@1,@2)/**)", keys).unwrap();
    n_of_n(&policy, &seeds, 1, false);
}

#[test]
fn the_same_keys_on_the_key_path_and_in_a_leaf() {
    // Two expressions (positions 0 and 1): two sessions per input and device; the
    // finalizer spends the key path.
    let keys = vec![
        common::fund::key_info(&seed(SPECULOS_MNEMONIC), "m/87'/1'/0'"),
        common::fund::key_info(&seed(TREZOR_TEST_MNEMONIC), "m/87'/1'/0'"),
    ];
    let policy =
        WalletPolicy::new("Both", "tr(musig(@0,@1)/**,pk(musig(@0,@1)/<2;3>/*))", keys).unwrap();
    n_of_n(
        &policy,
        &[SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC],
        2,
        false,
    );
}

#[test]
fn a_musig_leaf_among_other_leaves() {
    let keys = vec![
        common::fund::key_info(&seed(FOREIGN_MNEMONIC), "m/86'/1'/0'"),
        common::fund::key_info(&seed(SPECULOS_MNEMONIC), "m/87'/1'/0'"),
        common::fund::key_info(&seed(TREZOR_TEST_MNEMONIC), "m/87'/1'/0'"),
    ];
    let policy = WalletPolicy::new(
        "Leaves",
        "tr(@0/**,{and_v(v:pk(@0/<2;3>/*),older(144)),pk(musig(@1,@2)/**)})",
        keys,
    )
    .unwrap();
    n_of_n(&policy, &[SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC], 1, true);
}

#[test]
fn ledgers_python_client_runs_a_policy_with_two_musig_expressions() {
    let keys = vec![
        common::fund::key_info(&seed(SPECULOS_MNEMONIC), "m/87'/1'/0'"),
        common::fund::key_info(&seed(TREZOR_TEST_MNEMONIC), "m/87'/1'/0'"),
    ];
    let policy =
        WalletPolicy::new("Both", "tr(musig(@0,@1)/**,pk(musig(@0,@1)/<2;3>/*))", keys).unwrap();
    python_client_flow(&policy, 2, false);
}
